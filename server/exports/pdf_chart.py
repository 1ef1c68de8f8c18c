"""Draw a matplotlib figure straight onto an fpdf2 page as vectors, its text as text.

The report's chart used to travel as SVG, which fpdf2 parses back into objects: about
half the time of a year-long report. This renderer is the last step of matplotlib's own
drawing (the role of its PDF backend): paths become PDF path operators, written in the
figure's points under one transformation; text is drawn by fpdf2 with the very font file
matplotlib measured it with, so labels stay selectable text, placed where matplotlib laid
them out.

It builds on matplotlib's private `_path.convert_to_string` and `RendererPDFPSBase`, as
matplotlib's own PDF backend does; matplotlib is pinned, and tests/exports/test_pdf_chart.py
checks what reaches the page (positions, colours, dashes, clips, alpha).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fpdf import FPDF
from matplotlib import _path, font_manager
from matplotlib.backends._backend_pdf_ps import RendererPDFPSBase
from matplotlib.figure import Figure

# matplotlib's path codes MOVETO, LINETO, CURVE3 (never emitted: converted), CURVE4 and
# CLOSEPOLY as PDF operators; six decimals, like matplotlib's PDF backend.
_PATH_OPERATORS = [b"m", b"l", b"", b"c", b"h"]
_PRECISION = 6
_CAPS = {"butt": 0, "round": 1, "projecting": 2}
_JOINS = {"miter": 0, "round": 1, "bevel": 2}


class ChartUndrawable(Exception):
    """The figure holds something this renderer cannot draw (e.g. an image)."""


def _number(value: float) -> str:
    """A PDF number: at most four decimals, no trailing zeros."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _colour(rgb, operator: str) -> str:
    """A colour operator (rg fills, RG strokes) for an RGB(A) tuple in 0–1."""
    return f"{_number(rgb[0])} {_number(rgb[1])} {_number(rgb[2])} {operator}"


@dataclass(frozen=True)
class _Text:
    """A line of text matplotlib placed: baseline start in figure points, angle in degrees."""

    x: float
    y: float
    text: str
    # The file matplotlib measured with (its bold file for bold text).
    font_file: str
    size: float
    rgb: tuple[float, float, float]
    angle: float


class _OperatorRenderer(RendererPDFPSBase):
    """Collect a figure's drawing as PDF operators (paths) and text lines, in drawing order."""

    _afm_font_dir = None
    # Measure text with the TrueType file matplotlib chose, as its PDF backend does.
    _use_afm_rc_name = "pdf.use14corefonts"

    def __init__(self, width_in: float, height_in: float) -> None:
        super().__init__(width_in, height_in)
        # ((stroke alpha, fill alpha), operators) for paints, _Text for text, in order.
        self.items: list[tuple[tuple[float, float], bytes] | _Text] = []

    def _path_operators(self, path, transform, *, clip: bool, simplify: bool) -> bytes:
        """The path as m/l/c/h operators in figure points, clipped to the figure if asked."""
        box = (0.0, 0.0, self.width * 72, self.height * 72) if clip else None
        return _path.convert_to_string(
            path, transform, box, simplify, None, _PRECISION, _PATH_OPERATORS, True
        )

    def _state(self, gc, fill) -> tuple[list[str], str, tuple[float, float]]:
        """Clip, line and colour operators for a paint, its painting operator, its alphas.

        The alphas are (stroke, fill), as matplotlib's PDF backend sets them: the
        graphics context's forced alpha for both, else each colour's own.
        """
        ops: list[str] = []
        rect = gc.get_clip_rectangle()
        if rect is not None:
            x0, y0, width, height = rect.bounds
            ops.append(f"{_number(x0)} {_number(y0)} {_number(width)} {_number(height)} re W n")
        clip_path, clip_transform = gc.get_clip_path()
        if clip_path is not None:
            shape = self._path_operators(clip_path, clip_transform, clip=False, simplify=False)
            ops.append(shape.decode("ascii") + " W n")
        rgb = gc.get_rgb()
        stroke = gc.get_linewidth() > 0 and gc.get_alpha() > 0 and (len(rgb) < 4 or rgb[3] != 0)
        fills = fill is not None and (len(fill) < 4 or fill[3] != 0)
        if stroke:
            offset, dashes = gc.get_dashes()
            pattern = " ".join(_number(d) for d in dashes) if dashes else ""
            ops.append(
                f"{_number(gc.get_linewidth())} w {_CAPS[gc.get_capstyle()]} J "
                f"{_JOINS[gc.get_joinstyle()]} j [{pattern}] {_number(offset or 0)} d "
                + _colour(rgb, "RG")
            )
        if fills:
            ops.append(_colour(fill, "rg"))
        paint = {(True, True): "B", (True, False): "f", (False, True): "S"}.get(
            (fills, stroke), "n"
        )
        if gc.get_forced_alpha():
            alphas = (gc.get_alpha(), gc.get_alpha())
        else:
            stroke_alpha = rgb[3] if len(rgb) == 4 else 1.0
            alphas = (stroke_alpha, fill[3] if fills and len(fill) == 4 else 1.0)
        return ops, paint, alphas

    def _queue(self, gc, fill, paint_body: Callable[[str], bytes]) -> None:
        """Queue painted operators inside their own graphics state, with their alpha."""
        if gc.get_hatch() is not None:
            raise ChartUndrawable("hatching is not supported")
        ops, paint, alphas = self._state(gc, fill)
        block = b"q " + " ".join(ops).encode("ascii") + b" " + paint_body(paint) + b" Q"
        self.items.append((alphas, block))

    def draw_path(self, gc, path, transform, rgbFace=None) -> None:
        """Queue a path: strokes are clipped to the figure and simplified, as matplotlib's PDF."""
        stroke_only = rgbFace is None
        shape = self._path_operators(
            path, transform, clip=stroke_only, simplify=stroke_only and path.should_simplify
        )
        self._queue(gc, rgbFace, lambda paint: shape + b" " + paint.encode("ascii"))

    def draw_markers(self, gc, marker_path, marker_trans, path, trans, rgbFace=None) -> None:
        """Queue one marker shape moved to every vertex inside the figure, each painted."""
        shape = self._path_operators(marker_path, marker_trans, clip=False, simplify=False)
        width, height = self.width * 72, self.height * 72
        moves = [
            f"q 1 0 0 1 {_number(x)} {_number(y)} cm ".encode("ascii")
            for vertices, _code in path.iter_segments(trans, simplify=False)
            if len(vertices)
            for x, y in [vertices[-2:]]
            if 0 <= x <= width and 0 <= y <= height
        ]
        if moves:
            self._queue(
                gc,
                rgbFace,
                lambda paint: b" ".join(
                    move + shape + b" " + paint.encode("ascii") + b" Q" for move in moves
                ),
            )

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None) -> None:
        """Queue a line of text; mathematical text is drawn as outlines, like TeX."""
        if ismath:
            self._draw_text_as_path(gc, x, y, s, prop, angle, ismath)
            return
        rgb = gc.get_rgb()
        self.items.append(
            _Text(
                x=x,
                y=y,
                text=s,
                font_file=font_manager.findfont(prop),
                size=prop.get_size_in_points(),
                rgb=(rgb[0], rgb[1], rgb[2]),
                angle=angle,
            )
        )

    def draw_image(self, gc, x, y, im, transform=None) -> None:
        """The chart has no images; a figure with one is not drawn at all."""
        raise ChartUndrawable("images are not supported")


# Font file → the fpdf2 (family, style) that draws with it.
FontChooser = Callable[[str], tuple[str, str]]


def figure_operations(figure: Figure) -> tuple[float, float, list]:
    """Draw the figure once: (width pt, height pt, the queued operators and texts)."""
    dpi = figure.dpi
    figure.dpi = 72  # one unit is one point, as in matplotlib's PDF backend
    try:
        width_in, height_in = figure.get_size_inches()
        renderer = _OperatorRenderer(width_in, height_in)
        figure.draw(renderer)
    finally:
        figure.dpi = dpi
    return width_in * 72, height_in * 72, renderer.items


def place_figure(
    pdf: FPDF,
    items: list,
    *,
    x: float,
    y: float,
    height_pt: float,
    scale: float,
    font: FontChooser,
) -> None:
    """Write queued operators and texts with the figure's top left at (x, y), scaled."""
    k = pdf.k
    # Figure points → page points: scale, then move the figure's bottom left into place.
    left, bottom = x * k, (pdf.h - y) * k - height_pt * scale
    placed = f"q {_number(scale)} 0 0 {_number(scale)} {_number(left)} {_number(bottom)} cm"
    for item in items:
        if isinstance(item, _Text):
            _place_text(pdf, item, x, y, height_pt, scale, font)
            continue
        (stroke_alpha, fill_alpha), block = item
        if stroke_alpha >= 1 and fill_alpha >= 1:
            pdf._out(f"{placed} {block.decode('ascii')} Q")
            continue
        # Translucent paints (the legend's frame) take their alphas from an ExtGState.
        with pdf.local_context(fill_opacity=fill_alpha, stroke_opacity=stroke_alpha):
            pdf._out(f"{placed} {block.decode('ascii')} Q")


def _place_text(
    pdf: FPDF, item: _Text, x: float, y: float, height_pt: float, scale: float, font: FontChooser
) -> None:
    """Draw one text line where matplotlib put it (fpdf2 measures from the top left).

    Text is drawn opaque: the chart's labels have no alpha.
    """
    # Figure points → the document's unit (pdf.k points each).
    left = x + item.x * scale / pdf.k
    baseline = y + (height_pt - item.y) * scale / pdf.k
    family, style = font(item.font_file)
    pdf.set_font(family, style, item.size * scale)
    pdf.set_text_color(*(round(channel * 255) for channel in item.rgb))
    if item.angle:
        with pdf.rotation(item.angle, x=left, y=baseline):
            pdf.text(left, baseline, item.text)
    else:
        pdf.text(left, baseline, item.text)
