"""Printable A4 symptom report (fpdf2) for a clinic appointment."""

from __future__ import annotations

import copy
import functools
import os
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import TextMode
from fpdf.fonts import FontFace, SubsetMap, TTFFont

from server.common.fonts import NOTO_BODY, NOTO_FALLBACKS, FontFiles, installed
from server.exports.csv_export import taken_text, value_attributes
from server.resources.catalogue import KIND_LABELS

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_DIR_ENV = "STEADY_PDF_FONT_DIR"
FONT_REGULAR = "DejaVuSans.ttf"
FONT_BOLD = "DejaVuSans-Bold.ttf"
FAMILY = "body"
DEJAVU = "dejavu"
# OpenType layout tables: fpdf2 drops them from every embedded font.
_LAYOUT_TABLES = ("GSUB", "GPOS", "GDEF")
# Right-to-left letters: a line holding any is drawn with bidi and shaping.
_RTL_CLASSES = frozenset({"R", "AL", "AN"})

TITLE = "Steady — symptom report"
PAGE_COUNT_ALIAS = "{pagecount}"
FOOTER_TEXT = "Self-reported data — not a diagnosis"
DASH = "—"
# Shown instead of a character the font has no glyph for (e.g. most emoji).
PLACEHOLDER = "□"

SUMMARY_ROWS: tuple[tuple[str, str], ...] = (
    ("nausea", "Nausea"),
    ("aches", "Aches"),
    ("anxiety", "Anxiety"),
    ("insomnia", "Insomnia"),
    ("total", "Total (0–40)"),
)
SUMMARY_HEADINGS = ("Symptom", "Mean", "Min", "Max", "Latest", "Previous mean", "Direction")

# Check-in attribute → (heading, widest expected value) for the daily log.
LOG_HEADINGS: Mapping[str, tuple[str, str]] = {
    "date": ("Date", "2000-00-00"),
    "nausea": ("Nausea", "10"),
    "aches": ("Aches", "10"),
    "anxiety": ("Anxiety", "10"),
    "insomnia": ("Insomnia", "10"),
    "total": ("Total", "40"),
    "diarrhea": ("Diarr.", "10"),
    "vomiting": ("Vomit", "10"),
    "cravings": ("Crav.", "10"),
    "sleep_hours": ("Sleep h", "10.25"),
    "used_opioids": ("Used", "yes"),
    "crisis": ("Crisis", "yes"),
}


def _log_column(attr: str) -> tuple[str, str, str]:
    """(heading, attribute, sample) of a value column; a column added later gets its name."""
    heading, sample = LOG_HEADINGS.get(attr, (attr.replace("_", " ").capitalize(), "yes"))
    return heading, attr, sample


# (heading, check-in attribute, widest expected value), in the CSV's order: one definition.
LOG_COLUMNS: tuple[tuple[str, str, str], ...] = tuple(
    _log_column(attr) for attr in ("date", *value_attributes())
)
LOG_SAMPLES = tuple(sample for _, _, sample in LOG_COLUMNS)
# After the CSV's columns: the day as the API judges it (PDF only; the CSV is raw data).
LEVEL_HEADING, LEVEL_SAMPLE = "Level", "worsening"
FLAGS_HEADING, FLAGS_WIDTH = "Flags", 27.0
NO_PREVIOUS = "no check-ins in the previous period"
NO_CURRENT = "no check-ins in this range"

# Urgent help first: emergency services and crisis lines, then everything else.
RESOURCE_KIND_ORDER = {"emergency": 0, "crisis": 1}

MARGIN = 12.0
HEADING_FILL = (230, 236, 242)
STRIPE_FILL = (246, 246, 246)
# Height the running header takes on pages after the first (cell 5 + gap 2).
HEADER_HEIGHT = 7.0
MIN_CHART_HEIGHT = 50.0
# A note of ordinary words at the API's 2,000-character maximum needs about 35 lines of
# the (landscape) note column; only notes of many line breaks go past this, and they are
# visibly shortened so a year's report stays a bounded size: at most two pages a day.
NOTE_MAX_LINES = 80
NOTE_SHORTENED = "[… note shortened here; the CSV and FHIR exports hold the full text]"


@dataclass(frozen=True, kw_only=True)
class PdfReport:
    """Everything the PDF shows; assembled by the caller, rendered as-is."""

    display_name: str
    start: date
    end: date
    produced_at: datetime
    days_logged: int
    days_in_range: int
    summary: Mapping[str, Mapping[str, Any]]
    checkins: Sequence[Any]
    include_notes: bool
    assessment: Mapping[str, Any] | None = None
    # The trend chart, a matplotlib Figure drawn on its own page as vectors; None: no chart.
    chart: Any = None
    # What the chart shows, in words: the PDF's alternative text for it.
    chart_description: str = ""
    resources: Sequence[Mapping[str, Any]] = ()
    region: str | None = None
    # For a counselor's export: the 42 CFR Part 2 notice and the consent's scope, in words.
    disclosure: Sequence[str] = ()
    # The patient's IANA zone: "Produced" is their local time, with the zone named.
    timezone: str = "UTC"
    # Date → the API's judgement of that day (anything with .level and .reasons).
    judgements: Mapping[date, Any] | None = None

    def texts(self) -> Iterable[str]:
        """Every free text the report prints, to choose the fonts that can draw it."""
        yield self.display_name
        yield self.region or ""
        yield from self.disclosure
        for reason in (self.assessment or {}).get("reasons") or ():
            yield str(reason.get("message") or "")
        for resource in self.resources:
            yield from (str(value) for value in resource.values() if value)
        if self.include_notes:
            yield from (checkin.note for checkin in self.checkins if checkin.note)
        for checkin in self.checkins:
            yield from (taken_text(item) for item in getattr(checkin, "taken", None) or ())

    # Instrument results (an instrument_pdf.PdfInstruments); None or empty: no section.
    instruments: Any = None


def resolve_font_files(font_dir: str | os.PathLike[str] | None = None) -> tuple[Path, Path]:
    """Return (regular, bold) DejaVu paths: argument, env, FONT_DIR, then matplotlib's copy."""
    chosen = font_dir if font_dir is not None else os.environ.get(FONT_DIR_ENV) or FONT_DIR
    candidates = [Path(chosen)]
    try:
        # Imported lazily: matplotlib is only needed when the system font is absent.
        import matplotlib

        candidates.append(Path(matplotlib.get_data_path()) / "fonts" / "ttf")
    except ImportError:  # pragma: no cover - matplotlib is a runtime dependency
        pass
    for directory in candidates:
        regular, bold = directory / FONT_REGULAR, directory / FONT_BOLD
        if regular.is_file() and bold.is_file():
            return regular, bold
    raise FileNotFoundError(
        f"DejaVu fonts not found in {', '.join(str(d) for d in candidates)}; "
        f"set {FONT_DIR_ENV} to a directory holding {FONT_REGULAR} and {FONT_BOLD}"
    )


@functools.lru_cache(maxsize=32)
def _font_cmap(path: Path, face: int = 0) -> frozenset[int]:
    """The code points a font file draws, read once per process."""
    with TTFont(path, fontNumber=face, lazy=True) as font:
        return frozenset(font.getBestCmap())


@functools.lru_cache(maxsize=8)
def _parsed_font(path: Path, style: str) -> TTFFont:
    """fpdf2's parse of a body font file, made once per process; copied per document."""
    scratch = FPDF()
    scratch.add_font("parsed", style, str(path))
    font = scratch.fonts[f"parsed{style}"]
    if font.color_font is not None:  # pragma: no cover - body fonts have no colour glyphs
        raise ValueError(f"{path} has colour glyphs, which a copy would share")
    return font


def choose_fonts(
    texts: Iterable[str], font_dir: str | os.PathLike[str] | None = None
) -> tuple[FontFiles, list[FontFiles]]:
    """The body font and the fallbacks the texts need (DejaVu always, as the last resort).

    Without the Noto packages the body is DejaVu, so a missing font never breaks a report:
    it only prints more placeholders.
    """
    regular, bold = resolve_font_files(font_dir)
    dejavu = FontFiles(DEJAVU, regular, bold)
    body = NOTO_BODY if font_dir is None and installed(NOTO_BODY) else dejavu
    # Distinct characters first: a year of notes is a million characters, not many kinds.
    missing = {ord(char) for char in set("".join(texts))} - _font_cmap(body.regular)
    fallbacks = []
    for files in (*NOTO_FALLBACKS, dejavu):
        if not missing or files is body or not installed(files):
            continue
        drawn = missing & _font_cmap(files.regular, files.face)
        if drawn or files is dejavu:
            fallbacks.append(files)
            missing -= drawn
    return body, fallbacks


def _shaping_available() -> bool:
    """Tell whether uharfbuzz, which fpdf2 shapes text with, is installed."""
    try:
        import uharfbuzz  # noqa: F401
    except ImportError:  # pragma: no cover - pinned in requirements.txt
        return False
    return True


class _ReportPDF(FPDF):
    """FPDF with Steady's running header/footer and glyph-safe text."""

    def __init__(
        self,
        *,
        body: FontFiles,
        fallbacks: Sequence[FontFiles],
        shaping: bool,
        running_header: str,
    ) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        # A long alias reserves room for page counts of 1000 and more (ten-year logs).
        self.alias_nb_pages(PAGE_COUNT_ALIAS)
        self._covered: set[int] = set()
        # Every report draws in the body font (single-font files: Noto Sans or DejaVu Sans);
        # fallbacks are added only for the reports whose text needs them.
        for style, path in (("", body.regular), ("B", body.bold)):
            self._add_parsed_font(FAMILY, style, path)
        for files in fallbacks:
            for style, path in (("", files.regular), ("B", files.bold)):
                self.add_font(files.family, style, str(path), collection_font_number=files.face)
        for family in (FAMILY, *(files.family for files in fallbacks)):
            # Text is printed in both weights, so only code points both fonts
            # cover are kept; the rest become PLACEHOLDER in safe().
            self._covered |= set(self.fonts[family].cmap) & set(self.fonts[family + "B"].cmap)
        self._body_cmap = frozenset(self.fonts[FAMILY].cmap)
        # Characters safe() keeps as they are: a text made only of these is returned whole.
        self._kept = frozenset(self._covered | {ord("\n")})
        self._shaping_memo: dict[str, bool] = {}
        self._encoded: dict[tuple[str, str], str] = {}
        self._body = body
        if fallbacks:
            self.set_fallback_fonts([files.family for files in fallbacks])
        # Shaping joins Arabic letters, places marks and lays right-to-left runs out in
        # reading order; without uharfbuzz text still prints, unshaped.
        if shaping and _shaping_available():
            self.set_text_shaping(True)
        self._running_header = self.safe(running_header)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=18)

    def _add_parsed_font(self, family: str, style: str, path: Path) -> None:
        """Add a font every report uses from its parse kept for the process (~10 ms a file).

        The parse (widths, glyph ids, metrics) never changes; what fpdf2 changes while
        writing a document is the document's own: a fresh subset, a freshly opened, lazily
        read font file (trimmed on output) and a font descriptor (numbered on output; two
        documents written at once in one process must not share it).
        """
        font = copy.copy(_parsed_font(path, style))
        font.i = len(self.fonts) + 1
        font.fontkey = f"{family}{style}"
        font.desc = copy.copy(font.desc)
        font.cw = copy.copy(font.cw)
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        # The file's own bounding boxes are kept: recomputing them on output would
        # decode and re-encode every glyph the document uses (~10 ms a font).
        font.ttfont = TTFont(path, recalcBBoxes=False, recalcTimestamp=False, lazy=True)
        font._hbfont = None
        font.subset = SubsetMap(font)
        self.fonts[font.fontkey] = font

    def safe(self, text: str) -> str:
        """Replace characters the font cannot draw so nothing renders as a blank."""
        out: list[str] = []
        substituted = False
        # NFC first: a decomposed "é" (e + combining accent) then prints as one
        # glyph, since fpdf2 without text shaping cannot position marks.
        normalised = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\t", " ")
        if self._kept.issuperset(map(ord, normalised)):
            return normalised
        for char in normalised:
            if char == "\n" or ord(char) in self._covered:
                out.append(char)
                substituted = False
                continue
            category = unicodedata.category(char)
            # Joiners, variation selectors, combining marks and controls carry
            # no glyph of their own; dropping them keeps the text readable.
            if category in ("Cf", "Cc", "Mn", "Me"):
                continue
            # One placeholder per run: a skin-toned emoji is two code points.
            if not substituted:
                out.append(PLACEHOLDER)
                substituted = True
        return "".join(out)

    def chart_font(self, font_file: str) -> tuple[str, str]:
        """(family, style) drawing with the font file the chart was measured with.

        The body font's own files are the body family; another file (DejaVu, where Noto is
        not installed) is added as a family of its own on first use.
        """
        for style, path in (("", self._body.regular), ("B", self._body.bold)):
            if Path(font_file) == path:
                return FAMILY, style
        family = f"chart-{Path(font_file).stem.lower()}"
        if family not in self.fonts:
            self.add_font(family, "", font_file)
        return family, ""

    def output(self, *args: Any, **kwargs: Any) -> Any:
        """The document's bytes; fonts lose their layout tables first.

        fpdf2 embeds every font without them (shaping reads the font file itself), but
        fontTools' subsetter would read them through first: about 10 ms a font.
        """
        for font in self.fonts.values():
            tables = getattr(font, "ttfont", None)
            for tag in _LAYOUT_TABLES:
                if tables is not None and tag in tables:
                    del tables[tag]
        return super().output(*args, **kwargs)

    def paragraph(self, height: float, text: str) -> None:
        """Print text from the left margin across the page, wrapped, ragged right.

        Left-aligned rather than justified, for reading (WCAG 1.4.8), and each line a
        ``cell``: ``multi_cell`` measures its line again for every character it adds.
        Shaped text (right to left, fallback fonts) is left to ``multi_cell``, aligned
        right when it starts right to left, where its reader starts (as in the log).
        """
        room = self.w - self.r_margin - self.x - 2 * self.c_margin
        if self.text_shaping:
            align = "R" if _starts_rtl(text) else "L"
            self.multi_cell(0, height, text, align=align, new_x="LMARGIN", new_y="NEXT")
            return
        for line in wrap_words(text, room, self.get_string_width):
            self.cell(0, height, line, new_x="LMARGIN", new_y="NEXT")

    def text_runs(self, runs: Sequence[tuple[float, float, str]]) -> None:
        """Print many single-line texts (x, baseline y, text) as ``text()`` would, at once.

        A year's log is some 10,000 cells: one content-stream write per row, and each
        distinct value encoded once, instead of ``text()``'s checks and write per cell.
        """
        if self.fill_color != self.text_color or self.text_mode != TextMode.FILL:
            for x, y, text in runs:  # text() sets the colour or mode around each text
                self.text(x, y, text)
            return
        font = self.current_font
        if not self.current_font_is_set_on_page:
            self._out(self._set_font_for_page(font, self.font_size_pt))
        encoded = self._encoded
        k, height = self.k, self.h
        parts = []
        for x, y, text in runs:
            key = (font.fontkey, text)
            shown = encoded.get(key)
            if shown is None:
                # Encoding also adds the glyphs to the font's subset, once per document.
                shown = encoded[key] = font.encode_text(text)
            parts.append(f"BT {x * k:.2f} {(height - y) * k:.2f} Td {shown} ET")
        if parts:
            self._out(" ".join(parts))

    @contextmanager
    def marked_figure(self, alt_text: str) -> Iterator[None]:
        """Tag what is drawn inside as one figure with its alternative text (tagged PDF)."""
        # fpdf2 offers this to image() only; drawn vectors need the same tag.
        with self._marked_sequence(alt_text=alt_text):
            yield

    def needs_shaping(self, text: str) -> bool:
        """Tell whether a line needs fallback fonts or bidi (``text()`` offers neither)."""
        # Memoised: a year's log repeats the same few hundred cell values.
        needed = self._shaping_memo.get(text)
        if needed is None:
            needed = not self._body_cmap.issuperset(map(ord, text)) or _has_rtl(text)
            self._shaping_memo[text] = needed
        return needed

    def header(self) -> None:
        """Repeat who/when on later pages so a loose sheet stays identifiable."""
        if self.page_no() == 1:
            return
        self.set_font(FAMILY, "", 8)
        self.set_text_color(90)
        text = self._running_header
        # A long display name must not run off the page: trim with an ellipsis.
        while len(text) > 1 and self.get_string_width(text) > self.epw:
            text = text[:-2] + "…"
        self.cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0)
        self.ln(2)

    def footer(self) -> None:
        """Print the self-report disclaimer and the page count on every page."""
        self.set_y(-13)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(90)
        half = self.epw / 2
        self.cell(half, 5, FOOTER_TEXT, align="L")
        self.cell(half, 5, f"Page {self.page_no()} of {PAGE_COUNT_ALIAS}", align="R")
        self.set_text_color(0)


def _fmt_number(value: Any) -> str:
    """Format a score or mean; None → em dash, floats to 2 decimals."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _fmt_signed(value: Any) -> str:
    """Format a change with an explicit sign."""
    if isinstance(value, float):
        return f"{value:+.2f}"
    return f"{value:+d}"


def _fmt_direction(stats: Mapping[str, Any]) -> str:
    """Combine direction and change, e.g. ``worse (+1.50)``."""
    direction, change = stats.get("direction"), stats.get("change")
    if direction is None and change is None:
        return DASH
    if change is None:
        return str(direction)
    label = str(direction) if direction is not None else "change"
    return f"{label} ({_fmt_signed(change)})"


def _fmt_log_value(value: Any) -> str:
    """Format a daily-log cell: bools as yes/no, hours without trailing zeros."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        # At most two decimals so "7.333…" hours cannot overflow the column.
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def _has_rtl(text: str) -> bool:
    """Tell whether any character is right-to-left."""
    # Each distinct character once: long notes repeat few characters.
    return any(unicodedata.bidirectional(char) in _RTL_CLASSES for char in set(text))


def _starts_rtl(text: str) -> bool:
    """Tell whether the first strongly directed character is right-to-left."""
    for char in text:
        direction = unicodedata.bidirectional(char)
        if direction in _RTL_CLASSES:
            return True
        if direction == "L":
            return False
    return False


def _fmt_produced(moment: datetime, zone: str = "UTC") -> str:
    """Format the production time in the patient's zone, named, minute precision."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("produced_at must be timezone-aware")
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M} ({zone})"


def _flags(judgement: Any) -> list[str]:
    """The rules that fired on a day, in words; a reason the level already names is left out."""
    words: list[str] = []
    for reason in judgement.reasons:
        if reason.code == judgement.level:
            continue
        symptom = reason.facts.get("symptom")
        word = f"worsening {symptom}" if symptom else reason.code.replace("_", " ")
        if word not in words:
            words.append(word)
    return words


def _heading(pdf: _ReportPDF, text: str, size: float = 12) -> None:
    """Print a bold section heading."""
    pdf.set_font(FAMILY, "B", size)
    pdf.paragraph(size * 0.5, text)
    pdf.ln(1.5)
    pdf.set_font(FAMILY, "", 10)


def _line(pdf: _ReportPDF, text: str, *, size: float = 10, bold: bool = False) -> None:
    """Print one wrapped line of body text."""
    pdf.set_font(FAMILY, "B" if bold else "", size)
    pdf.paragraph(size * 0.5, text)


def _summary_table(pdf: _ReportPDF, summary: Mapping[str, Mapping[str, Any]]) -> None:
    """Render the per-symptom summary table; an empty comparison says why it is empty."""
    pdf.set_font(FAMILY, "", 9)
    headings = FontFace(emphasis="BOLD", fill_color=HEADING_FILL)
    with pdf.table(
        col_widths=(26, 16, 13, 13, 15, 22, 33),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "LEFT"),
        headings_style=headings,
        line_height=5.5,
        padding=(0.5, 1.5),
    ) as table:
        table.row(SUMMARY_HEADINGS)
        for key, label in SUMMARY_ROWS:
            stats = summary.get(key) or {}
            row = table.row()
            row.cell(label)
            for value in ("mean", "min", "max", "latest"):
                row.cell(_fmt_number(stats.get(value)))
            if stats.get("previous_mean") is None:
                row.cell(NO_PREVIOUS, colspan=2, align="LEFT")
            elif stats.get("mean") is None:
                row.cell(_fmt_number(stats.get("previous_mean")))
                row.cell(NO_CURRENT)
            else:
                row.cell(_fmt_number(stats.get("previous_mean")))
                row.cell(pdf.safe(_fmt_direction(stats)))


def _assessment(pdf: _ReportPDF, assessment: Mapping[str, Any] | None) -> None:
    """Render the latest assessment level and its reasons."""
    _heading(pdf, "Latest assessment")
    if assessment is None:
        _line(pdf, "No check-ins yet")
        return
    level = pdf.safe(str(assessment.get("level") or DASH))
    checkin_date = assessment.get("checkin_date")
    when = f" (check-in {_fmt_log_value(checkin_date)})" if checkin_date else ""
    _line(pdf, f"Level: {level}{when}", bold=True)
    reasons = assessment.get("reasons") or []
    if not reasons:
        _line(pdf, "No reasons recorded.")
    for reason in reasons:
        message = reason.get("message") or reason.get("code") or ""
        _line(pdf, f"•  {pdf.safe(str(message))}")


PT_PER_MM = 72 / 25.4


def _chart_page(pdf: _ReportPDF, report: PdfReport) -> None:
    """Draw the chart as vectors on a landscape page, at its own size where it fits.

    At 100 % every label prints at the point size the chart was drawn with; a chart wider
    than the page (the A4 landscape width) is scaled down to fit.
    """
    # Imported here: processes that never build a report skip loading matplotlib.
    from server.exports.pdf_chart import ChartUndrawable, figure_operations, place_figure

    pdf.add_page(orientation="L")
    _heading(pdf, "Trend chart")
    try:
        width_pt, height_pt, items = figure_operations(report.chart)
    except ChartUndrawable:
        # A chart that cannot be drawn must not cost the patient the rest of the report.
        _line(pdf, "Chart unavailable.")
        return
    room_w, room_h = pdf.epw, pdf.page_break_trigger - pdf.get_y()
    scale = min(1.0, room_w * PT_PER_MM / width_pt, room_h * PT_PER_MM / height_pt)
    width = width_pt * scale / PT_PER_MM
    x = pdf.l_margin + (pdf.epw - width) / 2
    alt_text = report.chart_description or "Symptom chart"
    with pdf.marked_figure(alt_text):
        place_figure(
            pdf,
            items,
            x=x,
            y=pdf.get_y(),
            height_pt=height_pt,
            scale=scale,
            font=pdf.chart_font,
        )
    pdf.set_text_color(0)


def wrap_words(text: str, limit: float, width: Callable[[str], float]) -> list[str]:
    """Greedy word wrap at spaces and line breaks; a word longer than a line is split."""
    space = width(" ")
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current, current_width = "", 0.0
        for word in paragraph.split(" "):
            word_width = width(word)
            gap = space if current else 0.0
            if current_width + gap + word_width <= limit:
                current = f"{current} {word}" if current else word
                current_width += gap + word_width
                continue
            if current:
                lines.append(current)
            while word_width > limit and len(word) > 1:
                cut, used = 0, 0.0
                while cut < len(word) - 1:
                    char_width = width(word[cut])
                    if used + char_width > limit and cut:
                        break
                    used += char_width
                    cut += 1
                lines.append(word[:cut])
                word = word[cut:]
                word_width = width(word)
            current, current_width = word, word_width
        lines.append(current)
    return lines


class _Grid:
    """A ruled table of fixed columns, its heading row repeated after every page break.

    Drawn with batched text and lines: fpdf2's ``table()`` lays out every cell with
    ``multi_cell`` twice (about 1 s for a year of check-ins), and even a ``cell()`` per
    cell costs about ten times this.
    """

    PAD_X = 1.0
    PAD_Y = 0.8

    def __init__(
        self,
        pdf: _ReportPDF,
        headings: Sequence[str],
        aligns: Sequence[str],
        *,
        font_size: float,
        line_height: float,
        widths: Sequence[float] = (),
    ) -> None:
        self.pdf = pdf
        self.headings = list(headings)
        self.aligns = list(aligns)
        self.font_size = font_size
        self.line_height = line_height
        self._widths_cache: dict[tuple[str, str], float] = {}
        self.segment_top = 0.0
        self.set_widths(widths)

    def set_widths(self, widths: Sequence[float]) -> None:
        """Set the column widths (mm) from the left margin."""
        self.widths = list(widths)
        self.edges = [self.pdf.l_margin]
        for width in self.widths:
            self.edges.append(self.edges[-1] + width)

    def _width(self, text: str, style: str) -> float:
        """Measure text in the grid's font, memoised (values repeat a lot)."""
        key = (text, style)
        width = self._widths_cache.get(key)
        if width is None:
            self.pdf.set_font(FAMILY, style, self.font_size)
            width = self.pdf.get_string_width(text)
            self._widths_cache[key] = width
        return width

    def wrap(self, text: str, width: float) -> list[str]:
        """Wrap text to a column (its padding inside)."""
        return wrap_words(text, width - 2 * self.PAD_X, lambda part: self._width(part, ""))

    def begin(self) -> None:
        """Start the grid at the cursor: its rules' style, its top rule and headings."""
        self.pdf.set_draw_color(150)
        self.pdf.set_line_width(0.15)
        self._open_segment()

    def end(self) -> None:
        """Close the grid on the page it ends on."""
        self._close_segment()
        self.pdf.set_draw_color(0)

    def row(self, cells: list[str], flowing: list[str] | None = None, *, striped: bool) -> None:
        """Draw one row, kept on one page unless its flowing last column is taller than one.

        `flowing`: the lines of a last column (a note) that may continue on the next page;
        None for a grid without one.
        """
        pdf = self.pdf
        heading_height = self.line_height + 2 * self.PAD_Y
        cell_lines = max(cell.count("\n") + 1 for cell in cells)
        rest = flowing or []
        while True:
            count = max(len(rest), cell_lines)
            height = count * self.line_height + 2 * self.PAD_Y
            room = pdf.page_break_trigger - pdf.get_y()
            fresh_room = pdf.page_break_trigger - pdf.t_margin - HEADER_HEIGHT - heading_height
            if height > room and (height <= fresh_room or room < heading_height * 2):
                self._close_segment()
                pdf.add_page(same=True)
                self._open_segment()
                continue
            # Only a flowing column taller than a whole page gets split across pages.
            fit = max(int((room - 2 * self.PAD_Y) // self.line_height), 1)
            chunk, rest = rest[:fit], rest[fit:]
            drawn = list(cells)
            if flowing is not None:
                drawn.append("\n".join(chunk))
            lines = max(len(chunk), cell_lines)
            fill = STRIPE_FILL if striped else None
            self._draw_row(drawn, "", lines * self.line_height + 2 * self.PAD_Y, fill=fill)
            if not rest:
                return
            # Continuation slices repeat nothing but the flowing text.
            cells = ["(cont.)"] + [""] * (len(cells) - 1)
            cell_lines = 1

    def _draw_row(
        self, cells: Sequence[str], style: str, height: float, *, fill: Sequence[int] | None
    ) -> None:
        """Draw one row (or row slice) of single- or multi-line cells at the cursor."""
        pdf = self.pdf
        top = pdf.get_y()
        if fill:
            pdf.set_fill_color(*fill)
            pdf.rect(self.edges[0], top, self.edges[-1] - self.edges[0], height, style="F")
            # Back to the text colour: while the two differ, fpdf2 wraps every text() in
            # q … Q to set the text colour, some 10,000 times for a year's log.
            pdf.set_fill_color(pdf.text_color)
        pdf.set_font(FAMILY, style, self.font_size)
        # Baseline offset that centres a line of this font size in its slot.
        baseline = self.PAD_Y + self.line_height / 2 + pdf.font_size * 0.35
        runs: list[tuple[float, float, str]] = []
        shaped: list[tuple[str, float, float, float]] = []
        for index, text in enumerate(cells):
            if not text:
                continue
            left, right = self.edges[index], self.edges[index + 1]
            align = self.aligns[index]
            for number, line in enumerate(text.split("\n")):
                if not line:
                    continue
                if pdf.needs_shaping(line):
                    shaped.append((line, left, right, top + number * self.line_height))
                    continue
                y = top + baseline + number * self.line_height
                if align == "C":
                    x = left + (right - left - self._width(line, style)) / 2
                elif align == "R":
                    x = right - self.PAD_X - self._width(line, style)
                else:
                    x = left + self.PAD_X
                runs.append((x, y, line))
        pdf.text_runs(runs)
        for line, left, right, line_top in shaped:
            self._draw_shaped(line, left, right, line_top)
            pdf.set_font(FAMILY, style, self.font_size)
        pdf.line(self.edges[0], top + height, self.edges[-1], top + height)
        pdf.set_y(top + height)

    def _draw_shaped(self, line: str, left: float, right: float, top: float) -> None:
        """Draw a line with fallback fonts and bidi via ``cell`` (slower, so only when needed).

        A line that starts right-to-left is aligned right, where its reader starts.
        """
        pdf = self.pdf
        pdf.set_xy(left + self.PAD_X - pdf.c_margin, top + self.PAD_Y)
        align = "R" if _starts_rtl(line) else "L"
        pdf.cell(
            right - left - 2 * self.PAD_X + 2 * pdf.c_margin, self.line_height, line, align=align
        )

    def _open_segment(self) -> None:
        """Start the table on this page: top rule plus the heading row."""
        pdf = self.pdf
        self.segment_top = pdf.get_y()
        pdf.line(self.edges[0], self.segment_top, self.edges[-1], self.segment_top)
        self._draw_row(self.headings, "B", self.line_height + 2 * self.PAD_Y, fill=HEADING_FILL)

    def _close_segment(self) -> None:
        """Draw the column rules for the part of the table on this page."""
        bottom = self.pdf.get_y()
        for edge in self.edges:
            self.pdf.line(edge, self.segment_top, edge, bottom)


class _LogGrid(_Grid):
    """The daily log: the CSV's columns, the day's level and flags, and the note if shown."""

    FONT_SIZE = 7.5
    LINE_HEIGHT = 3.6

    def __init__(self, pdf: _ReportPDF, *, include_notes: bool) -> None:
        headings = [heading for heading, _, _ in LOG_COLUMNS] + [LEVEL_HEADING, FLAGS_HEADING]
        aligns = ["L"] + ["C"] * (len(LOG_COLUMNS) - 1) + ["L", "L"]
        super().__init__(
            pdf, headings, aligns, font_size=self.FONT_SIZE, line_height=self.LINE_HEIGHT
        )
        self.include_notes = include_notes
        widths = [
            max(self._width(heading, "B"), self._width(sample, "")) + 2 * self.PAD_X + 0.6
            for heading, sample in zip(headings, (*LOG_SAMPLES, LEVEL_SAMPLE), strict=False)
        ] + [FLAGS_WIDTH]
        if include_notes:
            self.headings.append("Note")
            self.aligns.append("L")
            widths.append(max(pdf.epw - sum(widths), 30.0))
        else:
            # Without notes, spread the spare width so the table spans the page.
            scale = pdf.epw / sum(widths)
            widths = [width * scale for width in widths]
        self.set_widths(widths)

    def note_lines(self, note: str) -> list[str]:
        """Wrap a note, one blank line at most between paragraphs, shortened past the cap."""
        lines: list[str] = []
        for line in self.wrap(self.pdf.safe(note.strip()), self.widths[-1]):
            if line or (lines and lines[-1]):
                lines.append(line)
        if len(lines) > NOTE_MAX_LINES:
            marker = self.wrap(NOTE_SHORTENED, self.widths[-1])
            lines = lines[: NOTE_MAX_LINES - len(marker)] + marker
        return lines

    def render(self, rows: Sequence[Any], judgements: Mapping[date, Any]) -> None:
        """Draw all rows, breaking pages and repeating headings as needed."""
        self.begin()
        for index, checkin in enumerate(rows):
            cells = [_fmt_log_value(getattr(checkin, attr)) for _, attr, _ in LOG_COLUMNS]
            # Under the date, wrapped to its column: the note keeps its width.
            if getattr(checkin, "episode_day", None) is not None:
                said = f"day {checkin.episode_day} of the episode"
                cells[0] = "\n".join([cells[0], *self.wrap(said, self.widths[0])])
            cells.extend(self.judged_cells(judgements.get(checkin.date)))
            note = None
            if self.include_notes:
                note = self.note_lines(checkin.note) if checkin.note else []
            self.row(cells, note, striped=index % 2 == 0)
        self.end()

    def judged_cells(self, judgement: Any) -> list[str]:
        """The Level and Flags cells: the API's judgement of the day, flags one per line."""
        if judgement is None:
            return [DASH, ""]
        flags: list[str] = []
        for word in _flags(judgement):
            flags.extend(self.wrap(word, self.widths[len(LOG_COLUMNS) + 1]))
        return [judgement.level, "\n".join(flags)]


def _daily_log(pdf: _ReportPDF, report: PdfReport) -> None:
    """Render one row per logged day; the heading row repeats on every page."""
    _heading(pdf, "Daily log")
    rows = sorted(
        (c for c in report.checkins if report.start <= c.date <= report.end),
        key=lambda c: c.date,
    )
    if not rows:
        _line(pdf, "No check-ins in this range.")
        return
    _LogGrid(pdf, include_notes=report.include_notes).render(rows, report.judgements or {})


def _taken(pdf: _ReportPDF, report: PdfReport) -> None:
    """What the person wrote they took, day by day, as written (nothing if none)."""
    days = [
        c
        for c in report.checkins
        if report.start <= c.date <= report.end and getattr(c, "taken", None)
    ]
    if not days:
        return
    pdf.ln(4)
    _heading(pdf, "Taken, in the person's own words")
    for checkin in sorted(days, key=lambda c: c.date):
        said = "; ".join(taken_text(item) for item in checkin.taken)
        _line(pdf, pdf.safe(f"{checkin.date.isoformat()}: {said}"), size=8)


def _resources(pdf: _ReportPDF, report: PdfReport) -> None:
    """Render the help page: crisis lines first, then everything else."""
    title = "Where to get help"
    if report.region:
        title += f" ({pdf.safe(report.region)})"
    _heading(pdf, title, size=14)
    if not report.resources:
        _line(
            pdf,
            "No resources are listed for this region. "
            "In an emergency, call your local emergency number.",
        )
        return
    # sorted() is stable, so the catalogue's own order holds within each group.
    ordered = sorted(report.resources, key=lambda r: RESOURCE_KIND_ORDER.get(r.get("kind"), 2))
    for resource in ordered:
        name = pdf.safe(str(resource.get("name") or DASH))
        label = KIND_LABELS.get(resource.get("kind"))
        _line(pdf, f"{name} ({label})" if label else name, size=11, bold=True)
        for key, prefix in (
            ("display", ""),
            ("url", ""),
            ("hours", "Hours: "),
            ("description", ""),
        ):
            if resource.get(key):
                _line(pdf, prefix + pdf.safe(str(resource[key])))
        pdf.ln(3)


def _previous_period(start: date, end: date) -> str:
    """Say what "Previous mean" compares with: the same number of days just before."""
    days = (end - start).days + 1
    first, last = start - timedelta(days=days), start - timedelta(days=1)
    return (
        f"Previous mean: the {days} days before the range ({first.isoformat()} to "
        f"{last.isoformat()}). Direction compares the two means."
    )


def build_pdf(report: PdfReport, *, font_dir: str | os.PathLike[str] | None = None) -> bytes:
    """Render the report to PDF bytes (deterministic for identical input)."""
    texts = list(report.texts())
    body, fallbacks = choose_fonts(texts, font_dir)
    range_text = f"{report.start.isoformat()} to {report.end.isoformat()}"
    produced_text = _fmt_produced(report.produced_at, report.timezone)
    pdf = _ReportPDF(
        body=body,
        fallbacks=fallbacks,
        # Only a report with text beyond the body font or right-to-left text pays for shaping.
        shaping=bool(fallbacks) or any(_has_rtl(text) for text in texts),
        running_header=f"{TITLE} · {report.display_name} · {range_text}",
    )
    # Fixed dates and metadata make identical input give identical bytes;
    # the display name stays out of the metadata, which viewers index.
    pdf.set_creation_date(report.produced_at.astimezone(UTC))
    pdf.set_title(TITLE)
    pdf.set_creator("Steady")
    pdf.set_lang("en")

    pdf.add_page()
    _heading(pdf, TITLE, size=18)
    _line(pdf, f"For: {pdf.safe(report.display_name)}")
    _line(pdf, f"Range: {range_text}")
    _line(pdf, f"Produced: {produced_text}")
    _line(pdf, f"Days logged: {report.days_logged} of {report.days_in_range}")
    for paragraph in report.disclosure:
        pdf.ln(2)
        _line(pdf, pdf.safe(paragraph), size=8, bold=paragraph is report.disclosure[0])
    pdf.ln(4)
    _heading(pdf, "Summary")
    _summary_table(pdf, report.summary)
    _line(pdf, _previous_period(report.start, report.end), size=8)
    pdf.ln(4)
    _assessment(pdf, report.assessment)
    if report.chart is not None:
        _chart_page(pdf, report)

    # Landscape: the CSV's columns, the day's level and flags, and a note column wide
    # enough that a 2,000-character note takes about 35 lines.
    pdf.add_page(orientation="L")
    _daily_log(pdf, report)
    _taken(pdf, report)
    if report.instruments and report.instruments.results:
        from server.exports.instrument_pdf import render_pdf  # builds on this module

        pdf.add_page()
        render_pdf(pdf, report.instruments)

    pdf.add_page(orientation="P")
    _resources(pdf, report)
    return bytes(pdf.output())
