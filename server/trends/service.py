"""Trend use cases: numbers and a chart over a patient's range."""

from collections.abc import Sequence
from datetime import date, timedelta

from server.auth.models import Principal
from server.checkins import service as checkins_service
from server.common.dates import resolve_range as resolve_dates
from server.common.settings import settings
from server.episodes import service as episodes_service
from server.instruments import service as instruments_service
from server.trends.calculations import (
    ROLLING_WINDOW_DAYS,
    TrendRules,
    align_by_episode,
    compute_trends,
    instrument_series,
    streak_ending,
    with_judgements,
)
from server.trends.chart import DEFAULT_SERIES, INSTRUMENT_SERIES

DEFAULT_RANGE_DAYS = 30
MAX_RANGE_DAYS = 366
CHART_MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
# Older dates are read in pages that double, so a long streak costs few statements.
FIRST_STREAK_PAGE = 64


def resolve_range(patient: Principal, start: date | None, end: date | None):
    """Apply the default range (last 30 days) and the cap (366 days)."""
    return resolve_dates(
        patient.timezone, start, end, default_days=DEFAULT_RANGE_DAYS, max_days=MAX_RANGE_DAYS
    )


def _first_day(logged: set[date], end: date, streak: int) -> date:
    """The first day of a streak counted by streak_ending."""
    last = end if end in logged else end - timedelta(days=1)
    return last - timedelta(days=streak - 1)


def current_streak(patient_id: str, end: date, logged: set[date], known_from: date) -> int:
    """Consecutive logged days ending at `end`, given every logged day from `known_from` on.

    Only while the streak reaches back to the edge of what is known are older dates read.
    """
    page = FIRST_STREAK_PAGE
    while True:
        streak = streak_ending(logged, end)
        if streak == 0 or _first_day(logged, end, streak) > known_from:
            return streak
        older = checkins_service.dates_before(patient_id, known_from, page)
        logged.update(older)
        if len(older) < page:
            known_from = date.min
        else:
            known_from = older[-1]
        page *= 2


def trends_for(
    patient: Principal,
    start: date,
    end: date,
    *,
    align: str = "calendar",
    instrument_ids: Sequence[str] = INSTRUMENT_SERIES,
    with_episode_days: bool = True,
) -> dict:
    """Per-day series and summary, including the period before for comparison.

    Each day carries its episode day (null unless `with_episode_days`); `align="episode"`
    keeps only the numbered days, ordered by it. `instrument_ids`: the instruments the
    viewer may see (default every one).
    """
    length = (end - start).days + 1
    history_start = start - timedelta(days=length + ROLLING_WINDOW_DAYS - 1)
    checkins = checkins_service.scores_in_range(patient.id, history_start, end)
    result = compute_trends(checkins, start, end, trend_rules())
    result["start"], result["end"] = result.pop("from"), result.pop("to")
    logged = {checkin.date for checkin in checkins}
    result["current_streak"] = current_streak(patient.id, end, logged, history_start)
    # The period before `start` too: the summary compares the two, as it does for scores.
    results = instruments_service.day_results(patient.id, start - timedelta(days=length), end)
    result["instruments"] = instrument_series(results, start, end, instrument_ids)
    if with_episode_days:
        episodes_service.number_days(patient, result["days"], key="date")
    else:
        for day in result["days"]:
            day["episode_day"] = None
    if align == "episode":
        result["days"] = align_by_episode(result["days"])
    result["align"] = align
    return result


def judged_days(patient: Principal, start: date, end: date) -> list[dict]:
    """The range's days, each logged day with its `level` and `reason_codes` as judged."""
    days = compute_trends(checkins_service.scores_in_range(patient.id, start, end), start, end)
    judged = checkins_service.judged_in_range(patient.id, start, end)
    return with_judgements(days["days"], judged)


def chart_for(
    patient: Principal,
    start: date,
    end: date,
    image_format: str,
    series: Sequence[str] | None = None,
) -> bytes:
    """Render a range's chart: the series asked for (None: the default) and flagged days.

    Instrument totals are read only when an instrument is asked for.
    """
    from server.trends.chart import render_chart  # matplotlib loads only when needed

    series = series or DEFAULT_SERIES
    days = judged_days(patient, start, end)
    asked = [name for name in series if name in INSTRUMENT_SERIES]
    instruments = (
        instrument_series(
            instruments_service.day_results(patient.id, start, end), start, end, asked
        )
        if asked
        else []
    )
    return render_chart(days, fmt=image_format, series=series, instruments=instruments)


def trend_rules() -> TrendRules:
    """The trend rules configured for this app (validated at start-up)."""
    return settings().trend_rules
