"""Turn a patient's check-ins into per-day series and a summary for a date range.

Pure functions only: no Flask, no database. Everything is one pass over the
days and the check-ins (a dict keyed by date plus a sliding window), so a year
of data costs well under a millisecond per day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from server.assessments.judgement import Assessment, CheckinLike, InstrumentResultLike
from server.config import float_setting
from server.instruments.definitions import INSTRUMENTS
from server.vocabulary import CORE_SYMPTOMS, MAX_TOTAL, OPTIONAL_EXTRAS

ROLLING_WINDOW_DAYS = 7
DAY_FIELDS: tuple[str, ...] = (*CORE_SYMPTOMS, *OPTIONAL_EXTRAS, "total")
SUMMARY_METRICS: tuple[str, ...] = (*CORE_SYMPTOMS, "total")

_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class TrendRules:
    """How big a change in mean counts as worsening or improving."""

    direction_symptom_delta: float = 1.0
    direction_total_delta: float = 3.0

    CONFIG_PREFIX: ClassVar[str] = "TRENDS_"
    # Largest allowed delta per field; every delta must be above zero.
    MAX_DELTAS: ClassVar[Mapping[str, int]] = {
        "direction_symptom_delta": 10,
        "direction_total_delta": MAX_TOTAL,
    }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TrendRules:
        """Build rules from optional ``TRENDS_*`` keys; missing keys keep defaults.

        A value that is not a number above 0 and within ``MAX_DELTAS`` raises ``ConfigError``
        naming its variable and the rule.
        """
        values = {
            field.name: float_setting(
                config,
                cls.CONFIG_PREFIX + field.name.upper(),
                default=field.default,
                low=0,
                high=cls.MAX_DELTAS[field.name],
                above_low=True,
            )
            for field in dataclasses.fields(cls)
        }
        return cls(**values)

    def delta_for(self, metric: str) -> float:
        """Return the change threshold for a summary metric."""
        return self.direction_total_delta if metric == "total" else self.direction_symptom_delta


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _direction(change: float | None, delta: float) -> str | None:
    """Classify a change in mean; higher scores mean the person feels worse."""
    if change is None:
        return None
    if change >= delta:
        return "worsening"
    if change <= -delta:
        return "improving"
    return "stable"


def _day_entry(day: dt.date, checkin: CheckinLike | None, rolling: float | None) -> dict:
    entry: dict[str, Any] = {"date": day}
    # The note is private free text and has no place in a chart series.
    for field in DAY_FIELDS:
        entry[field] = getattr(checkin, field) if checkin is not None else None
    entry["total_7d_avg"] = _round(rolling)
    return entry


def _days(by_date: Mapping[dt.date, CheckinLike], start: dt.date, end: dt.date) -> list[dict]:
    """Build the per-day series with a sliding-window 7-day mean of ``total``."""
    window_sum = 0
    window_count = 0
    days = []
    first_day = start - dt.timedelta(days=ROLLING_WINDOW_DAYS - 1)
    day = first_day
    while day <= end:
        entering = by_date.get(day)
        if entering is not None:
            window_sum += entering.total
            window_count += 1
        leaving_day = day - dt.timedelta(days=ROLLING_WINDOW_DAYS)
        # Days before first_day were never added, so they must not be removed.
        leaving = by_date.get(leaving_day) if leaving_day >= first_day else None
        if leaving is not None:
            window_sum -= leaving.total
            window_count -= 1
        if day >= start:
            rolling = window_sum / window_count if window_count else None
            days.append(_day_entry(day, entering, rolling))
        day += _ONE_DAY
    return days


def _summary(
    by_date: Mapping[dt.date, CheckinLike],
    start: dt.date,
    end: dt.date,
    rules: TrendRules,
) -> dict[str, dict[str, Any]]:
    """Summarise each core symptom and the total, against the period before."""
    period = end - start + _ONE_DAY
    previous_start = start - period
    in_range = sorted(
        ((d, c) for d, c in by_date.items() if start <= d <= end),
        key=lambda pair: pair[0],
    )
    in_previous = [c for d, c in by_date.items() if previous_start <= d < start]

    summary = {}
    for metric in SUMMARY_METRICS:
        stats = _statistics(
            [getattr(c, metric) for _, c in in_range], [getattr(c, metric) for c in in_previous]
        )
        # Judged on the rounded change so the label agrees with the number shown.
        stats["direction"] = _direction(stats["change"], rules.delta_for(metric))
        summary[metric] = stats
    return summary


def _statistics(values: list[float], previous: list[float]) -> dict[str, Any]:
    """Mean, min, max and latest of the range's values (in date order), and the change in mean."""
    mean, previous_mean = _mean(values), _mean(previous)
    change = (
        round(mean - previous_mean, 2) if mean is not None and previous_mean is not None else None
    )
    return {
        "mean": _round(mean),
        "min": min(values, default=None),
        "max": max(values, default=None),
        "latest": values[-1] if values else None,
        "previous_mean": _round(previous_mean),
        "change": change,
    }


def instrument_series(
    results: Iterable[InstrumentResultLike],
    start: dt.date,
    end: dt.date,
    instrument_ids: Iterable[str] = tuple(INSTRUMENTS),
) -> list[dict[str, Any]]:
    """Each instrument's series of daily totals in ``start``..``end``, with its summary.

    Kept apart from the 0-10 scores and the check-in total. Each result is one instrument's
    day (its highest, with ``results`` saying how many there were that day); those of the
    same-length period just before ``start`` only count in the summary's ``previous_mean``.
    Only the instruments in ``instrument_ids`` get a series (in the definitions' order).
    """
    shown = set(instrument_ids)
    previous_start = start - (end - start + _ONE_DAY)
    by_instrument: dict[str, list] = {i: [] for i in INSTRUMENTS if i in shown}
    for result in results:
        if result.instrument_id in by_instrument and previous_start <= result.date <= end:
            by_instrument[result.instrument_id].append(result)
    series = []
    for instrument_id in by_instrument:
        instrument = INSTRUMENTS[instrument_id]
        ordered = sorted(by_instrument[instrument_id], key=lambda r: r.date)
        in_range = [r for r in ordered if r.date >= start]
        stats = _statistics(
            [r.total for r in in_range], [r.total for r in ordered if r.date < start]
        )
        series.append(
            {
                "instrument_id": instrument_id,
                "total_min": instrument.total_min,
                "total_max": instrument.total_max,
                "days": [
                    {"date": r.date, "total": r.total, "band": r.band, "results": r.results}
                    for r in in_range
                ],
                "summary": {**stats, "days_recorded": len(in_range)},
            }
        )
    return series


def streak_ending(logged_days: Container[dt.date], end: dt.date) -> int:
    """Count consecutive logged days ending at ``end``, or the day before it."""
    # Not having logged today yet shouldn't make the streak look broken.
    day = end if end in logged_days else end - _ONE_DAY
    streak = 0
    while day in logged_days:
        streak += 1
        day -= _ONE_DAY
    return streak


def align_by_episode(days: Iterable[dict]) -> list[dict]:
    """The days an episode numbers, by episode day (then date: two episodes may share one)."""
    numbered = (day for day in days if day["episode_day"] is not None)
    return sorted(numbered, key=lambda day: (day["episode_day"], day["date"]))


def compute_trends(
    checkins: Iterable[CheckinLike],
    start: dt.date,
    end: dt.date,
    rules: TrendRules = TrendRules(),  # noqa: B008 - frozen, safe to share
) -> dict[str, Any]:
    """Return per-day series and a summary for ``start``..``end`` inclusive."""
    if end < start:
        raise ValueError(f"end ({end}) is before start ({start})")
    # One check-in per day is expected; if there are more, the last one given wins.
    by_date: dict[dt.date, CheckinLike] = {c.date: c for c in checkins if c.date <= end}
    days = _days(by_date, start, end)
    return {
        "from": start,
        "to": end,
        "days": days,
        "summary": _summary(by_date, start, end, rules),
        "days_logged": sum(1 for day in days if day["total"] is not None),
        "days_in_range": len(days),
        "current_streak": streak_ending(by_date, end),
    }


def with_judgements(
    days: Iterable[Mapping[str, Any]], judged: Mapping[dt.date, Assessment]
) -> list[dict]:
    """Copy the days, adding each judged day's `level` and `reason_codes` (None, () if not)."""
    out = []
    for day in days:
        judgement = judged.get(day["date"])
        out.append(
            {
                **day,
                "level": judgement.level if judgement else None,
                "reason_codes": tuple(r.code for r in judgement.reasons) if judgement else (),
            }
        )
    return out
