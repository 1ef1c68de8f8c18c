"""Golden-structure tests of the PDF report: fixed data, checked through extracted text.

Text comes out with pypdf (reading order of the content stream) and, where the position or
the font of a glyph matters, with pypdfium2 (each glyph's box and font). No pixels compared.
"""

from __future__ import annotations

import ctypes
import functools
import io
import os
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
import pytest
from pypdf import PdfReader

from server.assessments.judgement import Thresholds, assess
from server.exports import pdf_report
from server.exports.csv_export import header_row
from server.exports.pdf_report import PdfReport, build_pdf
from server.trends.chart import chart_figure
from tests.factories import MODERATE_SCORES, CheckinRecord
from tests.factories import trend_summary as _stats

START = date(2026, 11, 24)
END = date(2026, 11, 30)
PRODUCED = datetime(2026, 12, 1, 13, 5, tzinfo=UTC)
STAMP = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
JAPANESE = "吐き気がひどい"
CHINESE = "恶心呕吐"
HEBREW = "בחילה חזקה"
ARABIC = "غثيان شديد"
# The PDF's heading for each CSV column, written out here so the test does not reuse the
# definition it checks.
PDF_HEADING_OF_CSV = {
    "date": "Date",
    "nausea_0_10": "Nausea",
    "aches_0_10": "Aches",
    "anxiety_0_10": "Anxiety",
    "insomnia_0_10": "Insomnia",
    "total_0_40": "Total",
    "diarrhea_0_10": "Diarr.",
    "vomiting_0_10": "Vomit",
    "cravings_0_10": "Crav.",
    "sleep_hours_0_24": "Sleep h",
    "used_opioids": "Used",
    "crisis": "Crisis",
}
NOTO_CJK = pdf_report.NOTO_FALLBACKS[-1]
# Outside CI a machine without the fonts skips these; in CI (CI set) they must run.
needs_noto = pytest.mark.skipif(
    not os.environ.get("CI")
    and not all(
        files.regular.is_file()
        for files in (pdf_report.NOTO_BODY, *pdf_report.NOTO_FALLBACKS[:2], NOTO_CJK)
    ),
    reason="Noto fonts not installed (.ci/run installs fonts-noto-core and fonts-noto-cjk)",
)

needs_pdftotext = pytest.mark.skipif(
    not os.environ.get("CI") and shutil.which("pdftotext") is None,
    reason="poppler-utils not installed (.ci/run installs it)",
)

Checkin = functools.partial(CheckinRecord, **MODERATE_SCORES, created_at=STAMP, updated_at=STAMP)

# A calm start, then two days of severe vomiting (dehydration risk), then opioid use after
# days without (overdose risk) and a crisis.
CHECKINS = [
    Checkin(date=date(2026, 11, 24), used_opioids=False, note=f"{JAPANESE} / {CHINESE}"),
    Checkin(date=date(2026, 11, 25), used_opioids=False, vomiting=8, note=HEBREW),
    Checkin(date=date(2026, 11, 26), used_opioids=False, vomiting=9, note=ARABIC),
    Checkin(date=date(2026, 11, 27), used_opioids=False),
    Checkin(date=date(2026, 11, 28), used_opioids=False),
    Checkin(date=date(2026, 11, 29), used_opioids=True, crisis=True),
]
SUMMARY = {
    "nausea": _stats(3.0, 3, 3, 3, None, None, None),
    "aches": _stats(4.0, 4, 4, 4, None, None, None),
    "anxiety": _stats(5.0, 5, 5, 5, None, None, None),
    "insomnia": _stats(6.0, 6, 6, 6, None, None, None),
    "total": _stats(18.0, 18, 18, 18, None, None, None),
}


def _judged(checkins) -> dict:
    """Each day judged by the API's rules against the days before it."""
    newest_first = sorted(checkins, key=lambda c: c.date, reverse=True)
    return {
        c.date: assess(c, newest_first[i + 1 :], Thresholds()) for i, c in enumerate(newest_first)
    }


def _report(**changes) -> PdfReport:
    """The fixed report: a week in Berlin, no check-ins in the week before."""
    fields = {
        "display_name": "Dana",
        "start": START,
        "end": END,
        "produced_at": PRODUCED,
        "days_logged": len(CHECKINS),
        "days_in_range": 7,
        "summary": SUMMARY,
        "checkins": CHECKINS,
        "include_notes": True,
        "timezone": "Europe/Berlin",
        "judgements": _judged(CHECKINS),
        "chart": None,
    }
    fields.update(changes)
    return PdfReport(**fields)


@pytest.fixture(scope="module")
def golden() -> bytes:
    """The fixed report, rendered once."""
    return build_pdf(_report())


def _pages(pdf: bytes) -> list[str]:
    """pypdf's text of each page."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def _log_page(pdf: bytes) -> str:
    """The first page of the daily log."""
    return next(page for page in _pages(pdf) if "Daily log" in page)


def _row(page: str, day: date) -> str:
    """The extracted line of a day's row (the first line: values, level, first flag)."""
    return next(line for line in page.splitlines() if line.startswith(day.isoformat()))


def _glyphs(pdf: bytes, page_index: int) -> list[tuple[str, float, str]]:
    """Each drawn character of a page with its left edge (pt) and the font it is drawn in."""
    document = pdfium.PdfDocument(pdf)
    textpage = document[page_index].get_textpage()
    glyphs = []
    name = ctypes.create_string_buffer(128)
    flags = ctypes.c_int()
    for index in range(textpage.count_chars()):
        if pdfium_raw.FPDFText_IsGenerated(textpage.raw, index):
            continue
        char = chr(pdfium_raw.FPDFText_GetUnicode(textpage.raw, index))
        pdfium_raw.FPDFText_GetFontInfo(textpage.raw, index, name, len(name), ctypes.byref(flags))
        left = textpage.get_charbox(index)[0]
        glyphs.append((char, left, name.value.decode().split("+")[-1]))
    return glyphs


def _log_page_index(pdf: bytes) -> int:
    """Index of the first daily-log page."""
    return next(i for i, page in enumerate(_pages(pdf)) if "Daily log" in page)


def test_log_header_is_the_csv_column_order(golden: bytes) -> None:
    """The log's headings are the CSV's columns in the CSV's order, then level and flags."""
    heading = next(line for line in _log_page(golden).splitlines() if line.startswith("Date "))
    expected = [PDF_HEADING_OF_CSV[name] for name in header_row(include_notes=False)[:12]]
    assert heading == " ".join([*expected, "Level", "Flags", "Note"])


def test_each_row_shows_the_days_level_and_flags(golden: bytes) -> None:
    """A severe dehydration day and a crisis day read as such, in words, on their row."""
    judged = _judged(CHECKINS)
    page = _log_page(golden)
    assert judged[date(2026, 11, 26)].level == "severe"
    assert "severe dehydration risk" in _row(page, date(2026, 11, 26))
    assert _row(page, date(2026, 11, 29)).endswith("crisis overdose risk")
    for day, judgement in judged.items():
        assert f" {judgement.level}" in _row(page, day)
    # The day before the vomiting was calm: its row carries no dehydration flag.
    assert "dehydration" not in _row(page, date(2026, 11, 24))


def test_empty_comparison_is_explained(golden: bytes) -> None:
    """No previous check-ins: the summary says so and names the period it looked at."""
    first = _pages(golden)[0]
    nausea = next(line for line in first.splitlines() if line.startswith("Nausea"))
    assert nausea == "Nausea 3.00 3 3 3 no check-ins in the previous period"
    assert "— —" not in first
    assert "the 7 days before the range (2026-11-17 to 2026-11-23)" in first


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        ("Europe/Berlin", "2026-12-01 14:05 (Europe/Berlin)"),
        ("Pacific/Auckland", "2026-12-02 02:05 (Pacific/Auckland)"),
        ("America/Los_Angeles", "2026-12-01 05:05 (America/Los_Angeles)"),
    ],
)
def test_produced_in_the_patients_zone(zone: str, shown: str) -> None:
    """'Produced' is the patient's local time with the zone named, even across midnight."""
    first = _pages(build_pdf(_report(timezone=zone, checkins=[], judgements={})))[0]
    assert f"Produced: {shown}" in first
    assert "UTC" not in first


@needs_noto
def test_cjk_note_is_drawn_from_a_font_that_has_it(golden: bytes) -> None:
    """Japanese and Chinese come out as themselves, each glyph from Noto Sans CJK."""
    glyphs = _glyphs(golden, _log_page_index(golden))
    text = "".join(char for char, _, _ in glyphs)
    assert JAPANESE in text and CHINESE in text
    assert pdf_report.PLACEHOLDER not in text
    cjk_cmap = pdf_report._font_cmap(NOTO_CJK.regular)
    for char, _, font in glyphs:
        if char in JAPANESE + CHINESE:
            assert font.startswith("NotoSansCJK")
            assert ord(char) in cjk_cmap


@needs_noto
@pytest.mark.parametrize(
    ("word", "font"), [(HEBREW, "NotoSansHebrew"), (ARABIC, "NotoSansArabic")]
)
def test_right_to_left_notes_run_right_to_left(golden: bytes, word: str, font: str) -> None:
    """Each word's first letter is drawn right of its last one, in the script's own font."""
    letters = [
        g for g in _glyphs(golden, _log_page_index(golden)) if g[0] in word.replace(" ", "")
    ]
    # Read from the right edge leftwards, the glyphs spell the words as typed.
    right_to_left = sorted(letters, key=lambda g: g[1], reverse=True)
    assert "".join(g[0] for g in right_to_left) == word.replace(" ", "")
    assert {g[2] for g in letters} == {font}


@needs_pdftotext
def test_right_to_left_note_extracts_in_reading_order(golden: bytes, tmp_path) -> None:
    """pdftotext, which reorders right-to-left lines, gives Hebrew and Arabic back as typed."""
    path = tmp_path / "report.pdf"
    path.write_bytes(golden)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    lines = {line.split()[0]: line for line in text.splitlines() if line.startswith("2026-")}
    assert HEBREW in lines["2026-11-25"]
    assert ARABIC in lines["2026-11-26"]


def test_missing_noto_fonts_degrade_to_dejavu(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Without Noto the report still renders: DejaVu draws what it can, the rest is marked."""
    absent = pdf_report.FontFiles("absent", tmp_path / "a.ttf", tmp_path / "b.ttf")
    monkeypatch.setattr(pdf_report, "NOTO_BODY", absent)
    monkeypatch.setattr(pdf_report, "NOTO_FALLBACKS", (absent,))
    pdf = build_pdf(_report())
    text = " ".join(_pages(pdf))
    assert "Daily log" in text
    assert pdf_report.PLACEHOLDER in text  # CJK: no installed font draws it
    assert "Produced: 2026-12-01 14:05 (Europe/Berlin)" in text
    # DejaVu draws Hebrew, and it is still laid out right to left.
    letters = [g for g in _glyphs(pdf, _log_page_index(pdf)) if g[0] in HEBREW.replace(" ", "")]
    right_to_left = sorted(letters, key=lambda g: g[1], reverse=True)
    assert "".join(g[0] for g in right_to_left) == HEBREW.replace(" ", "")
    assert all(g[2].startswith("DejaVuSans") for g in letters)


def test_chart_is_vector_at_full_size_on_its_own_page() -> None:
    """The chart is drawn as paths, not a raster, at 100 % so its labels keep their size."""
    days = [
        {"date": START + timedelta(days=i), "nausea": 3, "aches": 4, "anxiety": 5}
        | {"insomnia": 6, "total": 18}
        for i in range(7)
    ]
    figure = chart_figure(days)
    width_pt, height_pt = (inches * 72 for inches in figure.get_size_inches())
    pdf = build_pdf(_report(chart=figure))
    document = pdfium.PdfDocument(pdf)
    index = next(i for i, page in enumerate(_pages(pdf)) if "Trend chart" in page)
    page = document[index]
    assert page.get_width() > page.get_height()  # landscape
    objects = list(page.get_objects())
    assert not [o for o in objects if o.type == pdfium_raw.FPDF_PAGEOBJ_IMAGE]
    paths = [
        o
        for o in objects
        if o.type in (pdfium_raw.FPDF_PAGEOBJ_PATH, pdfium_raw.FPDF_PAGEOBJ_FORM)
    ]
    assert paths
    boxes = [o.get_bounds() for o in paths]
    drawn_width = max(b[2] for b in boxes) - min(b[0] for b in boxes)
    drawn_height = max(b[3] for b in boxes) - min(b[1] for b in boxes)
    # The figure's background spans the whole figure: drawn at 100 % it is as wide.
    assert drawn_width == pytest.approx(width_pt, rel=0.01)
    assert drawn_height == pytest.approx(height_pt, rel=0.01)


def test_chart_text_stays_text_and_prints_at_8_pt_or_more() -> None:
    """The chart's labels are text in the PDF (extractable), none under 8 pt."""
    days = [
        {"date": date(2026, 11, 2) + timedelta(days=i), "nausea": i % 10, "aches": 4}
        | {"anxiety": 5, "insomnia": 6, "total": i % 10 + 15}
        for i in range(30)
    ]
    pdf = build_pdf(_report(chart=chart_figure(days)))
    index = next(i for i, page in enumerate(_pages(pdf)) if "Trend chart" in page)
    assert "Nausea" in _pages(pdf)[index]  # the legend, extracted as text
    textpage = pdfium.PdfDocument(pdf)[index].get_textpage()
    sizes = [
        pdfium_raw.FPDFText_GetFontSize(textpage.raw, i)
        for i in range(textpage.count_chars())
        if not pdfium_raw.FPDFText_IsGenerated(textpage.raw, i)
        and not chr(pdfium_raw.FPDFText_GetUnicode(textpage.raw, i)).isspace()
    ]
    assert len(sizes) > 50
    assert min(sizes) >= 8


def test_a_right_to_left_help_text_is_aligned_right_where_its_reader_starts() -> None:
    """A Hebrew resource description ends (reads from) the right margin; Latin starts left."""
    resources = [
        {"name": "Crisis line", "kind": "crisis", "display": "Call 1201"}
        | {"url": None, "hours": None, "description": f"{HEBREW} {HEBREW}"},
    ]
    pdf = build_pdf(_report(resources=resources, region="IL"))
    page = len(_pages(pdf)) - 1
    width_pt = pdfium.PdfDocument(pdf)[page].get_width()
    glyphs = _glyphs(pdf, page)
    hebrew = [left for char, left, _ in glyphs if char in HEBREW.replace(" ", "")]
    latin = [left for char, left, _ in glyphs if char in "Crisis line"]
    margin_pt = pdf_report.MARGIN * 72 / 25.4
    assert max(hebrew) > width_pt - margin_pt - 20  # its first letter is at the right margin
    assert min(latin) < margin_pt + 6  # the Latin name starts at the left margin
