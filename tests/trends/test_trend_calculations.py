"""Tests for the date-range trend calculations in server.trends.calculations."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.trends.calculations import TrendRules, compute_trends
from tests.factories import CheckinRecord as Checkin


def d(iso: str) -> dt.date:
    """Parse an ISO date."""
    return dt.date.fromisoformat(iso)


def core(iso: str, n: int, a: int, x: int, i: int, **extra: object) -> Checkin:
    """Build a check-in with the four core scores in order."""
    return Checkin(d(iso), nausea=n, aches=a, anxiety=x, insomnia=i, **extra)


# A week with gaps (12th and 15th missing), the week before it for comparison,
# one check-in too old to matter and one after the range.
START, END = d("2025-03-10"), d("2025-03-16")
LOG = [
    core("2025-03-01", 8, 8, 8, 8),  # total 32: outside every window used
    core("2025-03-04", 3, 4, 5, 6),  # 18  previous period
    core("2025-03-06", 4, 4, 4, 4),  # 16  previous period
    core("2025-03-09", 5, 5, 4, 6),  # 20  previous period
    core(
        "2025-03-10",
        6,
        5,
        5,
        6,  # 22
        diarrhea=3,
        vomiting=1,
        cravings=7,
        sleep_hours=4.5,
        used_opioids=False,
        crisis=False,
        note="rough night, private",
    ),
    core("2025-03-11", 5, 5, 4, 5),  # 19
    core("2025-03-13", 3, 4, 3, 4),  # 14
    core("2025-03-14", 2, 3, 3, 3),  # 11
    core("2025-03-16", 2, 2, 2, 3),  # 9
    core("2025-03-17", 10, 10, 10, 10),  # after the range: ignored
]


@pytest.fixture
def week() -> dict:
    """Trends for the realistic week."""
    return compute_trends(LOG, START, END)


def test_week_shape(week):
    """The week has one entry per day, in order, with the right counts."""
    assert week["from"] == START
    assert week["to"] == END
    assert week["days_in_range"] == 7
    assert week["days_logged"] == 5
    assert [day["date"] for day in week["days"]] == [
        d("2025-03-10") + dt.timedelta(days=n) for n in range(7)
    ]


def test_logged_day_carries_every_field_except_the_note(week):
    """Logged day carries every field except the note."""
    assert week["days"][0] == {
        "date": d("2025-03-10"),
        "nausea": 6,
        "aches": 5,
        "anxiety": 5,
        "insomnia": 6,
        "diarrhea": 3,
        "vomiting": 1,
        "cravings": 7,
        "sleep_hours": 4.5,
        "used_opioids": False,
        "crisis": False,
        "total": 22,
        "total_7d_avg": 19.0,
    }


def test_unlogged_day_has_null_scores_but_a_rolling_average(week):
    """Unlogged day has null scores but a rolling average."""
    assert week["days"][2] == {
        "date": d("2025-03-12"),
        "nausea": None,
        "aches": None,
        "anxiety": None,
        "insomnia": None,
        "diarrhea": None,
        "vomiting": None,
        "cravings": None,
        "sleep_hours": None,
        "used_opioids": None,
        "crisis": None,
        "total": None,
        "total_7d_avg": 19.25,
    }


def test_rolling_average_reaches_back_across_the_range_start(week):
    """Rolling average reaches back across the range start."""
    # Worked by hand, window = [day-6, day]:
    # 03-10: 03-04..03-10 -> 18,16,20,22       = 76/4 = 19.0
    # 03-11: 03-05..03-11 -> 16,20,22,19       = 77/4 = 19.25
    # 03-12: 03-06..03-12 -> 16,20,22,19       = 77/4 = 19.25
    # 03-13: 03-07..03-13 -> 20,22,19,14       = 75/4 = 18.75
    # 03-14: 03-08..03-14 -> 20,22,19,14,11    = 86/5 = 17.2
    # 03-15: 03-09..03-15 -> 20,22,19,14,11    = 86/5 = 17.2
    # 03-16: 03-10..03-16 -> 22,19,14,11,9     = 75/5 = 15.0
    assert [day["total_7d_avg"] for day in week["days"]] == [
        19.0,
        19.25,
        19.25,
        18.75,
        17.2,
        17.2,
        15.0,
    ]
    assert [day["total"] for day in week["days"]] == [22, 19, None, 14, 11, None, 9]


def test_summary_against_the_previous_week(week):
    """Each summary matches hand-worked numbers against the previous week."""
    # In range (5 logged days) vs previous week 03-03..03-09 (3 logged days):
    # nausea   6,5,3,2,2 = 18/5 = 3.6   prev 3,4,5 = 12/3 = 4.0   change -0.4
    # aches    5,5,4,3,2 = 19/5 = 3.8   prev 4,4,5 = 13/3 = 4.33  change -0.53
    # anxiety  5,4,3,3,2 = 17/5 = 3.4   prev 5,4,4 = 13/3 = 4.33  change -0.93
    # insomnia 6,5,4,3,3 = 21/5 = 4.2   prev 6,4,6 = 16/3 = 5.33  change -1.13
    # total   22,19,14,11,9 = 75/5 = 15 prev 18,16,20 = 54/3 = 18 change -3.0
    assert week["summary"] == {
        "nausea": {
            "mean": 3.6,
            "min": 2,
            "max": 6,
            "latest": 2,
            "previous_mean": 4.0,
            "change": -0.4,
            "direction": "stable",
        },
        "aches": {
            "mean": 3.8,
            "min": 2,
            "max": 5,
            "latest": 2,
            "previous_mean": 4.33,
            "change": -0.53,
            "direction": "stable",
        },
        "anxiety": {
            "mean": 3.4,
            "min": 2,
            "max": 5,
            "latest": 2,
            "previous_mean": 4.33,
            "change": -0.93,
            "direction": "stable",
        },
        "insomnia": {
            "mean": 4.2,
            "min": 3,
            "max": 6,
            "latest": 3,
            "previous_mean": 5.33,
            "change": -1.13,
            "direction": "improving",
        },
        "total": {
            "mean": 15.0,
            "min": 9,
            "max": 22,
            "latest": 9,
            "previous_mean": 18.0,
            "change": -3.0,
            "direction": "improving",
        },
    }


def test_streak_in_week_is_one_because_the_day_before_end_is_missing(week):
    """Streak in week is one because the day before end is missing."""
    assert week["current_streak"] == 1


def test_input_order_does_not_matter(week):
    """Input order does not matter."""
    assert compute_trends(list(reversed(LOG)), START, END) == week


# --- direction -----------------------------------------------------------------


def one_vs_one(previous: Checkin, current: Checkin, **kwargs: object) -> dict:
    """Trends for a single-day range with one check-in the day before."""
    return compute_trends([previous, current], current.date, current.date, **kwargs)


@pytest.mark.parametrize(
    ("before", "after", "direction"),
    [
        (3, 4, "worsening"),  # +1.0: exactly at the symptom delta
        (3, 3, "stable"),
        (4, 3, "improving"),  # -1.0
    ],
)
def test_symptom_direction_at_the_delta(before, after, direction):
    """A symptom change of exactly +/-1.0 sets a direction; 0 is stable."""
    result = one_vs_one(core("2025-03-09", before, 0, 0, 0), core("2025-03-10", after, 0, 0, 0))
    assert result["summary"]["nausea"]["change"] == after - before
    assert result["summary"]["nausea"]["direction"] == direction


@pytest.mark.parametrize(
    ("before", "after", "direction"),
    [
        (10, 13, "worsening"),  # +3: exactly at the total delta
        (10, 12, "stable"),  # +2
        (10, 8, "stable"),  # -2
        (10, 7, "improving"),  # -3
    ],
)
def test_total_direction_at_the_delta(before, after, direction):
    """A total change of exactly +/-3 sets a direction; +/-2 is stable."""
    # Split the total over anxiety and insomnia so nausea stays at 0.
    result = one_vs_one(
        core("2025-03-09", 0, 0, before // 2, before - before // 2),
        core("2025-03-10", 0, 0, after // 2, after - after // 2),
    )
    assert result["summary"]["total"]["direction"] == direction
    assert result["summary"]["nausea"]["direction"] == "stable"


def test_trend_rules_from_config_change_direction():
    """TrendRules.from_config reads both deltas and they change direction."""
    rules = TrendRules.from_config(
        {"TRENDS_DIRECTION_SYMPTOM_DELTA": "2", "TRENDS_DIRECTION_TOTAL_DELTA": 1.5}
    )
    assert rules == TrendRules(direction_symptom_delta=2.0, direction_total_delta=1.5)
    assert TrendRules.from_config({}) == TrendRules(1.0, 3.0)
    result = one_vs_one(
        core("2025-03-09", 3, 0, 0, 0), core("2025-03-10", 4, 0, 0, 1), rules=rules
    )
    assert result["summary"]["nausea"]["direction"] == "stable"  # +1 < 2
    assert result["summary"]["total"]["direction"] == "worsening"  # +2 >= 1.5


def test_previous_mean_uses_only_the_same_length_period_before_start():
    """Previous mean uses only the same length period before start."""
    # Range 03-10..03-12 (3 days), so the previous period is 03-07..03-09.
    log = [
        core("2025-03-06", 10, 10, 10, 10),  # 4 days before: not in previous period
        core("2025-03-07", 1, 0, 0, 0),
        core("2025-03-09", 3, 0, 0, 0),
        core("2025-03-11", 5, 0, 0, 0),
    ]
    nausea = compute_trends(log, d("2025-03-10"), d("2025-03-12"))["summary"]["nausea"]
    # previous (1 + 3) / 2 = 2.0; mean 5.0; change +3.0
    assert nausea == {
        "mean": 5.0,
        "min": 5,
        "max": 5,
        "latest": 5,
        "previous_mean": 2.0,
        "change": 3.0,
        "direction": "worsening",
    }


def test_no_previous_checkins_means_no_change_or_direction():
    """No previous check-ins means no change or direction."""
    result = compute_trends([core("2025-03-10", 4, 4, 4, 4)], START, END)
    assert result["summary"]["total"] == {
        "mean": 16.0,
        "min": 16,
        "max": 16,
        "latest": 16,
        "previous_mean": None,
        "change": None,
        "direction": None,
    }


# --- streak --------------------------------------------------------------------


def logged_on(*isos: str) -> list[Checkin]:
    """Check-ins with default scores on the given days."""
    return [Checkin(d(iso)) for iso in isos]


def streak(log: list[Checkin], start: str, end: str) -> int:
    """Return current_streak for the range."""
    return compute_trends(log, d(start), d(end))["current_streak"]


def test_streak_counts_consecutive_days_ending_today():
    """Streak counts consecutive days ending today."""
    log = logged_on("2025-03-10", "2025-03-12", "2025-03-13", "2025-03-14")
    assert streak(log, "2025-03-08", "2025-03-14") == 3


def test_streak_is_not_broken_by_not_having_logged_today_yet():
    """Streak is not broken by not having logged today yet."""
    log = logged_on("2025-03-12", "2025-03-13")
    assert streak(log, "2025-03-08", "2025-03-14") == 2


def test_streak_is_zero_when_today_and_yesterday_are_missing():
    """Streak is zero when today and yesterday are missing."""
    log = logged_on("2025-03-11", "2025-03-12")
    assert streak(log, "2025-03-08", "2025-03-14") == 0


def test_streak_continues_before_the_range_start_as_far_as_data_given():
    """Streak continues before the range start as far as data given."""
    log = logged_on("2025-03-10", "2025-03-11", "2025-03-12", "2025-03-13")
    assert streak(log, "2025-03-13", "2025-03-13") == 4


def test_streak_ignores_checkins_after_the_range_end():
    """Streak ignores check-ins after the range end."""
    log = logged_on("2025-03-13", "2025-03-15")
    assert streak(log, "2025-03-08", "2025-03-14") == 1


# --- empty and edge ranges -------------------------------------------------------


def test_empty_range_has_all_nulls_and_zero_counts():
    """Empty range has all nulls and zero counts."""
    result = compute_trends([], START, END)
    assert result["days_logged"] == 0
    assert result["days_in_range"] == 7
    assert result["current_streak"] == 0
    for day in result["days"]:
        assert set(day) - {"date"} == {
            "nausea",
            "aches",
            "anxiety",
            "insomnia",
            "diarrhea",
            "vomiting",
            "cravings",
            "sleep_hours",
            "used_opioids",
            "crisis",
            "total",
            "total_7d_avg",
        }
        assert all(value is None for key, value in day.items() if key != "date")
    for metric in ("nausea", "aches", "anxiety", "insomnia", "total"):
        assert result["summary"][metric] == dict.fromkeys(
            ("mean", "min", "max", "latest", "previous_mean", "change", "direction")
        )


def test_range_with_no_checkins_but_a_previous_period():
    """A range without check-ins still reports previous_mean, but no change."""
    log = [core("2025-03-05", 1, 1, 1, 1)]  # total 4, five days before start
    result = compute_trends(log, START, END)
    total = result["summary"]["total"]
    assert total["previous_mean"] == 4.0
    assert total["mean"] is None
    assert total["change"] is None
    assert total["direction"] is None
    # 03-05 is inside the window of 03-10 and 03-11 only.
    assert [day["total_7d_avg"] for day in result["days"]] == [4.0, 4.0] + [None] * 5


def test_rolling_window_edges():
    """A check-in 6 days before start is in the first window; 7 days is not."""
    # 6 days before start is the oldest day in the first window; 7 is too old.
    log = [core("2025-03-04", 1, 1, 1, 1)]
    assert compute_trends(log, START, START)["days"][0]["total_7d_avg"] == 4.0
    log = [core("2025-03-03", 1, 1, 1, 1)]
    assert compute_trends(log, START, START)["days"][0]["total_7d_avg"] is None


def test_rolling_average_rounds_to_two_decimals():
    """Rolling average rounds to two decimals."""
    log = [core("2025-03-08", 1, 0, 0, 0), core("2025-03-09", 1, 0, 0, 0)]
    log.append(core("2025-03-10", 0, 0, 0, 0))  # (1 + 1 + 0) / 3 = 0.666...
    assert compute_trends(log, START, START)["days"][0]["total_7d_avg"] == 0.67


def test_single_day_range():
    """A one-day range counts its single check-in and streak."""
    result = compute_trends([Checkin(START)], START, START)
    assert result["days_in_range"] == 1
    assert result["days_logged"] == 1
    assert result["current_streak"] == 1


def test_end_before_start_is_rejected():
    """End before start is rejected."""
    with pytest.raises(ValueError, match="before start"):
        compute_trends([], END, START)


def test_last_checkin_given_for_a_day_wins():
    """Last check-in given for a day wins."""
    log = [core("2025-03-10", 1, 1, 1, 1), core("2025-03-10", 3, 3, 3, 3)]
    result = compute_trends(log, START, START)
    assert result["days"][0]["total"] == 12
    assert result["days_logged"] == 1


# --- a full year -------------------------------------------------------------------


def test_leap_year_range_is_correct_and_fast():
    """Leap year range is correct and fast."""
    start, end = d("2024-01-01"), d("2024-12-31")
    # Nausea cycles 0..6, so every full 7-day window averages (0+1+...+6)/7 = 3.0.
    log = [core((start + dt.timedelta(days=n)).isoformat(), n % 7, 0, 0, 0) for n in range(366)]
    fastest = float("inf")
    for _ in range(5):
        began = time.perf_counter()
        result = compute_trends(log, start, end)
        fastest = min(fastest, time.perf_counter() - began)
    assert fastest < 0.010
    assert result["days_in_range"] == 366
    assert result["days_logged"] == 366
    assert result["current_streak"] == 366
    averages = [day["total_7d_avg"] for day in result["days"]]
    # 01-01: 0/1; 01-02: (0+1)/2; 01-03: (0+1+2)/3; then full windows of 3.0.
    assert averages[:3] == [0.0, 0.5, 1.0]
    assert set(averages[6:]) == {3.0}
    # 366 = 52 * 7 + 2: 52 full cycles (sum 21 each) plus 0 and 1.
    # mean = (52 * 21 + 1) / 366 = 1093 / 366 = 2.986... -> 2.99
    assert result["summary"]["nausea"]["mean"] == 2.99
    assert result["summary"]["nausea"]["latest"] == 1
    assert result["summary"]["total"]["previous_mean"] is None


# --- properties ----------------------------------------------------------------------

score = st.integers(min_value=0, max_value=10)


@st.composite
def logs_and_ranges(draw: st.DrawFn) -> tuple[list[Checkin], dt.date, dt.date]:
    """Draw a range of 1-20 days and check-ins on random days around it."""
    start = d("2025-03-10")
    end = start + dt.timedelta(days=draw(st.integers(min_value=0, max_value=19)))
    offsets = draw(st.sets(st.integers(min_value=-30, max_value=25), max_size=40))
    log = [
        core(
            (start + dt.timedelta(days=offset)).isoformat(),
            draw(score),
            draw(score),
            draw(score),
            draw(score),
        )
        for offset in offsets
    ]
    return log, start, end


@given(logs_and_ranges())
def test_rolling_average_is_bounded_and_null_only_for_empty_windows(case):
    """Rolling average is bounded and null only for empty windows."""
    log, start, end = case
    logged_days = {checkin.date for checkin in log}
    result = compute_trends(log, start, end)
    for day in result["days"]:
        window = {day["date"] - dt.timedelta(days=back) for back in range(7)}
        window_empty = not (window & logged_days)
        average = day["total_7d_avg"]
        assert (average is None) == window_empty
        if average is not None:
            assert 0 <= average <= 40


@given(logs_and_ranges())
def test_counts_match_the_days_logged_in_range(case):
    """Counts match the days logged in range."""
    log, start, end = case
    result = compute_trends(log, start, end)
    in_range = {c.date for c in log if start <= c.date <= end}
    assert result["days_logged"] == len(in_range)
    assert result["days_in_range"] == (end - start).days + 1
    assert 0 <= result["current_streak"]
    if end in in_range:
        assert result["current_streak"] >= 1
