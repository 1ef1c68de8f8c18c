"""Instrument results (SOWS responses, COWS observations) in the CSV and the PDF report.

CSV: a day's results are extra columns appended after every existing column, present only
when the export holds any result, so files without instruments keep their shape. A day
with a result but no check-in gets a row whose check-in cells are empty. A day may hold
several clinician observations: its row shows the highest total (the later one on a tie),
when it was observed and how many there were; the FHIR export carries every one.

PDF: one row per result (day, instrument, total, band, who recorded it), then each
instrument's full name, citation and how its total is read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from server.common.dates import iso_utc

# The report imports this module only when it draws the section, so this is no cycle.
from server.exports.pdf_report import FAMILY, HEADING_FILL, STRIPE_FILL, _heading, _line
from server.instruments.definitions import CLINICIAN, INSTRUMENTS, Instrument, Recorded

NO_PUBLISHED_BAND = "no published band"
SELF_REPORT = "self-report"
OBSERVED = "observed by clinician"


def _prefix(instrument: Instrument) -> str:
    """The CSV column prefix of an instrument: its id as an identifier."""
    return instrument.id.replace("-", "_")


def csv_headers(results: Sequence[Recorded]) -> list[str]:
    """The instrument columns, or none when the export holds no result."""
    if not results:
        return []
    headers: list[str] = []
    for instrument in INSTRUMENTS.values():
        prefix = _prefix(instrument)
        headers.append(f"{prefix}_total")
        if instrument.bands:
            headers.append(f"{prefix}_band")
        if instrument.completed_by == CLINICIAN:
            headers += [f"{prefix}_observed_at", f"{prefix}_observations"]
    return headers


def _shown(results: list[Recorded]) -> Recorded:
    """The one result a day's row shows for an instrument: the highest total, latest on a tie."""
    return max(results, key=lambda r: (r.total, r.observed_at or r.recorded_at))


def _day_cells(results: Iterable[Recorded]) -> list[Any]:
    """One day's instrument cells, in csv_headers order (None where nothing was recorded)."""
    by_instrument: dict[str, list[Recorded]] = {}
    for result in results:
        by_instrument.setdefault(result.instrument_id, []).append(result)
    cells: list[Any] = []
    for instrument in INSTRUMENTS.values():
        recorded = by_instrument.get(instrument.id, [])
        shown = _shown(recorded) if recorded else None
        cells.append(shown.total if shown else None)
        if instrument.bands:
            cells.append(shown.band if shown else None)
        if instrument.completed_by == CLINICIAN:
            observed_at = shown.observed_at if shown else None
            cells += [iso_utc(observed_at) if observed_at else None, len(recorded) or None]
    return cells


class _NoCheckin:
    """A day with instrument results but no check-in: every check-in field is empty."""

    __slots__ = ("date",)

    def __init__(self, day: date) -> None:
        self.date = day

    def __getattr__(self, name: str) -> None:
        """No check-in value exists for this day."""
        return None


def csv_days(checkins: Iterable[Any], results: Sequence[Recorded]) -> Iterator[tuple[Any, list]]:
    """Every day with a check-in or a result, in date order, with its instrument cells.

    Check-ins stream in date order and results come sorted by day, so one merge pass
    keeps memory to the results themselves.
    """
    days = [(day, _day_cells(group)) for day, group in groupby(results, key=lambda r: r.day)]
    blank = _day_cells(()) if results else []
    index = 0
    for checkin in checkins:
        while index < len(days) and days[index][0] < checkin.date:
            yield _NoCheckin(days[index][0]), days[index][1]
            index += 1
        if index < len(days) and days[index][0] == checkin.date:
            yield checkin, days[index][1]
            index += 1
        else:
            yield checkin, blank
    for day, cells in days[index:]:
        yield _NoCheckin(day), cells


# --- PDF ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PdfInstruments:
    """What the report's instrument table needs: the results and the patient's time zone."""

    results: Sequence[Recorded]
    timezone: str


PDF_HEADINGS = ("Date", "Instrument", "Total", "Band", "Recorded as")
# Millimetres; wide enough that every cell fits on one line (the A4 text width is 186).
PDF_WIDTHS = (24, 34, 20, 44, 64)
PDF_ALIGNS = ("L", "L", "R", "L", "L")
PDF_ROW_HEIGHT = 5.5


def short_name(instrument: Instrument) -> str:
    """The abbreviation in an instrument's name, e.g. "COWS" (else the whole name)."""
    found = re.search(r"\(([^()]+)\)$", instrument.name)
    return found.group(1) if found else instrument.name


def band_text(instrument: Instrument, result: Recorded) -> str:
    """The band in words, or why there is none."""
    if not instrument.bands:
        return NO_PUBLISHED_BAND
    band = next((b for b in instrument.bands if b.code == result.band), None)
    if band is not None:
        return band.label
    return f"no band (below {min(b.low for b in instrument.bands)})"


def pdf_rows(table: PdfInstruments) -> list[tuple[str, str, str, str, str]]:
    """One table row per result, in the order they were recorded."""
    zone = ZoneInfo(table.timezone)
    rows = []
    for result in table.results:
        instrument = INSTRUMENTS[result.instrument_id]
        recorded_as = SELF_REPORT
        if result.observed_at is not None:
            local = result.observed_at.astimezone(zone)
            recorded_as = f"{OBSERVED}, {local:%H:%M}"
        rows.append(
            (
                result.day.isoformat(),
                short_name(instrument),
                f"{result.total} of {instrument.total_max}",
                band_text(instrument, result),
                recorded_as,
            )
        )
    return rows


def cited(table: PdfInstruments) -> list[Instrument]:
    """The instruments the table shows, in their defined order."""
    used = {result.instrument_id for result in table.results}
    return [instrument for instrument in INSTRUMENTS.values() if instrument.id in used]


def _grid(pdf, rows: Sequence[Sequence[str]]) -> None:
    """Draw the rows as a ruled grid of one-line cells, headings repeated on every page.

    Plain cells, not fpdf2's table(): it lays out every cell twice, which for a year of
    daily results costs seconds.
    """

    def headings() -> None:
        pdf.set_font(FAMILY, "B", 9)
        pdf.set_fill_color(*HEADING_FILL)
        for width, heading in zip(PDF_WIDTHS, PDF_HEADINGS, strict=True):
            pdf.cell(width, PDF_ROW_HEIGHT, heading, border=1, fill=True)
        pdf.ln(PDF_ROW_HEIGHT)
        pdf.set_font(FAMILY, "", 9)
        pdf.set_fill_color(*STRIPE_FILL)

    pdf.set_draw_color(150)
    pdf.set_line_width(0.15)
    headings()
    for index, row in enumerate(rows):
        if pdf.get_y() + PDF_ROW_HEIGHT > pdf.page_break_trigger:
            pdf.add_page()
            headings()
        for width, align, text in zip(PDF_WIDTHS, PDF_ALIGNS, row, strict=True):
            pdf.cell(width, PDF_ROW_HEIGHT, text, border=1, align=align, fill=index % 2 == 0)
        pdf.ln(PDF_ROW_HEIGHT)
    pdf.set_draw_color(0)


def render_pdf(pdf, table: PdfInstruments) -> None:
    """Draw the instrument table and, under it, each instrument's name and citation."""
    _heading(pdf, "Withdrawal scales")
    _line(pdf, f"Times are in {table.timezone}.", size=8)
    pdf.ln(1)
    _grid(pdf, pdf_rows(table))
    pdf.ln(4)
    for instrument in cited(table):
        _line(pdf, pdf.safe(instrument.name), size=9, bold=True)
        _line(pdf, pdf.safe(instrument.citation), size=8)
        _line(pdf, pdf.safe(instrument.interpretation), size=8)
        pdf.ln(2)
