"""Render daily symptom scores as a PNG or SVG trend chart."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from server.vocabulary import CORE_SYMPTOMS, MAX_TOTAL, SCORE_MAX

SYMPTOMS = CORE_SYMPTOMS
SYMPTOM_MAX = SCORE_MAX
TOTAL_MAX = MAX_TOTAL
FORMATS: tuple[str, ...] = ("png", "svg")
EMPTY_MESSAGE = "No check-ins in this range"

FIGSIZE_IN = (10.0, 5.0)
DPI = 100
FONT = "DejaVu Sans"

# Okabe-Ito colours plus distinct markers, so series stay apart for colour-blind
# readers and in greyscale print-outs.
_STYLE: dict[str, tuple[str, str]] = {
    "nausea": ("#E69F00", "o"),
    "aches": ("#0072B2", "s"),
    "anxiety": ("#009E73", "^"),
    "insomnia": ("#CC79A7", "D"),
}
_TOTAL_COLOUR = "#333333"

# PNG: drop the "Software" chunk (matplotlib version). SVG: drop the creation
# date and creator so repeated renders do not differ by timestamp.
_METADATA: dict[str, dict[str, None]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
}


def _series_value(day: Mapping[str, Any], field: str, maximum: int) -> float:
    """Return a plottable value, NaN when nothing was logged."""
    value = day.get(field)
    if value is None:
        # NaN, not 0: a missing day must break the line, never read as "no symptoms".
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{field} on {day.get('date')} must be an int or None")
    if not 0 <= value <= maximum:
        raise ValueError(f"{field} on {day.get('date')} is outside 0-{maximum}")
    return float(value)


def _day_start(day: date) -> datetime:
    """Return midnight of a date so every point sits on its day tick."""
    return datetime.combine(day, time.min)


def render_chart(
    days: Sequence[Mapping[str, Any]], fmt: str = "png", title: str | None = None
) -> bytes:
    """Render per-day symptom scores and totals; return PNG or SVG bytes."""
    if fmt not in FORMATS:
        raise ValueError(f"unsupported chart format {fmt!r}; use one of {FORMATS}")
    fig = _figure(days, title)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=DPI, metadata=_METADATA[fmt])
    return buf.getvalue()


def render_chart_image(days: Sequence[Mapping[str, Any]], title: str | None = None):
    """Render the chart as a Pillow RGB image (no PNG round trip, for embedding in a PDF)."""
    from PIL import Image

    fig = _figure(days, title)
    fig.canvas.draw()
    rgba = fig.canvas.buffer_rgba()
    return Image.frombuffer("RGBA", (rgba.shape[1], rgba.shape[0]), rgba).convert("RGB")


def _figure(days: Sequence[Mapping[str, Any]], title: str | None):
    """Draw the chart on a fresh Figure."""
    for day in days:
        if not isinstance(day.get("date"), date):
            raise ValueError("every day needs a datetime.date under 'date'")
    ordered = sorted(days, key=lambda d: d["date"])

    # Imported here so API processes that never draw a chart skip matplotlib's
    # import cost (about half a second and tens of MB).
    from matplotlib import dates as mdates
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    xs = [_day_start(d["date"]) for d in ordered]
    series = {name: [_series_value(d, name, SYMPTOM_MAX) for d in ordered] for name in SYMPTOMS}
    totals = [_series_value(d, "total", TOTAL_MAX) for d in ordered]
    has_data = any(not math.isnan(v) for values in (*series.values(), totals) for v in values)

    # Figure, not pyplot: no global figure registry, so concurrent requests in
    # threaded workers cannot touch each other's state or leak figures.
    fig = Figure(figsize=FIGSIZE_IN, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax_total = ax.twinx()

    # Long ranges get thinner, translucent symptom lines so the dashed total,
    # drawn on top, carries the trend. Markers never shrink to zero, so an
    # isolated logged day between gaps is still visible.
    n = len(ordered)
    long_range = n > 120
    marker_size = 5.0 if n <= 45 else 3.5 if not long_range else 2.0
    line_width = 0.9 if long_range else 1.8
    symptom_alpha = 0.7 if long_range else 1.0

    handles = []
    for name in SYMPTOMS:
        colour, marker = _STYLE[name]
        (line,) = ax.plot(
            xs,
            series[name],
            color=colour,
            marker=marker,
            markersize=marker_size,
            linewidth=line_width,
            alpha=symptom_alpha,
            label=name.capitalize(),
        )
        handles.append(line)
    (total_line,) = ax_total.plot(
        xs,
        totals,
        color=_TOTAL_COLOUR,
        linestyle=(0, (5, 3)),
        marker="o",
        markerfacecolor="white",
        markersize=marker_size,
        linewidth=2.0 if long_range else 1.8,
        label="Total",
    )
    handles.append(total_line)

    if not long_range:
        # Symptom lines above the total: twinx axes draw on top by default.
        ax.set_zorder(ax_total.get_zorder() + 1)
        ax.patch.set_visible(False)

    # A small margin beyond 0-10 / 0-40 keeps markers at the extremes unclipped;
    # the identical 1:4 ratio makes both axes share gridlines.
    ax.set_ylim(-0.3, SYMPTOM_MAX + 0.3)
    ax_total.set_ylim(-1.2, TOTAL_MAX + 1.2)
    ax.set_yticks(range(0, SYMPTOM_MAX + 1, 2))
    ax_total.set_yticks(range(0, TOTAL_MAX + 1, 8))
    ax.set_ylabel("Score (0–10)", fontfamily=FONT)
    ax_total.set_ylabel("Total (0–40)", fontfamily=FONT, color=_TOTAL_COLOUR)
    ax.grid(axis="y", color="#DDDDDD", linewidth=0.8)
    ax.set_axisbelow(True)
    for axis in (ax, ax_total):
        axis.tick_params(labelfontfamily=FONT)
        axis.spines["top"].set_visible(False)

    if ordered:
        # Half a day either side so the first and last days are not on the frame
        # and a one-day range still has width.
        start = xs[0] - timedelta(hours=12)
        end = xs[-1] + timedelta(hours=12)
        ax.set_xlim(start, end)
        # Below three days the default picks hourly ticks, which mean nothing
        # for once-a-day scores.
        locator = mdates.AutoDateLocator(minticks=1 if n < 3 else 3, maxticks=10)
        # Never show clock times: scores are per day, so a lone tick reads
        # "24 Nov" with the year as offset instead of "00:00".
        formatter = mdates.ConciseDateFormatter(
            locator,
            formats=["%Y", "%b", "%d", "%d %b", "%d %b", "%d %b"],
            zero_formats=["", "%Y", "%b", "%d %b", "%d %b", "%d %b"],
            offset_formats=["", "%Y", "%b %Y", "%Y", "%Y", "%Y"],
        )
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(formatter)
    else:
        ax.set_xticks([])

    if not has_data:
        ax.text(
            0.5,
            0.5,
            EMPTY_MESSAGE,
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=14,
            color="#555555",
            fontfamily=FONT,
        )

    if title:
        ax.set_title(title, fontfamily=FONT, fontsize=13, loc="left")
    # Legend outside the plotting area so it never hides data points.
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=len(handles),
        frameon=False,
        prop={"family": FONT},
    )
    return fig
