"""Tests for PNG/SVG trend chart rendering."""

import math
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.trends.chart import SYMPTOMS, render_chart

REPO_ROOT = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
END = date(2026, 11, 24)


def make_days(n: int, logged_every: int = 1) -> list[dict]:
    """Build n consecutive days, logging only every `logged_every`-th day."""
    days = []
    for i in range(n):
        day: dict = {"date": END - timedelta(days=n - 1 - i)}
        if i % logged_every == 0:
            scores = {name: (i + 3 * j) % 11 for j, name in enumerate(SYMPTOMS)}
            day |= scores | {"total": sum(scores.values())}
        else:
            day |= dict.fromkeys((*SYMPTOMS, "total"))
        days.append(day)
    return days


def png_size(data: bytes) -> tuple[int, int]:
    """Return (width, height) from the PNG IHDR chunk."""
    assert data[:8] == PNG_SIGNATURE
    length, chunk_type = struct.unpack(">I4s", data[8:16])
    assert chunk_type == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def assert_svg(data: bytes) -> ET.Element:
    """Parse SVG bytes and check the root element."""
    root = ET.fromstring(data)
    assert root.tag.endswith("svg")
    return root


@pytest.mark.parametrize("n", [1, 30, 366])
def test_png_renders_at_expected_size(n: int) -> None:
    """1, 30 and 366 days give a 1000x500 PNG of sensible byte size."""
    data = render_chart(make_days(n, logged_every=3 if n > 1 else 1))
    assert png_size(data) == (1000, 500)
    assert 5 * 1024 < len(data) < 1024 * 1024


@pytest.mark.parametrize("n", [1, 30, 366])
def test_svg_renders(n: int) -> None:
    """1, 30 and 366 days give well-formed SVG without a timestamp."""
    data = render_chart(make_days(n), fmt="svg", title="Symptoms")
    assert_svg(data)
    assert b"<dc:date>" not in data


def test_empty_range_renders_message() -> None:
    """A range with no check-ins still renders, with an explanatory note."""
    days = make_days(14, logged_every=10**6)
    for day in days:
        for key in (*SYMPTOMS, "total"):
            day[key] = None
    assert png_size(render_chart(days)) == (1000, 500)
    svg = render_chart(days, fmt="svg")
    assert_svg(svg)
    assert b"No check-ins in this range" in svg


def test_no_days_at_all_renders() -> None:
    """An empty list renders an empty chart rather than failing."""
    assert png_size(render_chart([])) == (1000, 500)


def test_gaps_and_isolated_day_render() -> None:
    """None values become gaps, and a lone logged day between gaps is allowed."""
    days = make_days(30)
    for i in (10, 11, 13, 14):
        for key in (*SYMPTOMS, "total"):
            days[i][key] = None
    days[5]["anxiety"] = None
    assert png_size(render_chart(days)) == (1000, 500)
    assert_svg(render_chart(days, fmt="svg"))


def test_unsorted_input_is_accepted() -> None:
    """Days given out of order still render."""
    days = list(reversed(make_days(10)))
    assert png_size(render_chart(days)) == (1000, 500)


@pytest.mark.parametrize("fmt", ["jpg", "PDF", "", "Png"])
def test_bad_format_raises(fmt: str) -> None:
    """Only png and svg are accepted."""
    with pytest.raises(ValueError, match="format"):
        render_chart(make_days(3), fmt=fmt)


@pytest.mark.parametrize(
    ("field", "value"),
    [("nausea", 11), ("aches", -1), ("total", 41), ("insomnia", 2.5), ("anxiety", "3")],
)
def test_out_of_range_or_wrong_type_raises(field: str, value: object) -> None:
    """Scores outside the chart's fixed scales are rejected, not clipped."""
    days = make_days(3)
    days[1][field] = value
    with pytest.raises(ValueError, match=field):
        render_chart(days)


def test_missing_date_raises() -> None:
    """Every day needs a datetime.date."""
    with pytest.raises(ValueError, match="date"):
        render_chart([{"date": "2026-11-24", "nausea": 1}])


def test_png_is_repeatable() -> None:
    """The same input gives byte-identical PNGs (no timestamps or version)."""
    days = make_days(30, logged_every=2)
    first = render_chart(days)
    assert first == render_chart(days)
    assert b"Software" not in first


def test_import_does_not_load_matplotlib() -> None:
    """Importing the module leaves matplotlib unloaded until a chart is drawn."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; import server.trends.chart; print('matplotlib' in sys.modules)",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "False"


def test_concurrent_renders_match_serial() -> None:
    """Renders in parallel threads equal a serial render (no shared state)."""
    from concurrent.futures import ThreadPoolExecutor

    inputs = [make_days(n, logged_every=k) for n, k in ((7, 1), (30, 2), (90, 3))]
    expected = [render_chart(days) for days in inputs]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(render_chart, inputs * 4))
    assert results == expected * 4


# --- Golden structure (issue 14): what a reader sees, checked as text, not pixels -------------

SVG = "{http://www.w3.org/2000/svg}"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def span(start: date, n: int, **values) -> list[dict]:
    """n days from start, each logged with the same scores plus `values`."""
    scores = dict.fromkeys(SYMPTOMS, 2)
    return [{"date": start + timedelta(days=i), **scores, "total": 8, **values} for i in range(n)]


def tick_days(ticks) -> list[date]:
    """Read tick labels as a person would: a bare number is a day of the month last named,
    a month name alone is its 1st, a year applies until the next one."""
    month = year = None
    read = []
    for label in ticks:
        words = label.split()
        day = 1
        for word in words:
            if word in MONTHS:
                month = MONTHS.index(word) + 1
            elif word.isdigit() and len(word) == 4:
                year = int(word)
            elif word.isdigit():
                day = int(word)
            else:
                raise AssertionError(f"unreadable tick {label!r}")
        assert month is not None and year is not None, f"{label!r} names no month or year"
        read.append(date(year, month, day))
    return read


def figure_ticks(fig) -> list[tuple[date, str]]:
    """The bottom axis' tick positions (as days) and labels of a drawn figure."""
    from matplotlib.dates import num2date

    fig.canvas.draw()
    # The axis that shows labels (shared x: only the bottom one does).
    axis = next(a for a in fig.axes if a.get_xticklabels() and a.get_xticklabels()[0].get_text())
    positions = axis.get_xticks()
    labels = [t.get_text() for t in axis.get_xticklabels()]
    # Positions are day numbers; main's code used matplotlib date numbers.
    days = [date.fromordinal(round(x)) if x > 100000 else num2date(x).date() for x in positions]
    return list(zip(days, labels, strict=True))


def legend_texts(fig) -> list[str]:
    """Every legend entry of the figure."""
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def test_month_boundary_ticks_name_november_as_november() -> None:
    """2 Nov - 1 Dec: November days carry November, 1 Dec is marked (was '05 ... 29 Dec')."""
    from server.trends.chart import chart_figure

    fig = chart_figure(span(date(2026, 11, 2), 30))
    ticks = figure_ticks(fig)
    assert [label for _, label in ticks] == ["5 Nov\n2026", "9", "13", "17", "21", "25", "1 Dec"]
    assert tick_days(label for _, label in ticks) == [day for day, _ in ticks]


@pytest.mark.parametrize(
    ("start", "n"),
    [(date(2026, 11, 2), 30), (date(2024, 2, 20), 15), (date(2026, 12, 20), 20), (END, 366)],
)
def test_drawn_ticks_agree_with_their_days(start: date, n: int) -> None:
    """On a drawn figure every tick label reads as the day it sits on."""
    from server.trends.chart import chart_figure

    ticks = figure_ticks(chart_figure(span(start, n)))
    assert ticks
    assert tick_days(label for _, label in ticks) == [day for day, _ in ticks]


@given(
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 1, 1)),
    n=st.integers(min_value=1, max_value=366),
)
def test_every_range_from_1_to_366_days_has_true_ticks(start: date, n: int) -> None:
    """Any start, any length: labels agree with their days, inside the range, at most 15."""
    from server.trends.chart import date_ticks

    end = start + timedelta(days=n - 1)
    ticks = date_ticks(start, end)
    days = [day for day, _ in ticks]
    assert 1 <= len(ticks) <= 15
    assert all(start <= day <= end for day in days)
    assert days == sorted(set(days))
    assert tick_days(label for _, label in ticks) == days
    # Every 1st of a month in the range is a tick, so month starts are always shown.
    assert {
        start + timedelta(days=i) for i in range(n) if (start + timedelta(days=i)).day == 1
    } <= set(days)


def flagged_month() -> list[dict]:
    """30 days from 2 Nov, logged from 9 Nov, with each kind of flagged day."""
    days = span(date(2026, 11, 2), 30)
    for day in days[:7]:
        day.update(dict.fromkeys((*SYMPTOMS, "total")))
    days[10]["used_opioids"] = True  # 12 Nov
    days[10]["reason_codes"] = ("overdose_risk",)
    days[18]["vomiting"] = days[19]["vomiting"] = 8  # 20, 21 Nov
    days[19]["reason_codes"] = ("dehydration_risk", "no_baseline")
    days[23]["reason_codes"] = ("crisis",)  # 25 Nov
    days[23]["level"] = "crisis"
    days[29]["level"] = "severe"  # 1 Dec, the latest day
    return days


def test_flagged_days_have_markers_and_legend_entries() -> None:
    """Crisis, overdose risk, dehydration risk and opioid use each get marked on their day."""
    from server.trends.chart import chart_figure

    fig = chart_figure(flagged_month())
    lines = {line.get_gid(): line for ax in fig.axes for line in ax.get_lines()}

    def marked(gid: str) -> list[date]:
        return [date.fromordinal(round(x)) for x in lines[gid].get_xdata()]

    assert marked("flag-crisis") == [date(2026, 11, 25)]
    assert marked("flag-overdose_risk") == [date(2026, 11, 12)]
    assert marked("flag-dehydration_risk") == [date(2026, 11, 21)]
    assert marked("flag-used_opioids") == [date(2026, 11, 12)]
    legend = legend_texts(fig)
    for entry in ("Crisis day", "Overdose risk day", "Dehydration risk day", "Opioid use day"):
        assert entry in legend
    # Never colour alone: each flag has its own shape and its row is named in words.
    shapes = {lines[f"flag-{key}"].get_marker() for key in FLAG_KEYS}
    assert len(shapes) == len(FLAG_KEYS)
    strip = lines["flag-crisis"].axes
    assert [t.get_text() for t in strip.get_yticklabels()] == [
        "Opioid use",
        "Dehydration risk",
        "Overdose risk",
        "Crisis",
    ]


FLAG_KEYS = ("crisis", "overdose_risk", "dehydration_risk", "used_opioids")


def test_vomiting_and_diarrhoea_get_their_own_panel() -> None:
    """Asking for them draws both on a 0-10 panel of their own, with legend words."""
    from server.trends.chart import chart_figure

    days = flagged_month()
    fig = chart_figure(days, series=("total", "vomiting", "diarrhea"))
    lines = {line.get_gid(): line for ax in fig.axes for line in ax.get_lines()}
    vomiting = list(lines["series-vomiting"].get_ydata())
    assert vomiting[18:20] == [8.0, 8.0]
    assert all(math.isnan(v) for i, v in enumerate(vomiting) if i not in (18, 19))
    assert lines["series-vomiting"].axes is lines["series-diarrhea"].axes
    assert lines["series-vomiting"].axes is not lines["series-total"].axes
    assert "series-nausea" not in lines
    assert {"Total", "Vomiting", "Diarrhoea"} <= set(legend_texts(fig))


def test_unknown_series_raises() -> None:
    """A series the chart does not know is an error naming it."""
    with pytest.raises(ValueError, match="cravings"):
        render_chart(make_days(3), series=("cravings",))


def test_empty_start_says_since_when_and_title_names_the_range() -> None:
    """The empty left part is explained, and the image names its range."""
    svg = assert_svg(render_chart(flagged_month(), fmt="svg"))
    words = ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]
    assert " No check-ins before 9 Nov 2026" in words
    assert "Symptom scores, 2 Nov – 1 Dec 2026" in words


@pytest.mark.parametrize("n", [1, 30, 90, 366])
def test_first_and_last_points_stay_off_the_frame(n: int) -> None:
    """At least 8 px between the outermost markers and the left and right edges."""
    from server.trends.chart import chart_figure

    fig = chart_figure(span(END - timedelta(days=n - 1), n))
    fig.canvas.draw()
    ax = fig.axes[0]
    left, right = ax.get_window_extent().x0, ax.get_window_extent().x1
    # convert_xunits: day numbers stay as they are, datetimes become matplotlib's numbers.
    xs = [float(ax.convert_xunits(x)) for line in ax.get_lines() for x in line.get_xdata()]
    pixels = ax.transData.transform([(min(xs), 0), (max(xs), 0)])[:, 0]
    assert pixels[0] - left >= 8
    assert right - pixels[1] >= 8


def test_long_ranges_plot_weekly_means_and_say_so() -> None:
    """90 days: 13 points per line, each the mean of its week's logged days."""
    from server.trends.chart import chart_figure

    start = date(2026, 1, 5)
    days = span(start, 90)
    for i, day in enumerate(days):
        # Week k scores nausea k (0-10), with one day of each week not logged.
        day["nausea"] = (i // 7) % 11
        if i % 7 == 3:
            day.update(dict.fromkeys((*SYMPTOMS, "total")))
    fig = chart_figure(days)
    lines = {line.get_gid(): line for ax in fig.axes for line in ax.get_lines()}
    nausea = lines["series-nausea"]
    assert list(nausea.get_ydata()) == [float(k % 11) for k in range(13)]
    # Each week sits on its middle day: 8 Jan is the middle of 5-11 Jan.
    assert date.fromordinal(round(nausea.get_xdata()[0])) == date(2026, 1, 8)
    # The last block is 6 days (30 Mar - 4 Apr): its middle is half-way between 1 and 2 Apr.
    assert nausea.get_xdata()[-1] == date(2026, 4, 1).toordinal() + 0.5
    assert fig.axes[0].get_title(loc="left").endswith("weekly means of logged days")


def test_svg_keeps_text_and_has_title_and_desc() -> None:
    """Text is <text>, not glyph paths; <title> and <desc> give the range and latest level."""
    svg = assert_svg(render_chart(flagged_month(), fmt="svg"))
    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "Symptom scores, 2 Nov – 1 Dec 2026"
    desc = svg.find(f"{SVG}desc").text
    assert "from 2 Nov 2026 to 1 Dec 2026: 23 of 30 days logged" in desc
    assert "Latest check-in 1 Dec 2026: total 8 of 40, level severe." in desc
    assert "crisis 1, overdose risk 1, dehydration risk 1, opioid use 1" in desc
    words = {"".join(t.itertext()) for t in svg.iter(f"{SVG}text")}
    assert {"Nausea", "Total", "Crisis day", "5 Nov", "1 Dec"} <= words


def test_svg_is_repeatable() -> None:
    """The same input gives byte-identical SVG (fixed ids, no date)."""
    days = flagged_month()
    assert render_chart(days, fmt="svg") == render_chart(days, fmt="svg")


def test_print_resolution_keeps_the_layout() -> None:
    """dpi=300 gives three times the pixels of the same picture."""
    data = render_chart(make_days(30), dpi=300)
    assert png_size(data) == (3000, 1500)
