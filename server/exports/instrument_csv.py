"""Instrument results (SOWS responses, COWS observations) in the CSV export.

A day's results are extra columns appended after every existing column, present only
when the export holds any result, so files without instruments keep their shape. A day
with a result but no check-in gets a row whose check-in cells are empty. A day may hold
several clinician observations: its row shows the highest total (the later one on a tie),
when it was observed and how many there were; the FHIR export carries every one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from itertools import groupby
from typing import Any

from server.common.dates import iso_utc
from server.instruments.definitions import CLINICIAN, INSTRUMENTS, Instrument, Recorded


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
