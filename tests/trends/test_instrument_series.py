"""Each instrument's series in the trends (pure): its days on its own scale, and a summary."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from server.trends.calculations import instrument_series

START, END = dt.date(2025, 3, 10), dt.date(2025, 3, 16)


@dataclass(frozen=True)
class DayResult:
    """An instrument's day as the reads give it: the highest result and how many."""

    instrument_id: str
    date: dt.date
    total: int
    band: str | None = None
    results: int = 1


def on(iso: str, instrument_id: str, total: int, **extra) -> DayResult:
    return DayResult(instrument_id, dt.date.fromisoformat(iso), total, **extra)


def by_id(series: list[dict]) -> dict[str, dict]:
    return {entry["instrument_id"]: entry for entry in series}


EMPTY_SUMMARY = {
    "mean": None,
    "min": None,
    "max": None,
    "latest": None,
    "previous_mean": None,
    "change": None,
    "days_recorded": 0,
}


def test_every_instrument_has_a_series_on_its_own_scale_even_without_results():
    series = instrument_series([], START, END)
    assert [(s["instrument_id"], s["total_min"], s["total_max"]) for s in series] == [
        ("sows-gossop-10", 0, 30),
        ("sows-handelsman-16", 0, 64),
        ("cows-11", 0, 48),
    ]
    assert all(s["days"] == [] and s["summary"] == EMPTY_SUMMARY for s in series)


def test_days_and_summary_against_the_week_before():
    results = [
        on("2025-03-02", "sows-gossop-10", 30),  # before both periods: ignored
        on("2025-03-04", "sows-gossop-10", 10),  # previous period (3..9 March)
        on("2025-03-09", "sows-gossop-10", 13),  # previous period
        on("2025-03-12", "sows-gossop-10", 9),
        on("2025-03-10", "sows-gossop-10", 12),  # given out of order
        on("2025-03-16", "sows-gossop-10", 14),
        on("2025-03-17", "sows-gossop-10", 30),  # after the range: ignored
        on("2025-03-11", "cows-11", 27, band="moderately_severe", results=2),
    ]
    series = by_id(instrument_series(results, START, END))
    gossop = series["sows-gossop-10"]
    assert gossop["days"] == [
        {"date": dt.date(2025, 3, 10), "total": 12, "band": None, "results": 1},
        {"date": dt.date(2025, 3, 12), "total": 9, "band": None, "results": 1},
        {"date": dt.date(2025, 3, 16), "total": 14, "band": None, "results": 1},
    ]
    # 12 9 14 -> 35/3 = 11.67; before 10 13 -> 11.5; change +0.17
    assert gossop["summary"] == {
        "mean": 11.67,
        "min": 9,
        "max": 14,
        "latest": 14,
        "previous_mean": 11.5,
        "change": 0.17,
        "days_recorded": 3,
    }
    cows = series["cows-11"]
    assert cows["days"] == [
        {"date": dt.date(2025, 3, 11), "total": 27, "band": "moderately_severe", "results": 2}
    ]
    assert cows["summary"] == {
        **EMPTY_SUMMARY,
        "mean": 27.0,
        "min": 27,
        "max": 27,
        "latest": 27,
        "days_recorded": 1,
    }
    assert series["sows-handelsman-16"]["days"] == []


def test_an_unknown_instrument_is_left_out():
    series = instrument_series([on("2025-03-11", "sows-modified-15", 9)], START, END)
    assert all(s["days"] == [] for s in series)


@given(
    st.lists(
        st.builds(
            DayResult,
            st.sampled_from(["sows-gossop-10", "sows-handelsman-16", "cows-11"]),
            st.integers(-10, 12).map(lambda n: START + dt.timedelta(days=n)),
            st.integers(0, 30),
        ),
        unique_by=lambda r: (r.instrument_id, r.date),
    )
)
def test_each_series_holds_exactly_its_results_of_the_range_in_date_order(results):
    for series in instrument_series(results, START, END):
        expected = sorted(
            (r.date, r.total)
            for r in results
            if r.instrument_id == series["instrument_id"] and START <= r.date <= END
        )
        assert [(day["date"], day["total"]) for day in series["days"]] == expected
        assert series["summary"]["days_recorded"] == len(expected)
        assert series["summary"]["latest"] == (expected[-1][1] if expected else None)
