"""The chart drawn straight onto a PDF page: where matplotlib put each mark, in its colours."""

import ctypes
import io
from datetime import UTC, date, datetime, timedelta

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
import pytest
import time_machine
from fpdf import FPDF
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from pypdf import PdfReader

from server.exports.pdf_chart import ChartUndrawable, figure_operations, place_figure
from server.trends.chart import chart_figure


def _page_of(figure: Figure) -> tuple[bytes, float]:
    """The figure alone on a page of its own size at (0, 0), 100 %; (PDF, height in pt)."""
    width_pt, height_pt, items = figure_operations(figure)
    pdf = FPDF(unit="pt", format=(width_pt, height_pt))
    pdf.add_page()
    families: dict[str, str] = {}

    def font(path: str) -> tuple[str, str]:
        if path not in families:
            families[path] = f"f{len(families)}"
            pdf.add_font(families[path], "", path)
        return families[path], ""

    place_figure(pdf, items, x=0, y=0, height_pt=height_pt, scale=1.0, font=font)
    return bytes(pdf.output()), height_pt


def _objects(pdf: bytes, kind: int) -> list:
    """The first page's objects of one type."""
    page = pdfium.PdfDocument(pdf)[0]
    return [o for o in page.get_objects() if o.type == kind]


def _colour(getter, obj) -> tuple[int, int, int, int]:
    """An object's stroke or fill colour as 0–255 RGBA."""
    channels = [ctypes.c_uint() for _ in range(4)]
    assert getter(obj.raw, *(ctypes.byref(c) for c in channels))
    return tuple(c.value for c in channels)


def _points(path) -> list[float]:
    """A path object's points, flattened: x0, y0, x1, y1, …"""
    points = []
    for index in range(pdfium_raw.FPDFPath_CountSegments(path.raw)):
        segment = pdfium_raw.FPDFPath_GetPathSegment(path.raw, index)
        x, y = ctypes.c_float(), ctypes.c_float()
        assert pdfium_raw.FPDFPathSegment_GetPoint(segment, ctypes.byref(x), ctypes.byref(y))
        points += [x.value, y.value]
    return points


def _line_figure(**style) -> Figure:
    """One line across an axes that fills the figure (no ticks or frame)."""
    figure = Figure(figsize=(2, 1), facecolor="none")
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_axis_off()
    axes.set_xlim(0, 4)
    axes.set_ylim(0, 2)
    axes.plot([0, 1, 2, 3, 4], [1, 1, 1, 1, 1], **style)
    return figure


def test_every_text_sits_where_matplotlib_laid_it_out() -> None:
    """Each label starts where matplotlib laid it out (its origin within 1 pt of its box)."""
    days = [
        {"date": date(2026, 11, 2) + timedelta(days=i), "nausea": i % 10, "aches": 4}
        | {"anxiety": 5, "insomnia": 6, "total": i % 10 + 15}
        for i in range(30)
    ]
    figure = chart_figure(days)
    pdf, height_pt = _page_of(figure)
    figure.dpi = 72
    renderer = figure.canvas.get_renderer()
    expected = {}  # text → (left, baseline) of matplotlib's own layout, in points
    for text in figure.findobj(Text):
        label = text.get_text()
        if not text.get_visible() or not label.strip() or text.get_rotation() or "\n" in label:
            continue
        box = text.get_window_extent(renderer)
        # matplotlib puts a line's baseline the descent of "lp" above its box's bottom.
        descent = renderer.get_text_width_height_descent("lp", text.get_fontproperties(), False)
        expected[label] = (box.x0, box.y0 + descent[2])
    textpage = pdfium.PdfDocument(pdf)[0].get_textpage()
    drawn = textpage.get_text_range()
    origins = {}  # text → its first character's origin, each place it was drawn
    for label in expected:
        at = drawn.find(label)
        while at >= 0:
            x, y = ctypes.c_double(), ctypes.c_double()
            assert pdfium_raw.FPDFText_GetCharOrigin(textpage.raw, at, x, y)
            origins.setdefault(label, []).append((x.value, y.value))
            at = drawn.find(label, at + 1)
    checked = 0
    for label, (left, baseline) in expected.items():
        # Some labels recur inside others ("1" in "10"): one of the places must match.
        assert any(
            x == pytest.approx(left, abs=1.0) and y == pytest.approx(baseline, abs=1.0)
            for x, y in origins.get(label, [])
        ), (label, left, baseline, origins.get(label))
        checked += 1
    assert checked >= 10  # title, legend entries and tick labels


def test_a_line_keeps_its_colour_width_and_dashes() -> None:
    """matplotlib's red dashed line of 2 pt is a red dashed 2 pt stroke in the PDF."""
    figure = _line_figure(color="#FF0000", linewidth=2, linestyle=(0, (5, 3)))
    pdf, _ = _page_of(figure)
    (path,) = _objects(pdf, pdfium_raw.FPDF_PAGEOBJ_PATH)
    assert _colour(pdfium_raw.FPDFPageObj_GetStrokeColor, path) == (255, 0, 0, 255)
    width = ctypes.c_float()
    assert pdfium_raw.FPDFPageObj_GetStrokeWidth(path.raw, ctypes.byref(width))
    assert width.value == pytest.approx(2.0)
    count = pdfium_raw.FPDFPageObj_GetDashCount(path.raw)
    dashes = (ctypes.c_float * count)()
    assert pdfium_raw.FPDFPageObj_GetDashArray(path.raw, dashes, count)
    # matplotlib scales a dash pattern by the line width: (5, 3) at 2 pt is 10 on, 6 off.
    assert list(dashes) == pytest.approx([10.0, 6.0])
    # Five points across the 144 × 72 pt figure, at half its height.
    assert _points(path) == pytest.approx([0, 36, 36, 36, 72, 36, 108, 36, 144, 36], abs=0.01)


def test_each_marker_is_drawn_at_its_data_point() -> None:
    """Five round markers: five filled shapes centred on the five points, in their colour."""
    figure = _line_figure(linestyle="none", marker="o", markersize=6, color="#0072B2")
    pdf, height_pt = _page_of(figure)
    markers = _objects(pdf, pdfium_raw.FPDF_PAGEOBJ_PATH)
    assert len(markers) == 5
    centres = sorted(((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for b in map(_bounds, markers))
    expected = [(x, height_pt / 2) for x in (0, 36, 72, 108, 144)]
    assert [v for c in centres for v in c] == pytest.approx(
        [v for c in expected for v in c], abs=0.5
    )
    assert {_colour(pdfium_raw.FPDFPageObj_GetFillColor, m) for m in markers} == {
        (0, 114, 178, 255)
    }


def _bounds(obj) -> tuple[float, float, float, float]:
    """A page object's bounding box."""
    return obj.get_bounds()


def test_a_translucent_paint_keeps_its_alpha() -> None:
    """A legend frame at 50 % opacity is painted at 50 % in the PDF."""
    figure = _line_figure(color="black", label="a line")
    figure.axes[0].legend(framealpha=0.5, facecolor="#00FF00")
    pdf, _ = _page_of(figure)
    fills = {
        _colour(pdfium_raw.FPDFPageObj_GetFillColor, p)
        for p in _objects(pdf, pdfium_raw.FPDF_PAGEOBJ_PATH)
    }
    assert fills & {(0, 255, 0, 127), (0, 255, 0, 128)}


def test_lines_are_clipped_to_their_axes() -> None:
    """A line running past its axes is cut at the axes' edge, as on screen."""
    figure = Figure(figsize=(2, 2), facecolor="none")
    axes = figure.add_axes((0.25, 0.25, 0.5, 0.5))
    axes.set_axis_off()
    axes.set_xlim(0, 1)
    axes.plot([-1, 2], [0.5, 0.5], color="black")
    pdf, _ = _page_of(figure)
    (path,) = _objects(pdf, pdfium_raw.FPDF_PAGEOBJ_PATH)
    clip = pdfium_raw.FPDFPageObj_GetClipPath(path.raw)
    assert clip and pdfium_raw.FPDFClipPath_CountPaths(clip) >= 1
    # The clip is the axes' box: a quarter of the 144 pt figure in from each side.
    segment = pdfium_raw.FPDFClipPath_GetPathSegment(clip, 0, 0)
    x, y = ctypes.c_float(), ctypes.c_float()
    assert pdfium_raw.FPDFPathSegment_GetPoint(segment, ctypes.byref(x), ctypes.byref(y))
    assert (x.value, y.value) == pytest.approx((36, 36), abs=0.5)


def test_a_figure_with_an_image_is_refused_before_anything_is_drawn() -> None:
    """Images are not drawn; the whole figure is refused so no half chart reaches a page."""
    figure = _line_figure()
    figure.axes[0].imshow([[0, 1], [1, 0]])
    with pytest.raises(ChartUndrawable):
        figure_operations(figure)


def test_drawing_leaves_the_figure_as_it_was() -> None:
    """The PDF draws at 72 dpi; the figure gets its own dpi back for the next use."""
    figure = _line_figure()
    figure.set_dpi(100)
    figure_operations(figure)
    assert figure.dpi == 100


def _figure_alt_texts(pdf: bytes) -> list[str]:
    """The /Alt of every /Figure in the PDF's structure tree."""
    found: list[str] = []

    def walk(node) -> None:
        node = node.get_object()
        if isinstance(node, list):
            for child in node:
                walk(child)
            return
        if not hasattr(node, "get"):
            return
        if node.get("/S") == "/Figure" and "/Alt" in node:
            found.append(str(node["/Alt"]))
        if "/K" in node:
            walk(node["/K"])

    walk(PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/StructTreeRoot"])
    return found


def test_the_exported_chart_is_a_figure_whose_alt_text_says_what_it_shows(client, factory):
    """A screen reader is told the range, the days logged and the latest level."""
    now = datetime(2026, 12, 1, 13, 5, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        patient = factory.patient(timezone="Europe/Berlin")
        for back in range(3):
            factory.checkin(patient, date(2026, 12, 1) - timedelta(days=back))
        response = client.get(
            "/api/v1/export", query_string={"format": "pdf"}, headers=patient.headers
        )
    assert response.status_code == 200
    (alt,) = _figure_alt_texts(response.data)
    assert alt.startswith("Symptom scores, 2 Nov – 1 Dec 2026. ")
    assert "3 of 30 days logged" in alt
    assert "Latest check-in 1 Dec 2026: total 14 of 40, level stable." in alt


def test_a_translucent_face_leaves_its_edge_opaque() -> None:
    """A patch with a 30 % face and an opaque edge: each keeps its own alpha, as in matplotlib."""
    figure = Figure(figsize=(2, 1), facecolor="none")
    figure.patches.append(
        Rectangle(
            (0.25, 0.25),
            0.5,
            0.5,
            transform=figure.transFigure,
            facecolor=(0, 0, 1, 0.3),
            edgecolor=(1, 0, 0, 1),
            linewidth=2,
        )
    )
    pdf, _ = _page_of(figure)
    (patch,) = _objects(pdf, pdfium_raw.FPDF_PAGEOBJ_PATH)
    assert _colour(pdfium_raw.FPDFPageObj_GetFillColor, patch) in {
        (0, 0, 255, 76),
        (0, 0, 255, 77),
    }
    assert _colour(pdfium_raw.FPDFPageObj_GetStrokeColor, patch) == (255, 0, 0, 255)


def test_a_scaled_figure_lands_where_it_is_placed_on_a_page_in_millimetres() -> None:
    """At 50 % with its top left at (20 mm, 30 mm) of an A4 page, a line moves and shrinks."""
    figure = _line_figure(color="black", linewidth=2)
    width_pt, height_pt, items = figure_operations(figure)
    pdf = FPDF(unit="mm", format="A4")
    pdf.add_page()
    place_figure(pdf, items, x=20, y=30, height_pt=height_pt, scale=0.5, font=lambda _: ("", ""))
    (path,) = _objects(bytes(pdf.output()), pdfium_raw.FPDF_PAGEOBJ_PATH)
    left, top = 20 * 72 / 25.4, (297 - 30) * 72 / 25.4  # A4 is 297 mm high
    # The path's points are in the figure's points; its matrix places them on the page.
    a, b, c, d, e, f = path.get_matrix().get()
    raw = _points(path)
    xs = [a * x + c * y + e for x, y in zip(raw[0::2], raw[1::2], strict=True)]
    ys = [b * x + d * y + f for x, y in zip(raw[0::2], raw[1::2], strict=True)]
    # The figure is 144 × 72 pt; at 50 % its line (at half height) spans 72 pt.
    assert min(xs) == pytest.approx(left, abs=0.01)
    assert max(xs) == pytest.approx(left + width_pt / 2, abs=0.01)
    assert ys == pytest.approx([top - height_pt / 2 / 2] * len(ys), abs=0.01)
    # Its 2 pt stroke is scaled with it: 1 pt on the page.
    width = ctypes.c_float()
    assert pdfium_raw.FPDFPageObj_GetStrokeWidth(path.raw, ctypes.byref(width))
    assert width.value * a == pytest.approx(1.0) and a == pytest.approx(d)


def test_rotated_text_reads_upwards_from_where_matplotlib_anchored_it() -> None:
    """A label at 90° starts at its anchor and runs up the page, like a y-axis label."""
    figure = Figure(figsize=(2, 2), facecolor="none")
    figure.text(
        0.5, 0.25, "Upwards", rotation=90, ha="left", va="baseline", rotation_mode="anchor"
    )
    pdf, _ = _page_of(figure)
    textpage = pdfium.PdfDocument(pdf)[0].get_textpage()
    assert textpage.get_text_range().startswith("Upwards")
    origins = []
    for index in range(len("Upwards")):
        x, y = ctypes.c_double(), ctypes.c_double()
        assert pdfium_raw.FPDFText_GetCharOrigin(textpage.raw, index, x, y)
        origins.append((x.value, y.value))
    assert origins[0] == pytest.approx((72, 36), abs=0.5)  # the anchor: (0.5, 0.25) of 144 pt
    assert all(x == pytest.approx(72, abs=0.5) for x, _ in origins)
    assert [y for _, y in origins] == sorted(y for _, y in origins)  # each letter higher up
