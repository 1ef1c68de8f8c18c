"""Regenerate the example images under docs/ from fixed, fictional data (`make docs`).

Each image is one entry in IMAGES: a path under the repository and a function returning
its bytes. Nothing reads a database; the days are judged by the same rules the API uses.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from bench.docs_report import report_page
from server.assessments.judgement import Thresholds, assess
from server.trends.calculations import compute_trends, with_judgements
from server.trends.chart import SERIES, render_chart

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_START = date(2026, 11, 2)
EXAMPLE_END = date(2026, 12, 1)


@dataclass(frozen=True)
class FictionalDay:
    """A made-up check-in with every field the rules and the chart read."""

    date: date
    nausea: int
    aches: int
    anxiety: int
    insomnia: int
    diarrhea: int | None = None
    vomiting: int | None = None
    cravings: int | None = None
    sleep_hours: float | None = None
    used_opioids: bool | None = False
    crisis: bool | None = False
    note: str | None = None

    @property
    def total(self) -> int:
        """The sum of the four core symptoms."""
        return self.nausea + self.aches + self.anxiety + self.insomnia


def example_checkins() -> list[FictionalDay]:
    """Three weeks from 9 Nov: a peak of withdrawal, two days of vomiting, a crisis, a lapse."""
    days = []
    for i in range(23):
        day = EXAMPLE_START + timedelta(days=7 + i)
        if i in (6, 15):
            continue  # two days not logged: the lines break there
        peak = max(0, 7 - abs(i - 5))
        days.append(
            FictionalDay(
                date=day,
                nausea=min(10, 2 + peak),
                aches=min(10, 3 + peak // 2 + i % 2),
                anxiety=min(10, 4 + peak // 2),
                insomnia=min(10, 3 + (peak + 1) // 2),
                vomiting=8 if i in (4, 5) else 1,
                diarrhea=7 if i == 5 else 2,
                used_opioids=i == 12,
                crisis=i == 18,
            )
        )
    return days


def example_days() -> list[dict]:
    """The example range's days with each logged day's level and reasons, as the API judges."""
    checkins = example_checkins()
    thresholds = Thresholds()
    judged = {c.date: assess(c, checkins, thresholds) for c in checkins}
    days = compute_trends(checkins, EXAMPLE_START, EXAMPLE_END)["days"]
    return with_judgements(days, judged)


def example_instruments() -> list[dict]:
    """Fictional SOWS-Gossop self-reports through the peak and two COWS observations.

    SOWS-Handelsman has none, so the image also shows an instrument's empty panel.
    """
    gossop = {7: 9, 9: 16, 10: 21, 11: 24, 12: 19, 14: 14, 18: 8, 25: 5}
    cows = {10: 14, 11: 26, 18: 6}
    series = []
    for instrument_id, totals in (("sows-gossop-10", gossop), ("cows-11", cows)):
        days = [
            {"date": EXAMPLE_START + timedelta(days=offset), "total": total, "results": 1}
            for offset, total in totals.items()
        ]
        series.append({"instrument_id": instrument_id, "days": days})
    return series


def chart_example() -> bytes:
    """The chart of the example month, every series on (each instrument's panel too)."""
    return render_chart(
        example_days(), fmt="png", series=SERIES, instruments=example_instruments()
    )


IMAGES: dict[str, Callable[[], bytes]] = {
    "docs/chart-example.png": chart_example,
    "docs/report-page1.png": lambda: report_page(0),
    "docs/report-log.png": lambda: report_page(2),
}


def main() -> int:
    """Write every image; print what changed."""
    for relative, make in IMAGES.items():
        path = REPO_ROOT / relative
        data = make()
        changed = not path.exists() or path.read_bytes() != data
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"{relative}: {len(data)} bytes{' (changed)' if changed else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
