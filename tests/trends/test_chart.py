"""Tests for PNG/SVG trend chart rendering."""

import io
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

import pytest

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
    # Text is drawn as glyph paths; the message survives as an SVG comment.
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


def test_chart_image_for_pdfs_is_the_same_picture_without_png_encoding() -> None:
    from PIL import Image

    from server.trends.chart import render_chart_image

    days = make_days(30, logged_every=2)
    image = render_chart_image(days)
    png = Image.open(io.BytesIO(render_chart(days)))
    assert image.mode == "RGB"
    assert image.size == png.size == (1000, 500)
    assert image.tobytes() == png.convert("RGB").tobytes()
