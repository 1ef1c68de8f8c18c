"""Time the trend chart alone: PNG and SVG for 30, 90 and 366 days (median of N renders).

Runs on any checkout whose `server.trends.chart.render_chart(days, fmt)` exists, so a
"before" can be measured from another tree:
`cd /other/checkout && PYTHONPATH=. .venv/bin/python /this/checkout/bench/bench_chart.py`.
`--instruments` adds the SOWS-Gossop and COWS panels (a result every third day) to each render.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date, timedelta

from server.trends.chart import SYMPTOMS, render_chart

END = date(2026, 12, 1)
LENGTHS = (30, 90, 366)


def bench_days(n: int) -> list[dict]:
    """n days ending on END, six in seven logged, with a few flagged days."""
    days = []
    for i in range(n):
        day: dict = {"date": END - timedelta(days=n - 1 - i)}
        if i % 7 == 3:
            day |= dict.fromkeys((*SYMPTOMS, "total", "vomiting", "diarrhea"))
        else:
            scores = {name: (i + 3 * j) % 11 for j, name in enumerate(SYMPTOMS)}
            day |= scores | {"total": sum(scores.values()), "vomiting": i % 9, "diarrhea": i % 5}
            day |= {"used_opioids": i % 30 == 0, "level": "stable", "reason_codes": ()}
        days.append(day)
    return days


BENCH_INSTRUMENTS = ("sows-gossop-10", "cows-11")


def bench_instruments(n: int) -> list[dict]:
    """A result of each bench instrument every third day of the n days ending on END."""
    return [
        {
            "instrument_id": instrument_id,
            "days": [
                {"date": END - timedelta(days=n - 1 - i), "total": i % 31, "results": 1}
                for i in range(0, n, 3)
            ],
        }
        for instrument_id in BENCH_INSTRUMENTS
    ]


def render(n: int, fmt: str, days: list[dict], with_instruments: bool) -> bytes:
    """One render, with or without the instrument panels."""
    if not with_instruments:
        return render_chart(days, fmt)
    from server.trends.chart import DEFAULT_SERIES  # absent before the instrument panels

    series = (*DEFAULT_SERIES, *BENCH_INSTRUMENTS)
    return render_chart(days, fmt, series=series, instruments=bench_instruments(n))


def main() -> None:
    """Print the median and the fastest render of each length and format."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--instruments", action="store_true", help="add SOWS-Gossop and COWS")
    args = parser.parse_args()
    render_chart(bench_days(30))  # warm-up: matplotlib's import and font cache
    print(f"{'chart':<18}{'median ms':>10}{'min ms':>9}{'kB':>8}")
    for n in LENGTHS:
        days = bench_days(n)
        for fmt in ("png", "svg"):
            times, size = [], 0
            for _ in range(args.runs):
                began = time.perf_counter()
                size = len(render(n, fmt, days, args.instruments))
                times.append((time.perf_counter() - began) * 1000)
            label = f"{n} days {fmt}"
            median = statistics.median(times)
            print(f"{label:<18}{median:>10.1f}{min(times):>9.1f}{size / 1024:>8.0f}")


if __name__ == "__main__":
    main()
