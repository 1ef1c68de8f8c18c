"""Tests for the streaming CSV export builder."""

from __future__ import annotations

import csv
import functools
import io
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from server.exports.csv_export import header_row, iter_csv, neutralise_cell
from tests.factories import MODERATE_SCORES, CheckinRecord

START = date(2025, 3, 1)
END = date(2025, 3, 7)
PRODUCED = datetime(2025, 3, 8, 9, 30, 15, tzinfo=UTC)
STAMP = datetime(2025, 3, 1, 21, 0, tzinfo=UTC)

BASE_COLUMNS = [
    "date",
    "nausea_0_10",
    "aches_0_10",
    "anxiety_0_10",
    "insomnia_0_10",
    "total_0_40",
    "diarrhea_0_10",
    "vomiting_0_10",
    "cravings_0_10",
    "sleep_hours_0_24",
    "used_opioids",
    "crisis",
    "taken",
    "episode_day",
]
META_COLUMNS = ["range_from", "range_to", "produced_at", "source"]
META_VALUES = ["2025-03-01", "2025-03-07", "2025-03-08T09:30:15Z", "self-reported"]


# This file's check-ins default to moderate scores, stamped the evening of the 1st.
Checkin = functools.partial(CheckinRecord, **MODERATE_SCORES, created_at=STAMP, updated_at=STAMP)


def _csv(checkins, *, include_notes: bool = True, start: date = START, end: date = END) -> str:
    """Join the streamed chunks into one document."""
    return "".join(
        iter_csv(checkins, start=start, end=end, produced_at=PRODUCED, include_notes=include_notes)
    )


def _rows(text: str) -> list[list[str]]:
    """Parse CSV text back the way a reader would."""
    return list(csv.reader(io.StringIO(text, newline="")))


def test_header_names_with_and_without_notes() -> None:
    """The header lists scale-suffixed columns, the note only when included."""
    assert header_row(include_notes=True) == [*BASE_COLUMNS, "note", *META_COLUMNS]
    assert header_row(include_notes=False) == [*BASE_COLUMNS, *META_COLUMNS]
    assert _rows(_csv([]))[0] == [*BASE_COLUMNS, "note", *META_COLUMNS]


def test_round_trip_matches_inputs_exactly() -> None:
    """Every value parses back to the input; None is an empty cell."""
    tricky = 'Felt sick, then "better"\nslept 2h, ate toast'
    checkins = [
        Checkin(
            date=date(2025, 3, 1),
            nausea=0,
            aches=10,
            anxiety=7,
            insomnia=2,
            diarrhea=4,
            vomiting=0,
            cravings=9,
            sleep_hours=6.5,
            used_opioids=False,
            crisis=True,
            note=tricky,
        ),
        Checkin(date=date(2025, 3, 3)),
    ]
    rows = _rows(_csv(checkins))
    assert len(rows) == 3
    assert rows[1] == [
        "2025-03-01",
        "0",
        "10",
        "7",
        "2",
        "19",
        "4",
        "0",
        "9",
        "6.5",
        "false",
        "true",
        "",
        "",
        tricky,
        *META_VALUES,
    ]
    assert rows[2] == [
        "2025-03-03",
        "3",
        "4",
        "5",
        "6",
        "18",
        *[""] * 9,
        *META_VALUES,
    ]


def test_crlf_line_endings() -> None:
    """Records end with CRLF as RFC 4180 requires."""
    text = _csv([Checkin(date=START)])
    assert text.count("\r\n") == 2
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        (
            '=HYPERLINK("http://evil.example","click")',
            '\'=HYPERLINK("http://evil.example","click")',
        ),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("plain text = fine", "plain text = fine"),
    ],
)
def test_formula_like_notes_are_neutralised(note: str, expected: str) -> None:
    """Cells a spreadsheet would evaluate get a leading apostrophe (OWASP)."""
    rows = _rows(_csv([Checkin(date=START, note=note)]))
    assert rows[1][len(BASE_COLUMNS)] == expected


def test_neutralise_cell_leaves_safe_text_alone() -> None:
    """Only the trigger characters at the start matter."""
    assert neutralise_cell("a=b") == "a=b"
    assert neutralise_cell("") == ""
    assert neutralise_cell("-") == "'-"


def test_include_notes_false_drops_the_column() -> None:
    """With notes excluded there is no note column and no note text anywhere."""
    canary = "CANARY-note-7f3a"
    text = _csv([Checkin(date=START, note=canary)], include_notes=False)
    rows = _rows(text)
    assert "note" not in rows[0]
    assert canary not in text
    assert len(rows[1]) == len(BASE_COLUMNS) + len(META_COLUMNS)


def test_empty_range_yields_only_the_header() -> None:
    """No check-ins means a header row and nothing else."""
    assert _rows(_csv([])) == [[*BASE_COLUMNS, "note", *META_COLUMNS]]


def test_checkins_outside_the_range_are_left_out() -> None:
    """Rows must agree with the range stated in every row."""
    checkins = [
        Checkin(date=START - timedelta(days=1)),
        Checkin(date=START),
        Checkin(date=END + timedelta(days=1)),
    ]
    rows = _rows(_csv(checkins))
    assert [row[0] for row in rows[1:]] == ["2025-03-01"]


def test_bad_arguments_fail_before_streaming() -> None:
    """Errors surface at call time, before any chunk would be sent."""
    with pytest.raises(ValueError, match="start"):
        iter_csv([], start=END, end=START, produced_at=PRODUCED, include_notes=True)
    with pytest.raises(ValueError, match="timezone"):
        iter_csv([], start=START, end=END, produced_at=datetime(2025, 3, 8), include_notes=True)


def test_produced_at_is_reported_in_utc() -> None:
    """A non-UTC produced_at is converted to UTC with a Z suffix."""
    local = datetime(2025, 3, 8, 10, 30, 15, tzinfo=timezone(timedelta(hours=1)))
    chunks = iter_csv(
        [Checkin(date=START)], start=START, end=END, produced_at=local, include_notes=False
    )
    assert _rows("".join(chunks))[1][-2] == "2025-03-08T09:30:15Z"


def test_consumes_the_iterable_lazily() -> None:
    """Each chunk pulls at most one check-in, so rows stream from the DB cursor."""
    pulled = 0

    def source() -> Iterator[Checkin]:
        nonlocal pulled
        for offset in range(1000):
            pulled += 1
            yield Checkin(date=START + timedelta(days=offset))

    chunks = iter_csv(
        source(),
        start=START,
        end=START + timedelta(days=999),
        produced_at=PRODUCED,
        include_notes=True,
    )
    assert pulled == 0
    assert next(chunks).startswith("date,")
    assert pulled == 0
    next(chunks)
    next(chunks)
    assert pulled == 2
    assert sum(1 for _ in chunks) == 998


def _peak_bytes(count: int) -> int:
    """Peak traced allocation while streaming ``count`` generated rows."""
    checkins = (
        Checkin(date=START + timedelta(days=offset), note="some note, with a comma")
        for offset in range(count)
    )
    tracemalloc.start()
    try:
        for _ in iter_csv(
            checkins,
            start=START,
            end=START + timedelta(days=count),
            produced_at=PRODUCED,
            include_notes=True,
        ):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat() -> None:
    """Ten times the rows must not cost meaningfully more memory."""
    small, large = _peak_bytes(400), _peak_bytes(4000)
    assert large < 1_000_000
    assert large < small + 64_000
