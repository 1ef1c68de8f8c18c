"""Streaming CSV export of daily check-ins (RFC 4180, one row per logged day)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from server.common.dates import iso_utc
from server.exports import instrument_csv

SOURCE = "self-reported"

# Score columns: (attribute on the check-in, CSV header). The range suffix
# tells a reader of the bare file what scale each number is on.
_VALUE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("nausea", "nausea_0_10"),
    ("aches", "aches_0_10"),
    ("anxiety", "anxiety_0_10"),
    ("insomnia", "insomnia_0_10"),
    ("total", "total_0_40"),
    ("diarrhea", "diarrhea_0_10"),
    ("vomiting", "vomiting_0_10"),
    ("cravings", "cravings_0_10"),
    ("sleep_hours", "sleep_hours_0_24"),
    ("used_opioids", "used_opioids"),
    ("crisis", "crisis"),
)
# What the person took and the day of their withdrawal episode: after the values, in the
# CSV only (the PDF shows them in words: under each date, and in a list after the log).
_EPISODE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("taken", "taken"),
    ("episode_day", "episode_day"),
)


def value_attributes() -> tuple[str, ...]:
    """The check-in attributes of the value columns, in CSV order (the PDF log follows it)."""
    return tuple(attr for attr, _ in _VALUE_COLUMNS)


_META_HEADERS: tuple[str, ...] = ("range_from", "range_to", "produced_at", "source")

# OWASP CSV-injection guidance: a spreadsheet may evaluate a cell that starts
# with one of these, so such cells get a leading apostrophe.
_FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def header_row(*, include_notes: bool) -> list[str]:
    """Return the CSV column names, in order."""
    names = ["date", *(header for _, header in (*_VALUE_COLUMNS, *_EPISODE_COLUMNS))]
    if include_notes:
        names.append("note")
    names.extend(_META_HEADERS)
    return names


def neutralise_cell(value: str) -> str:
    """Prefix ``'`` to a string a spreadsheet would run as a formula."""
    if value.startswith(_FORMULA_TRIGGERS):
        return "'" + value
    return value


def taken_text(item: Mapping[str, Any]) -> str:
    """One thing taken, in words: the substance, then the person's amount in parentheses."""
    amount = item.get("amount")
    return f"{item['substance']} ({amount})" if amount else item["substance"]


def _cell(value: Any) -> Any:
    """Render one value: None → empty, bool → true/false, str → neutralised, list → "; "."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return neutralise_cell("; ".join(taken_text(item) for item in value))
    # bool before int: bool is an int subclass and would print as True/False.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return neutralise_cell(value)
    return value


def iter_csv(
    checkins: Iterable[Any],
    *,
    start: date,
    end: date,
    produced_at: datetime,
    include_notes: bool,
    instruments: Sequence[Any] = (),
) -> Iterator[str]:
    """Yield CSV text chunks: the header row, then one row per day with a check-in or result."""
    # Validate eagerly (this is not a generator function) so a bad call fails
    # before the response starts streaming, not halfway through the download.
    if start > end:
        raise ValueError("start must be on or before end")
    meta = [start.isoformat(), end.isoformat(), iso_utc(produced_at), SOURCE]
    return _generate(
        checkins,
        start=start,
        end=end,
        meta=meta,
        include_notes=include_notes,
        instruments=instruments,
    )


def _generate(
    checkins: Iterable[Any],
    *,
    start: date,
    end: date,
    meta: list[str],
    include_notes: bool,
    instruments: Sequence[Any] = (),
) -> Iterator[str]:
    """Stream rows through one reused buffer so memory stays flat."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    meta_cells = [_cell(value) for value in meta]

    def flush() -> str:
        chunk = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return chunk

    writer.writerow(
        header_row(include_notes=include_notes) + instrument_csv.csv_headers(instruments)
    )
    yield flush()
    for checkin, instrument_cells in instrument_csv.csv_days(checkins, instruments):
        day: date = checkin.date
        # The file states its range in every row; a row outside it would
        # contradict that claim, so it is left out rather than exported.
        if day < start or day > end:
            continue
        row = [day.isoformat()]
        row.extend(
            _cell(getattr(checkin, attr)) for attr, _ in (*_VALUE_COLUMNS, *_EPISODE_COLUMNS)
        )
        if include_notes:
            row.append(_cell(checkin.note))
        row.extend(meta_cells)
        row.extend(_cell(value) for value in instrument_cells)
        writer.writerow(row)
        yield flush()
