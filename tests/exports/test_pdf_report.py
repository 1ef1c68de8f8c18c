"""Tests for the PDF report builder."""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
import pytest
from fpdf import output as fpdf_output
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.figure import Figure
from pypdf import PdfReader

from server.exports import pdf_report
from server.exports.pdf_report import PdfReport, build_pdf, resolve_font_files
from server.resources.catalogue import KIND_LABELS
from tests.factories import MODERATE_SCORES, CheckinRecord
from tests.factories import trend_summary as _stats

START = date(2025, 3, 1)
END = date(2025, 3, 7)
PRODUCED = datetime(2025, 3, 8, 9, 30, tzinfo=UTC)
STAMP = datetime(2025, 3, 1, 21, 0, tzinfo=UTC)
CANARY = "CANARY-note-7f3a"
CYRILLIC = "Тошнота сильная"
IRISH = "Tá mé tuirseach"


# This file's check-ins default to moderate scores, stamped the evening of the 1st.
Checkin = functools.partial(CheckinRecord, **MODERATE_SCORES, created_at=STAMP, updated_at=STAMP)


SUMMARY = {
    "nausea": _stats(4.33, 2, 7, 4, 6.0, -1.67, "improving"),
    "aches": _stats(5.0, 4, 6, 5, None, None, None),
    "anxiety": _stats(3.67, 1, 5, 5, 3.0, 0.67, "stable"),
    "insomnia": _stats(6.0, 6, 6, 6, 4.5, 1.5, "worsening"),
    "total": _stats(19.0, 15, 22, 20, 18.5, 0.5, "stable"),
}
ASSESSMENT = {
    "level": "elevated",
    "reasons": [
        {"code": "vomiting_high", "message": "Vomiting is high: keep drinking fluids."},
        {"code": "sleep_low", "message": "Very little sleep logged."},
    ],
    "checkin_date": date(2025, 3, 5),
}
RESOURCES = [
    {
        "name": "Treatment Locator Line",
        "kind": "treatment",
        "display": "Call (800) 555-0100",
        "url": "https://locator.example",
        "hours": "24/7",
        "description": "Find treatment near you.",
    },
    {
        "name": "Crisis Text Example",
        "kind": "crisis",
        "display": "Call 988 or text 988",
        "url": None,
        "hours": None,
        "description": "Call or text any time.",
    },
]


def _figure() -> Figure:
    """A small real figure standing in for the trend chart."""
    figure = Figure(figsize=(4, 1.6))
    figure.add_subplot().plot([0, 1, 2], [1, 3, 2])
    return figure


def _checkins(count: int, start: date = START, note: str | None = None) -> list[Checkin]:
    """Consecutive days of check-ins."""
    return [
        Checkin(date=start + timedelta(days=i), sleep_hours=7.5, used_opioids=False, note=note)
        for i in range(count)
    ]


def _report(**changes) -> PdfReport:
    """A three-day report over a seven-day range, with overrides."""
    base = PdfReport(
        display_name="Róisín K.",
        start=START,
        end=END,
        produced_at=PRODUCED,
        days_logged=3,
        days_in_range=7,
        summary=SUMMARY,
        assessment=ASSESSMENT,
        chart=_figure(),
        checkins=[
            Checkin(date=date(2025, 3, 1), note=f"{CYRILLIC} / {IRISH} 😣"),
            Checkin(date=date(2025, 3, 3), note=CANARY),
            Checkin(date=date(2025, 3, 5), vomiting=8, crisis=True),
        ],
        include_notes=True,
        resources=RESOURCES,
        region="US",
    )
    return dataclasses.replace(base, **changes)


def _pages(pdf: bytes) -> list[str]:
    """Extracted text of every page."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def _flat(pdf: bytes) -> str:
    """All text with whitespace collapsed, so wrapped cell text still matches."""
    return " ".join(" ".join(_pages(pdf)).split())


@pytest.fixture(scope="module")
def default_pdf() -> bytes:
    """The default report, rendered once for the read-only checks."""
    return build_pdf(_report())


def test_output_is_a_pdf(default_pdf: bytes) -> None:
    """The bytes are a PDF document."""
    assert default_pdf.startswith(b"%PDF-")


def test_first_page_states_who_when_and_coverage(default_pdf: bytes) -> None:
    """Page 1 names the person, the range, production time and days logged."""
    first = _pages(default_pdf)[0]
    assert "Steady — symptom report" in first
    assert "Róisín K." in first
    assert "2025-03-01 to 2025-03-07" in first
    assert "Produced: 2025-03-08 09:30 (UTC)" in first
    assert "Days logged: 3 of 7" in first


def test_summary_table_numbers(default_pdf: bytes) -> None:
    """Summary values are printed; None shows as an em dash."""
    first = _pages(default_pdf)[0]
    for text in ("Previous mean", "4.33", "3.67", "6.00", "19.00", "improving (-1.67)"):
        assert text in first
    assert "worsening (+1.50)" in first
    aches_line = next(line for line in first.splitlines() if line.startswith("Aches"))
    assert aches_line.endswith("no check-ins in the previous period")
    assert "—" not in aches_line


def test_assessment_reasons_are_listed(default_pdf: bytes) -> None:
    """The latest assessment shows its level and every reason."""
    first = _pages(default_pdf)[0]
    assert "Level: elevated" in first
    assert "Vomiting is high: keep drinking fluids." in first
    assert "Very little sleep logged." in first


def test_no_assessment_says_no_checkins() -> None:
    """Without an assessment the report says there are no check-ins yet."""
    first = _pages(build_pdf(_report(assessment=None, checkins=[], days_logged=0)))[0]
    assert "No check-ins yet" in first


def test_footer_on_every_page(default_pdf: bytes) -> None:
    """Every page carries the disclaimer and 'Page n of m'."""
    pages = _pages(default_pdf)
    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert "Self-reported data — not a diagnosis" in text
        assert f"Page {number} of {len(pages)}" in text


def test_help_page_lists_resources_crisis_first(default_pdf: bytes) -> None:
    """The last page lists the region's resources with crisis lines first."""
    last = _pages(default_pdf)[-1]
    assert "Where to get help" in last
    assert last.index("Crisis Text Example") < last.index("Treatment Locator Line")
    assert "Call 988 or text 988" in last
    assert "https://locator.example" in last


def test_help_page_names_each_kind_in_words() -> None:
    """Every kind prints as its label, never as the code the API uses."""
    resources = [
        {"name": f"Entry {n}", "kind": kind, "display": "Call 988", "description": "Help."}
        for n, kind in enumerate(KIND_LABELS)
    ]
    last = _pages(build_pdf(_report(resources=resources)))[-1]
    for n, label in enumerate(KIND_LABELS.values()):
        assert f"Entry {n} ({label})" in last
    assert "harm_reduction" not in last and "peer_support" not in last
    assert "(crisis)" not in last and "(emergency)" not in last


def test_unicode_notes_render(default_pdf: bytes) -> None:
    """Cyrillic, Irish and emoji do not crash; the scripts extract back."""
    text = _flat(default_pdf)
    assert CYRILLIC in text
    assert IRISH in text
    # DejaVu Sans happens to draw this emoji, so it survives as itself.
    assert "😣" in text


def test_glyphs_missing_from_the_font_become_a_placeholder() -> None:
    """An emoji DejaVu lacks is shown as a placeholder, never dropped silently."""
    note = "brain fog 🧠 thumbs 👍🏽 ok"
    text = _flat(build_pdf(_report(checkins=_checkins(1, note=note))))
    assert "brain fog □ thumbs □ ok" in text


def test_notes_excluded_when_not_included() -> None:
    """With include_notes False no note text and no Note column appear."""
    pages = _pages(build_pdf(_report(include_notes=False)))
    text = "".join(pages)
    assert CANARY not in text
    assert CYRILLIC not in text
    assert "Note" not in pages[1]


def test_long_log_repeats_the_heading_row() -> None:
    """A 120-day log spans pages and each page repeats the column headings."""
    checkins = _checkins(120)
    report = _report(
        checkins=checkins,
        end=START + timedelta(days=119),
        days_logged=120,
        days_in_range=120,
    )
    pages = _pages(build_pdf(report))
    log_pages = [page for page in pages if "2025-" in page and "Where to get help" not in page]
    assert len(pages) >= 4
    assert "Nausea" in pages[2]
    assert "Insomnia" in pages[2]
    text = "".join(log_pages)
    for checkin in checkins:
        assert checkin.date.isoformat() in text


def test_note_taller_than_a_page_is_split_not_lost() -> None:
    """A note at the API's 2,000-character limit continues over pages, end included."""
    note = "line\n" * 60 + "THE-END"
    assert len(note) <= 2000
    pages = _pages(build_pdf(_report(checkins=_checkins(2, note=note))))
    text = "".join(pages)
    assert "THE-END" in text
    assert "(cont.)" in text
    assert pdf_report.NOTE_SHORTENED[:20] not in _flat_text(pages)


PATHOLOGICAL_NOTES = pytest.mark.parametrize(
    "note",
    ["\n" * 2000, "a\n" * 1000, "x\n\n\n" * 500, "W" * 2000],
    ids=["only-line-breaks", "a-line-each", "blank-runs", "wide-letters"],
)


@PATHOLOGICAL_NOTES
def test_a_year_of_pathological_notes_stays_bounded(note) -> None:
    """Line breaks cannot blow a year's report up to thousands of pages (10,470 before)."""
    days = 366
    report = _report(
        checkins=_checkins(days, note=note),
        end=START + timedelta(days=days - 1),
        days_logged=days,
        days_in_range=days,
    )
    pages = len(PdfReader(io.BytesIO(build_pdf(report))).pages)
    # A capped note is at most NOTE_MAX_LINES x 3.6 mm = 432 mm: under two pages a day.
    assert pages <= 2 * days + 3


@PATHOLOGICAL_NOTES
def test_a_shortened_note_says_so_where_it_is_cut(note) -> None:
    """Every note cut to the cap carries the marker; whitespace-only notes show nothing."""
    flat = _flat_text(_pages(build_pdf(_report(checkins=_checkins(3, note=note)))))
    lines = note.strip().split("\n")
    if note.strip() == "":
        assert "note shortened" not in flat
    elif len(lines) > pdf_report.NOTE_MAX_LINES:
        assert flat.count("note shortened here; the CSV and FHIR exports hold the full text") == 3


def _flat_text(pages: list[str]) -> str:
    return " ".join(" ".join(pages).split())


def test_checkins_outside_range_are_not_listed() -> None:
    """Only days within the stated range appear in the log."""
    outside = Checkin(date=END + timedelta(days=3), note=CANARY)
    text = "".join(_pages(build_pdf(_report(checkins=[outside]))))
    assert CANARY not in text
    assert "No check-ins in this range." in text


def test_undrawable_chart_does_not_break_the_report() -> None:
    """A chart holding what the PDF cannot draw (an image) gives a note, not an exception."""
    figure = _figure()
    figure.axes[0].imshow([[0, 1], [1, 0]])
    pages = _pages(build_pdf(_report(chart=figure)))
    chart_page = next(page for page in pages if "Trend chart" in page)
    assert "Chart unavailable." in chart_page
    assert any("Daily log" in page for page in pages)


def test_output_is_deterministic() -> None:
    """Identical input gives identical bytes (fixed creation date and IDs)."""
    assert build_pdf(_report()) == build_pdf(_report())


def test_a_report_does_not_depend_on_the_reports_made_before_it() -> None:
    """Fonts parsed once per process carry nothing from one document into the next."""
    pdf_report._parsed_font.cache_clear()
    greek = _report(checkins=[Checkin(date=START, note="Ωραία μέρα, λίγος πόνος")])
    first = build_pdf(greek)
    # Another report subsets the same fonts with other glyphs in between.
    build_pdf(_report(checkins=[Checkin(date=START, note=f"{CYRILLIC} 12345 ¿?")]))
    assert build_pdf(greek) == first
    assert pdf_report._parsed_font.cache_info().hits >= 2


def test_a_report_written_while_another_is_written_is_unchanged(monkeypatch) -> None:
    """Two documents in one process (gthread workers render two at once) share no font state.

    The other document is written whole at the worst moment: after this one's fonts are
    numbered, before its objects are serialised.
    """
    short = _report(checkins=_checkins(3, note="a plain note"), chart=None)
    alone = build_pdf(short)
    original = fpdf_output.OutputProducer._add_structure_tree
    others: list[bytes] = []
    started = []

    def with_another_document_written(self):
        if not started:  # once: the other document passes here too
            started.append(True)
            longer = _report(
                checkins=_checkins(60, note="zz qq"),
                end=START + timedelta(days=59),
                days_logged=60,
                days_in_range=60,
                chart=None,
            )
            # Pages more than this one: its objects are numbered differently.
            others.append(build_pdf(longer))
        return original(self)

    monkeypatch.setattr(
        fpdf_output.OutputProducer, "_add_structure_tree", with_another_document_written
    )
    assert build_pdf(short) == alone
    assert others and others[0] != alone


def test_naive_produced_at_is_rejected() -> None:
    """Production time must be unambiguous."""
    with pytest.raises(ValueError, match="timezone"):
        build_pdf(_report(produced_at=datetime(2025, 3, 8, 9, 30)))


def test_font_dir_env_and_matplotlib_fallback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A directory without DejaVu falls back to matplotlib's bundled copy."""
    monkeypatch.setenv(pdf_report.FONT_DIR_ENV, str(tmp_path))
    regular, bold = resolve_font_files()
    assert regular.name == "DejaVuSans.ttf" and regular.is_file()
    assert bold.name == "DejaVuSans-Bold.ttf" and bold.is_file()
    assert "matplotlib" in regular.parts
    assert build_pdf(_report(), font_dir=tmp_path).startswith(b"%PDF-")


@pytest.mark.parametrize("include_notes", [True, False])
def test_a_day_of_an_episode_says_which_day_it_is(include_notes) -> None:
    """Under the date, "day N of the episode"; days outside every episode say nothing."""
    checkins = [
        Checkin(date=START, note="before it began"),
        Checkin(date=START + timedelta(days=1), episode_day=0, note="day zero"),
        Checkin(date=START + timedelta(days=2), episode_day=12, note="later"),
    ]
    text = _flat(build_pdf(_report(checkins=checkins, include_notes=include_notes)))
    assert "day 0 of the episode" in text.replace("- ", "")
    assert "day 12 of the episode" in text.replace("- ", "")
    assert text.count("of the episode") == 2
    if include_notes:
        assert "before it began" in text and "day zero" in text


def test_what_was_taken_is_listed_as_written() -> None:
    """A day's taken list is printed word for word after the log; days without it are not."""
    checkins = [
        Checkin(date=START),
        Checkin(
            date=START + timedelta(days=1),
            taken=({"substance": "kratom", "amount": "2 scoops"}, {"substance": "methadone"}),
        ),
    ]
    text = _flat(build_pdf(_report(checkins=checkins)))
    assert "Taken, in the person's own words" in text
    assert "2025-03-02: kratom (2 scoops); methadone" in text
    assert f"{START.isoformat()}:" not in text
    assert "Taken, in" not in _flat(build_pdf(_report(checkins=[Checkin(date=START)])))


WORDS = st.text(alphabet="abcdefghij", min_size=1, max_size=14)


@given(st.lists(WORDS, min_size=1, max_size=30), st.integers(min_value=1, max_value=40))
def test_wrapping_keeps_every_letter_and_fills_each_line_greedily(words, limit) -> None:
    """Lines fit (a lone letter may not), keep the text's letters in order, and are full."""
    text = " ".join(words)
    lines = pdf_report.wrap_words(text, limit, len)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert all(len(line) <= limit or len(line) == 1 for line in lines)
    for line, following in zip(lines, lines[1:], strict=False):
        # The next line's first word would not have fitted at the end of this one.
        assert len(f"{line} {following.split(' ')[0]}") > limit


def test_help_texts_are_printed_ragged_right_from_the_margin() -> None:
    """A long description wraps onto lines that each start at the margin, unstretched."""
    long = " ".join(["Free, confidential referral and information, any day of the year."] * 4)
    pdf = build_pdf(_report(resources=[dict(RESOURCES[0], description=long)]))
    textpage = pdfium.PdfDocument(pdf)[len(_pages(pdf)) - 1].get_textpage()
    lines: dict[float, list[int]] = {}  # baseline → the indices of its characters
    for index in range(textpage.count_chars()):
        x, y = ctypes.c_double(), ctypes.c_double()
        if pdfium_raw.FPDFText_GetCharOrigin(textpage.raw, index, x, y):
            lines.setdefault(round(y.value, 1), []).append(index)
    described = []
    for indices in lines.values():
        line = "".join(chr(pdfium_raw.FPDFText_GetUnicode(textpage.raw, i)) for i in indices)
        if line.strip() and line.strip() in long:
            boxes = [
                textpage.get_charbox(i)
                for i in indices
                if not chr(pdfium_raw.FPDFText_GetUnicode(textpage.raw, i)).isspace()
            ]
            described.append((min(b[0] for b in boxes), max(b[2] for b in boxes)))
    assert len(described) >= 3
    lefts = [left for left, _ in described]
    # At the margin (plus the cell's padding and the letter's side bearing), all alike.
    assert min(lefts) == pytest.approx(pdf_report.MARGIN * 72 / 25.4, abs=5)
    assert max(lefts) - min(lefts) < 1
    # Justified lines would all end at the right margin; ragged ones end where they end.
    rights = [right for _, right in described[:-1]]
    assert max(rights) - min(rights) > 3
