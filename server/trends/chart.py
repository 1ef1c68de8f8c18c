"""Render daily symptom scores as a PNG or SVG trend chart.

The figure is a list of panels sharing one date axis (symptoms with the total, vomiting and
diarrhoea, the flagged days), so a new measure with its own y-axis is one more `Panel`. Each
validated instrument asked for gets a panel of its own below them, on its own total range.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from xml.sax.saxutils import escape

from server.common.fonts import NOTO_BODY, installed
from server.instruments.definitions import INSTRUMENTS, Instrument
from server.vocabulary import CORE_SYMPTOMS, MAX_TOTAL, SCORE_MAX

SYMPTOMS = CORE_SYMPTOMS
SYMPTOM_MAX = SCORE_MAX
TOTAL_MAX = MAX_TOTAL
FORMATS: tuple[str, ...] = ("png", "svg")
EMPTY_MESSAGE = "No check-ins in this range"
DEFAULT_TITLE = "Symptom scores"

# Every series the chart can draw, by its check-in field name; the default is the chart
# as it always was (four symptoms and the total).
GUT_SERIES: tuple[str, ...] = ("vomiting", "diarrhea")
CHECKIN_SERIES: tuple[str, ...] = (*CORE_SYMPTOMS, "total", *GUT_SERIES)
# An instrument's total is a series by the instrument's id, drawn on a panel of its own.
INSTRUMENT_SERIES: tuple[str, ...] = tuple(INSTRUMENTS)
SERIES: tuple[str, ...] = (*CHECKIN_SERIES, *INSTRUMENT_SERIES)
DEFAULT_SERIES: tuple[str, ...] = (*CORE_SYMPTOMS, "total")
# Beyond nine weeks, five daily lines are a tangle: plot weekly means instead.
WEEKLY_AFTER_DAYS = 62

FIGSIZE_IN = (10.0, 5.0)
# Extra height for each panel beyond the symptoms and the flags strip.
EXTRA_PANEL_IN = 1.6
DPI = 100
# The family every label is drawn in: the report's Noto Sans where installed.
NOTO_FAMILY, FALLBACK_FAMILY = "Noto Sans", "DejaVu Sans"
# Room for the y labels and flag names (left), the total's axis (right), the title (top),
# and the two-line date ticks with two legend rows (bottom).
MARGINS_IN = {"left": 1.25, "right": 0.75, "top": 0.45, "bottom": 1.05, "between": 0.2}

# Okabe-Ito colours plus distinct markers, so series stay apart for colour-blind
# readers and in greyscale print-outs.
_STYLE: dict[str, tuple[str, str]] = {
    "nausea": ("#E69F00", "o"),
    "aches": ("#0072B2", "s"),
    "anxiety": ("#009E73", "^"),
    "insomnia": ("#CC79A7", "D"),
    "total": ("#333333", "o"),
    "vomiting": ("#56B4E9", "v"),
    "diarrhea": ("#D55E00", "P"),
}
_LABELS: dict[str, str] = {"diarrhea": "Diarrhoea"}
_TOTAL_COLOUR = _STYLE["total"][0]

# PNG: drop the "Software" chunk (matplotlib version). SVG: drop the creation
# date and creator so repeated renders do not differ by timestamp.
_METADATA: dict[str, dict[str, None]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Panel:
    """One panel: the series it draws on its own y-axis (and, optionally, a right-hand one)."""

    key: str
    ylabel: str
    series: tuple[str, ...]
    maximum: int
    height: float
    right_series: tuple[str, ...] = ()
    right_maximum: int = 0
    right_ylabel: str = ""


# Top to bottom. A panel is drawn when any of its series is asked for.
PANELS: tuple[Panel, ...] = (
    Panel(
        "symptoms",
        f"Score (0–{SCORE_MAX})",
        CORE_SYMPTOMS,
        SCORE_MAX,
        3.0,
        right_series=("total",),
        right_maximum=MAX_TOTAL,
        right_ylabel=f"Total (0–{MAX_TOTAL})",
    ),
    # Two lines: a short panel's one-line label would run into its neighbours'.
    Panel("gut", f"Vomiting, diarrhoea\n(0–{SCORE_MAX})", GUT_SERIES, SCORE_MAX, 1.6),
)


@dataclass(frozen=True)
class Flag:
    """A kind of day the chart marks in its strip: a rule that fired, or a reported fact."""

    key: str
    label: str
    colour: str
    marker: str
    size: float


# Rule codes as the judgement names them (Reason.code), plus the reported opioid use.
FLAGS: tuple[Flag, ...] = (
    Flag("crisis", "Crisis", "#D55E00", "X", 9.0),
    Flag("overdose_risk", "Overdose risk", "#000000", "*", 11.0),
    Flag("dehydration_risk", "Dehydration risk", "#0072B2", "v", 8.0),
    Flag("used_opioids", "Opioid use", "#CC79A7", "o", 7.0),
)
_FLAGS_HEIGHT = 1.2
_INSTRUMENT_HEIGHT = 1.6
# Instruments in the figure legend's own rows below the check-in series (their names are long).
_INSTRUMENT_LEGEND_COLUMNS = 2
_INSTRUMENT_LEGEND_ROW_IN = 0.25
# Colours and markers apart from the check-in series' (and from each other).
_INSTRUMENT_STYLE: dict[str, tuple[str, str]] = dict(
    zip(INSTRUMENT_SERIES, (("#000000", "h"), ("#8C564B", "p"), ("#882255", "d")), strict=True)
)
_BAND_LINE = "#BBBBBB"
_BAND_TEXT = "#666666"


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


def _maximum(name: str) -> int:
    """The top of a series' scale."""
    return MAX_TOTAL if name == "total" else SCORE_MAX


def day_flags(day: Mapping[str, Any]) -> set[str]:
    """The flags of a day: the rule codes its judgement found, and reported opioid use."""
    flags = set(day.get("reason_codes") or ()) & {flag.key for flag in FLAGS}
    if day.get("used_opioids") is True:
        flags.add("used_opioids")
    return flags


def _short(day: date, *, year: bool = True) -> str:
    """A date as '2 Nov 2026' (or '2 Nov')."""
    text = f"{day.day} {_MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if year else text


def range_text(start: date, end: date) -> str:
    """A range as '2 Nov – 1 Dec 2026', naming each year once."""
    if start == end:
        return _short(end)
    return f"{_short(start, year=start.year != end.year)} – {_short(end)}"


def _tick_days(start: date, end: date) -> list[date]:
    """Days to tick: every day for short ranges, fixed days of each month for longer ones."""
    length = (end - start).days + 1
    if length <= 14:
        return [start + timedelta(days=i) for i in range(length)]
    # Fixed days of the month, so the 1st of each month is always a tick and month
    # ends never crowd it (no 29th or 31st right before a 1st).
    if length <= 31:
        monthdays = {1, 5, 9, 13, 17, 21, 25}
    elif length <= 62:
        monthdays = {1, 8, 15, 22}
    elif length <= 124:
        monthdays = {1, 15}
    else:
        monthdays = {1}
    ticks = [
        start + timedelta(days=i)
        for i in range(length)
        if (start + timedelta(days=i)).day in monthdays
    ]
    return ticks or [start]


def date_ticks(start: date, end: date) -> list[tuple[date, str]]:
    """Tick days and labels: the month is named where it changes, the year where it changes.

    Day ticks read '5 Nov' (and '2026' below it), '9', ..., '1 Dec'; month ticks (ranges
    over four months) read 'Dec' (2026 below), 'Jan' (2027 below), 'Feb'.
    """
    days = _tick_days(start, end)
    by_month = (end - start).days + 1 > 124
    ticks = []
    previous: date | None = None
    for day in days:
        new_year = previous is None or previous.year != day.year
        new_month = new_year or previous.month != day.month
        if by_month:
            label = _MONTHS[day.month - 1]
        elif new_month:
            label = _short(day, year=False)
        else:
            label = str(day.day)
        if new_year:
            # On a second line, so neighbouring ticks never collide with it.
            label += f"\n{day.year}"
        ticks.append((day, label))
        previous = day
    return ticks


def _weekly(days: Sequence[Mapping[str, Any]], names: Iterable[str]):
    """Weekly means of the logged days (7-day blocks from the first day), at each middle day."""
    first = days[0]["date"]
    last_week = (days[-1]["date"] - first).days // 7
    weeks: list[list[Mapping[str, Any]]] = [[] for _ in range(last_week + 1)]
    for day in days:
        weeks[(day["date"] - first).days // 7].append(day)
    # The middle of each block, the last one cut at the range's end.
    xs = [
        first.toordinal() + 7 * week + (min(6, (days[-1]["date"] - first).days - 7 * week)) / 2
        for week in range(last_week + 1)
    ]
    values: dict[str, list[float]] = {}
    for name in names:
        column = []
        for week in weeks:
            logged = [
                v for d in week if not math.isnan(v := _series_value(d, name, _maximum(name)))
            ]
            column.append(sum(logged) / len(logged) if logged else math.nan)
        values[name] = column
    return xs, values


def _daily(days: Sequence[Mapping[str, Any]], names: Iterable[str]):
    """The values of each day."""
    xs = [float(d["date"].toordinal()) for d in days]
    return xs, {name: [_series_value(d, name, _maximum(name)) for d in days] for name in names}


def _logged(day: Mapping[str, Any]) -> bool:
    """Whether a check-in exists for the day (every check-in has a total)."""
    return day.get("total") is not None


def _check_days(days: Sequence[Mapping[str, Any]], series: Sequence[str]) -> list:
    """Validate the input and return the days in date order."""
    unknown = [name for name in series if name not in SERIES]
    if unknown or not series:
        raise ValueError(f"unknown chart series {unknown!r}; use some of {SERIES}")
    for day in days:
        if not isinstance(day.get("date"), date):
            raise ValueError("every day needs a datetime.date under 'date'")
    return sorted(days, key=lambda d: d["date"])


def chart_title(days: Sequence[Mapping[str, Any]], title: str | None = None) -> str:
    """The heading drawn on the image: what, over which range, daily or weekly."""
    heading = title or DEFAULT_TITLE
    if not days:
        return heading
    ordered = sorted(d["date"] for d in days)
    weekly = len(ordered) > WEEKLY_AFTER_DAYS
    suffix = ", weekly means of logged days" if weekly else ""
    return f"{heading}, {range_text(ordered[0], ordered[-1])}{suffix}"


def _instrument_results(
    instruments: Iterable[Mapping[str, Any]], series: Sequence[str]
) -> dict[str, list[Mapping[str, Any]]]:
    """The recorded days of each instrument asked for, checked, in date order.

    `instruments` are series as trends give them (`instrument_id`, `days`); one asked for
    but not given has no results. The ranges come from the definitions, never the input.
    """
    given = {entry["instrument_id"]: entry.get("days") or () for entry in instruments}
    results = {}
    for instrument_id in INSTRUMENT_SERIES:
        if instrument_id not in series:
            continue
        instrument = INSTRUMENTS[instrument_id]
        days = list(given.get(instrument_id, ()))
        for day in days:
            total = day.get("total")
            if not isinstance(day.get("date"), date):
                raise ValueError(f"every {instrument_id} day needs a datetime.date under 'date'")
            if isinstance(total, bool) or not isinstance(total, int):
                raise ValueError(f"{instrument_id} on {day['date']} needs an int total")
            if not instrument.total_min <= total <= instrument.total_max:
                raise ValueError(
                    f"{instrument_id} on {day['date']} is outside "
                    f"{instrument.total_min}-{instrument.total_max}"
                )
        results[instrument_id] = sorted(days, key=lambda d: d["date"])
    return results


def empty_instrument_text(instrument: Instrument) -> str:
    """What an instrument's panel says when the range has no result of it."""
    return f"No {instrument.short_name} results in this range"


def instrument_description(results: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """Each drawn instrument's latest total (and its band where bands are published)."""
    parts = []
    for instrument_id, days in results.items():
        instrument = INSTRUMENTS[instrument_id]
        if not days:
            parts.append(empty_instrument_text(instrument) + ".")
            continue
        latest = days[-1]
        text = (
            f"Latest {instrument.short_name} {_short(latest['date'])}: total "
            f"{latest['total']} of {instrument.total_max}"
        )
        if instrument.bands:
            band = instrument.band_for(latest["total"])
            text += f", {band.label}" if band else ", below the published bands"
        parts.append(text + ".")
    return " ".join(parts)


def chart_description(days: Sequence[Mapping[str, Any]]) -> str:
    """A sentence or three summarising the chart for a screen reader."""
    if not days:
        return "No days to show."
    ordered = sorted(days, key=lambda d: d["date"])
    logged = [d for d in ordered if _logged(d)]
    parts = [
        f"Daily check-ins from {_short(ordered[0]['date'])} to {_short(ordered[-1]['date'])}: "
        f"{len(logged)} of {len(ordered)} days logged."
    ]
    if not logged:
        return parts[0]
    latest = logged[-1]
    level = latest.get("level")
    parts.append(
        f"Latest check-in {_short(latest['date'])}: total {latest['total']} of {MAX_TOTAL}"
        + (f", level {level}." if level else ".")
    )
    counts = [
        f"{flag.label.lower()} {sum(1 for d in ordered if flag.key in day_flags(d))}"
        for flag in FLAGS
    ]
    parts.append("Days flagged: " + ", ".join(counts) + ".")
    return " ".join(parts)


def chart_alt_text(days: Sequence[Mapping[str, Any]]) -> str:
    """The chart's title and description as one text: a document's alternative text for it."""
    return f"{chart_title(days)}. {chart_description(days)}"


def render_chart(
    days: Sequence[Mapping[str, Any]],
    fmt: str = "png",
    title: str | None = None,
    *,
    series: Sequence[str] = DEFAULT_SERIES,
    dpi: int = DPI,
    instruments: Iterable[Mapping[str, Any]] = (),
) -> bytes:
    """Render per-day scores, totals, instrument totals and flagged days; PNG or SVG bytes.

    `instruments`: the trends' instrument series; those named in `series` are drawn.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unsupported chart format {fmt!r}; use one of {FORMATS}")
    instruments = tuple(instruments)
    fig = chart_figure(days, title, series=series, instruments=instruments)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, metadata=_METADATA[fmt])
    if fmt == "svg":
        desc = chart_description(days)
        results = _instrument_results(instruments, series)
        if results:
            desc += " " + instrument_description(results)
        return _with_title_and_desc(buf.getvalue(), chart_title(days, title), desc)
    return buf.getvalue()


def _with_title_and_desc(svg: bytes, title: str, desc: str) -> bytes:
    """Give the SVG root an accessible name and description (`<title>`, `<desc>`)."""
    head, sep, rest = svg.partition(b"<svg ")
    root_end = rest.index(b">") + 1
    labelled = b'role="img" aria-labelledby="chart-title chart-desc" '
    elements = (
        f'<title id="chart-title">{escape(title)}</title>'
        f'<desc id="chart-desc">{escape(desc)}</desc>'
    ).encode()
    return head + sep + labelled + rest[:root_end] + elements + rest[root_end:]


_MATPLOTLIB_READY = False


def _matplotlib():
    """Import matplotlib on first use and set the process-wide options the chart needs."""
    global _MATPLOTLIB_READY
    import matplotlib

    if not _MATPLOTLIB_READY:
        # Set once and never changed, so concurrent renders never see them move: SVG text
        # stays <text> (selectable, read aloud), and SVG ids do not change between renders.
        matplotlib.rcParams["svg.fonttype"] = "none"
        matplotlib.rcParams["svg.hashsalt"] = "steady-chart"
        # The report's own font where installed (a PDF then embeds one font, not two),
        # registered by file so a font cache built before it was installed cannot hide it;
        # else matplotlib's own DejaVu Sans. Never the machine's matplotlibrc default.
        family = FALLBACK_FAMILY
        if installed(NOTO_BODY):
            from matplotlib import font_manager

            for path in (NOTO_BODY.regular, NOTO_BODY.bold):
                font_manager.fontManager.addfont(str(path))
            family = NOTO_FAMILY
        matplotlib.rcParams["font.family"] = [family]
        _MATPLOTLIB_READY = True
    return matplotlib


def chart_figure(
    days: Sequence[Mapping[str, Any]],
    title: str | None = None,
    *,
    series: Sequence[str] = DEFAULT_SERIES,
    instruments: Iterable[Mapping[str, Any]] = (),
):
    """Draw the chart on a fresh Figure: the panels asked for, then the flagged days."""
    ordered = _check_days(days, series)
    results = _instrument_results(instruments, series)
    # Imported here so API processes that never draw a chart skip matplotlib's
    # import cost (about half a second and tens of MB).
    _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    wanted = set(series)
    panels = [p for p in PANELS if wanted & {*p.series, *p.right_series}]
    heights = [p.height for p in panels] + [_INSTRUMENT_HEIGHT] * len(results) + [_FLAGS_HEIGHT]
    width, height = FIGSIZE_IN
    legend_in = _INSTRUMENT_LEGEND_ROW_IN * math.ceil(len(results) / _INSTRUMENT_LEGEND_COLUMNS)
    size = (width, height + EXTRA_PANEL_IN * (len(panels) + len(results) - 1) + legend_in)
    # Figure, not pyplot: no global figure registry, so concurrent requests in
    # threaded workers cannot touch each other's state or leak figures.
    fig = Figure(figsize=size, dpi=DPI)
    FigureCanvasAgg(fig)
    axes = fig.subplots(
        len(heights),
        1,
        sharex=True,
        height_ratios=heights,
        squeeze=False,
        gridspec_kw=_margins(size, len(heights), extra_bottom=legend_in),
    )
    axes = [row[0] for row in axes]

    n = len(ordered)
    weekly = n > WEEKLY_AFTER_DAYS
    names = [name for name in CHECKIN_SERIES if name in wanted]
    xs, values = (_weekly if weekly else _daily)(ordered, names)
    marker_size = 5.0 if n <= 45 or weekly else 3.5

    handles = []
    for panel, ax in zip(panels, axes, strict=False):
        handles += _draw_panel(ax, panel, xs, values, wanted, marker_size)
    instrument_axes = axes[len(panels) : len(panels) + len(results)]
    instrument_handles = [
        _draw_instrument(ax, INSTRUMENTS[instrument_id], recorded, marker_size, weekly=weekly)
        for ax, (instrument_id, recorded) in zip(instrument_axes, results.items(), strict=True)
    ]
    handles += _draw_flags(axes[-1], ordered)

    _date_axis(axes, ordered)
    # The check-in notes go on the check-in panels (or the flags strip), never an instrument's.
    checkin_axes = [*axes[: len(panels)], axes[-1]]
    first_logged = next((d["date"] for d in ordered if _logged(d)), None)
    if first_logged is None:
        checkin_axes[0].text(
            0.5,
            0.5,
            EMPTY_MESSAGE,
            transform=checkin_axes[0].transAxes,
            ha="center",
            va="center",
            fontsize=14,
            color="#555555",
            gid="empty-message",
        )
    elif first_logged > ordered[0]["date"]:
        _no_checkins_before(checkin_axes, ordered[0]["date"], first_logged)

    # Placed explicitly: nothing is drawn above the top panel, and an automatic title
    # position makes matplotlib lay out the axis's ticks again on every draw.
    axes[0].set_title(chart_title(ordered, title), fontsize=13, loc="left", y=1.0)
    # Legend outside the plotting area so it never hides data points.
    fig.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, legend_in / size[1]),
        ncols=min(len(handles), 6),
        frameon=False,
    )
    if instrument_handles:
        # The instruments' full names in rows of their own, under the check-in series.
        fig.legend(
            handles=instrument_handles,
            loc="lower center",
            bbox_to_anchor=(0.5, 0.0),
            ncols=min(len(instrument_handles), _INSTRUMENT_LEGEND_COLUMNS),
            frameon=False,
            prop={"size": 9},
        )
    return fig


def _margins(size: tuple[float, float], rows: int, extra_bottom: float = 0.0) -> dict[str, float]:
    """Fixed margins (in inches, as figure fractions) for the labels, title and legend.

    Fixed rather than matplotlib's constrained layout, which measures every text twice
    and more than doubled the render time.
    """
    width, height = size
    gap = MARGINS_IN["between"]
    bottom = MARGINS_IN["bottom"] + extra_bottom
    plot_height = height - MARGINS_IN["top"] - bottom
    mean_axes_height = (plot_height - gap * (rows - 1)) / rows
    return {
        "left": MARGINS_IN["left"] / width,
        "right": 1 - MARGINS_IN["right"] / width,
        "top": 1 - MARGINS_IN["top"] / height,
        "bottom": bottom / height,
        "hspace": gap / mean_axes_height,
    }


def _plot(ax, xs, ys, name: str, marker_size: float, **style):
    """One series line with its marker and legend label."""
    colour, marker = _STYLE[name]
    (line,) = ax.plot(
        xs,
        ys,
        color=colour,
        marker=marker,
        markersize=marker_size,
        linewidth=1.8,
        label=_LABELS.get(name, name.capitalize()),
        gid=f"series-{name}",
        **style,
    )
    return line


def _draw_panel(ax, panel: Panel, xs, values, wanted: set[str], marker_size: float):
    """Draw one panel's series on its own y-axis (and the right-hand one); return handles."""
    handles = [
        _plot(ax, xs, values[name], name, marker_size) for name in panel.series if name in wanted
    ]
    ax.set_ylim(-0.03 * panel.maximum, panel.maximum * 1.03)
    ax.set_yticks(range(0, panel.maximum + 1, 2 if panel.maximum <= 10 else 8))
    ax.set_ylabel(panel.ylabel)
    right = [name for name in panel.right_series if name in wanted]
    if right:
        twin = ax.twinx()
        for name in right:
            handles.append(
                _plot(
                    twin,
                    xs,
                    values[name],
                    name,
                    marker_size,
                    linestyle=(0, (5, 3)),
                    markerfacecolor="white",
                )
            )
        # The same 1:4 ratio as the left axis, so both share gridlines.
        twin.set_ylim(-0.03 * panel.right_maximum, panel.right_maximum * 1.03)
        twin.set_yticks(range(0, panel.right_maximum + 1, panel.right_maximum // 5))
        twin.set_ylabel(panel.right_ylabel, color=_TOTAL_COLOUR)
        twin.spines["top"].set_visible(False)
        # Symptom lines above the total: twin axes draw on top by default.
        ax.set_zorder(twin.get_zorder() + 1)
        ax.patch.set_visible(False)
    ax.grid(axis="y", color="#DDDDDD", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.spines["top"].set_visible(False)
    return handles


def instrument_points(days: Sequence[Mapping[str, Any]]) -> tuple[list[float], list[float]]:
    """Each recorded day's total at its day; a gap (NaN) between days not consecutive."""
    xs: list[float] = []
    ys: list[float] = []
    for day in days:
        x = float(day["date"].toordinal())
        if xs and x - xs[-1] > 1:
            # A line across days without a result would draw totals nobody recorded.
            xs.append(math.nan)
            ys.append(math.nan)
        xs.append(x)
        ys.append(float(day["total"]))
    return xs, ys


def _instrument_ticks(low: int, high: int) -> list[int]:
    """Up to seven round ticks that divide the total range evenly."""
    span = high - low
    step = next(
        (s for s in (1, 2, 5, 8, 10, 12, 16, 20) if span % s == 0 and span // s <= 6), span
    )
    return list(range(low, high + 1, max(step, 1)))


def _draw_instrument(
    ax, instrument: Instrument, days: Sequence[Mapping[str, Any]], marker_size: float, *, weekly
):
    """One instrument's daily totals on its own total range, its bands where published."""
    colour, marker = _INSTRUMENT_STYLE[instrument.id]
    xs, ys = instrument_points(days)
    (line,) = ax.plot(
        xs,
        ys,
        color=colour,
        marker=marker,
        markersize=marker_size + 1,
        linewidth=1.5,
        # Results are sparse, so they stay daily when the check-in lines are weekly means.
        label=f"{instrument.name}, daily" if weekly else instrument.name,
        gid=f"series-{instrument.id}",
    )
    low, high = instrument.total_min, instrument.total_max
    pad = 0.04 * (high - low)
    ax.set_ylim(low - pad, high + pad)
    ax.set_yticks(_instrument_ticks(low, high))
    ax.set_ylabel(f"{instrument.short_name}\n({low}–{high})", fontsize=9)
    for band in instrument.bands:
        # Totals are whole numbers: the boundary sits half-way, so no point is on a line.
        if band.low > low:
            ax.axhline(
                band.low - 0.5,
                color=_BAND_LINE,
                linewidth=0.8,
                zorder=0.5,
                gid=f"band-{instrument.id}-{band.code}",
            )
        ax.text(
            1.01,
            (band.low + band.high) / 2,
            textwrap.fill(band.label, 10),
            transform=ax.get_yaxis_transform(),
            ha="left",
            va="center",
            fontsize=7.5,
            color=_BAND_TEXT,
            gid=f"band-label-{instrument.id}-{band.code}",
        )
    if not days:
        ax.text(
            0.5,
            0.5,
            empty_instrument_text(instrument),
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=11,
            color="#555555",
            gid=f"empty-{instrument.id}",
        )
    if not instrument.bands:
        ax.grid(axis="y", color="#EEEEEE", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    return line


def _draw_flags(ax, ordered: Sequence[Mapping[str, Any]]):
    """The strip of flagged days: one labelled row per flag, a marker on each such day."""
    flags_by_day = [(d["date"].toordinal(), day_flags(d)) for d in ordered]
    handles = []
    rows = len(FLAGS)
    for row, flag in enumerate(FLAGS):
        xs = [x for x, flags in flags_by_day if flag.key in flags]
        y = rows - 1 - row
        (line,) = ax.plot(
            xs,
            [y] * len(xs),
            linestyle="none",
            marker=flag.marker,
            markersize=flag.size,
            color=flag.colour,
            markeredgecolor="white" if flag.marker != "o" else flag.colour,
            markerfacecolor=flag.colour if flag.marker != "o" else "none",
            label=f"{flag.label} day",
            gid=f"flag-{flag.key}",
        )
        handles.append(line)
    ax.set_ylim(-0.7, rows - 0.3)
    # The rows are named in words, so no flag is told by colour or shape alone.
    ax.set_yticks(range(rows), [f.label for f in reversed(FLAGS)], fontsize=8)
    ax.grid(axis="y", color="#EEEEEE", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    return handles


def _date_axis(axes, ordered: Sequence[Mapping[str, Any]]) -> None:
    """Day-true ticks and a margin so the first and last points stay off the frame."""
    bottom = axes[-1]
    if not ordered:
        bottom.set_xticks([])
        return
    start, end = ordered[0]["date"], ordered[-1]["date"]
    # Half a day plus a share of the range: a marker on the last day never touches the edge.
    pad = 0.5 + 0.015 * ((end - start).days + 1)
    bottom.set_xlim(start.toordinal() - pad, end.toordinal() + pad)
    ticks = date_ticks(start, end)
    bottom.set_xticks([day.toordinal() for day, _ in ticks], [label for _, label in ticks])


def _no_checkins_before(axes, start: date, first_logged: date) -> None:
    """Shade the empty start of the range and say why it is empty."""
    left, right = start.toordinal() - 0.5, first_logged.toordinal() - 0.5
    for ax in axes:
        ax.axvspan(left, right, color="#F2F2F2", zorder=0, linewidth=0)
    axes[0].text(
        left,
        0.97,
        f" No check-ins before {_short(first_logged)}",
        transform=axes[0].get_xaxis_transform(),
        ha="left",
        va="top",
        fontsize=9,
        color="#444444",
        gid="no-checkins-before",
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1.5},
    )
