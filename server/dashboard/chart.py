"""Geometry of the inline SVG trend chart: the template draws what this computes.

Scores (0-10) use the left axis and the total (0-40) the right one, on the same gridlines.
A day without a check-in breaks its line (it never reads as "no symptoms"), and every
series has its own line pattern and marker shape, so nothing depends on colour alone.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from server.vocabulary import CORE_SYMPTOMS, MAX_TOTAL, SCORE_MAX

WIDTH, HEIGHT = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 52, 30, 36
SCORE_TICKS = tuple(range(0, SCORE_MAX + 1, 2))
MAX_DATE_TICKS = 7
# Line pattern (SVG stroke-dasharray, "" for solid) and marker shape of each series.
SERIES_STYLE = {
    "nausea": ("", "circle"),
    "aches": ("6 3", "square"),
    "anxiety": ("2 3", "triangle"),
    "insomnia": ("8 3 2 3", "diamond"),
    "total": ("10 4", "ring"),
}


@dataclass(frozen=True)
class Series:
    """One line: its name, pattern, marker and the runs of consecutive logged days."""

    name: str
    dash: str
    marker: str
    segments: tuple[str, ...]  # SVG polyline points, "x,y x,y ..."
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Chart:
    """Everything the template needs to draw the chart."""

    width: int
    height: int
    plot: tuple[float, float, float, float]  # left, top, right, bottom
    series: tuple[Series, ...]
    score_ticks: tuple[tuple[float, int, int], ...]  # y, score, total at that height
    date_ticks: tuple[tuple[float, date], ...]
    has_data: bool


def _x_of(index: int, count: int) -> float:
    """Horizontal position of the index-th day of `count`, half a day in from each edge."""
    span = WIDTH - LEFT - RIGHT
    return round(LEFT + span * (index + 0.5) / count, 1)


def _y_of(value: float, maximum: int) -> float:
    """Vertical position of a value on a 0..maximum axis."""
    span = HEIGHT - TOP - BOTTOM
    return round(TOP + span * (1 - value / maximum), 1)


def _series(name: str, values: Sequence[int | None], maximum: int) -> Series:
    """A line broken at every missing day, and a marker at every logged one."""
    segments, run, points = [], [], []
    for index, value in enumerate(values):
        if value is None:
            if run:
                segments.append(" ".join(run))
            run = []
            continue
        x, y = _x_of(index, len(values)), _y_of(value, maximum)
        run.append(f"{x},{y}")
        points.append((x, y))
    if run:
        segments.append(" ".join(run))
    dash, marker = SERIES_STYLE[name]
    return Series(name, dash, marker, tuple(segments), tuple(points))


def _date_ticks(days: Sequence[date]) -> tuple[tuple[float, date], ...]:
    """Evenly spread date labels, the first and last day included."""
    count = len(days)
    if count == 0:
        return ()
    if count <= MAX_DATE_TICKS:
        indexes = list(range(count))
    else:
        step = (count - 1) / (MAX_DATE_TICKS - 1)
        indexes = sorted({round(i * step) for i in range(MAX_DATE_TICKS)})
    return tuple((_x_of(i, count), days[i]) for i in indexes)


def build_chart(days: Sequence[Mapping[str, Any]]) -> Chart:
    """Lay out the trends' days (every calendar day of the range, in date order)."""
    ordered = sorted(days, key=lambda day: day["date"])
    series = [_series(name, [day[name] for day in ordered], SCORE_MAX) for name in CORE_SYMPTOMS]
    series.append(_series("total", [day["total"] for day in ordered], MAX_TOTAL))
    ratio = MAX_TOTAL // SCORE_MAX
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        plot=(LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM),
        series=tuple(series),
        score_ticks=tuple((_y_of(tick, SCORE_MAX), tick, tick * ratio) for tick in SCORE_TICKS),
        date_ticks=_date_ticks([day["date"] for day in ordered]),
        has_data=any(day["total"] is not None for day in ordered),
    )
