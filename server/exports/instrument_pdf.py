"""Instrument results (SOWS responses, COWS observations) as a table in the PDF report.

One row per result (day, instrument, total, band, who recorded it), then each instrument's
full name, citation and how its total is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

# The report imports this module only when it draws the section, so this is no cycle.
from server.exports.pdf_report import _Grid, _heading, _line
from server.instruments.definitions import INSTRUMENTS, Instrument, Recorded

NO_PUBLISHED_BAND = "no published band"
SELF_REPORT = "self-report"
OBSERVED = "observed by clinician"


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
                instrument.short_name,
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
    """Draw the rows as the report's ruled grid, headings repeated on every page."""
    grid = _Grid(
        pdf,
        PDF_HEADINGS,
        PDF_ALIGNS,
        font_size=9,
        line_height=PDF_ROW_HEIGHT - 2 * _Grid.PAD_Y,
        widths=PDF_WIDTHS,
    )
    grid.begin()
    for index, row in enumerate(rows):
        grid.row(list(row), striped=index % 2 == 0)
    grid.end()


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
