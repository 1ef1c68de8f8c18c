"""The changes feed's statements: change numbers, tombstones, the feed read and pruning.

A patient's changes are numbered 1, 2, 3... by their checkin_feeds row. `next_seq` takes
the next number by updating that row, so the row stays locked (PostgreSQL) or the database
stays write-locked (SQLite) until the write commits: a number is handed out only after the
one before it committed, and whoever has seen change n has seen every change before it. A
timestamp cursor has no such order (two transactions can commit in the opposite order of
their clocks, and a reader between the commits skips the earlier one for ever).

A live day carries the number of its last write (checkins.change_seq); a deleted day
leaves a tombstone with the number of its deletion. A tombstone whose day was written
again is superseded (the live day has the higher number) and is never shown.
"""

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    bindparam,
    case,
    delete,
    exists,
    false,
    func,
    literal,
    null,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from server.auth.models import User
from server.checkins.models import Checkin, CheckinFeed, CheckinTombstone
from server.extensions import db

_feeds = CheckinFeed.__table__
_tombstones = CheckinTombstone.__table__
_checkins = Checkin.__table__


def _build_next_seq(dialect) -> object:
    """Take the patient's next change number (creating their feed at 1): one statement.

    The account's row is read FOR KEY SHARE (PostgreSQL) first, as a foreign key check
    would: a deletion of the account then waits for this write, or this write for it, and
    the two never lock each other's rows the other way round (a deadlock). No row back:
    the account is gone.
    """
    users = User.__table__
    account = (
        select(users.c.id, literal(1), literal(0))
        .where(users.c.id == bindparam("patient_id"))
        .with_for_update(read=True, key_share=True)
    )
    insert = dialect.insert(_feeds).from_select(
        ["patient_id", "last_seq", "pruned_through"], account
    )
    return insert.on_conflict_do_update(
        index_elements=[_feeds.c.patient_id], set_={"last_seq": _feeds.c.last_seq + 1}
    ).returning(_feeds.c.last_seq)


def _build_hold(dialect) -> object:
    """Hold the patient's feed without taking a number (creating it at 0): one statement.

    The account is read FOR KEY SHARE first, as in _build_next_seq, so both lock in the
    same order.
    """
    users = User.__table__
    account = (
        select(users.c.id, literal(0), literal(0))
        .where(users.c.id == bindparam("patient_id"))
        .with_for_update(read=True, key_share=True)
    )
    insert = dialect.insert(_feeds).from_select(
        ["patient_id", "last_seq", "pruned_through"], account
    )
    return insert.on_conflict_do_update(
        index_elements=[_feeds.c.patient_id], set_={"last_seq": _feeds.c.last_seq}
    )


def _build_bury(dialect) -> object:
    """Leave (or renew) the tombstone of a deleted day."""
    insert = dialect.insert(_tombstones)
    return insert.on_conflict_do_update(
        index_elements=[_tombstones.c.patient_id, _tombstones.c.date],
        set_={"seq": insert.excluded.seq, "deleted_at": insert.excluded.deleted_at},
    )


_NEXT_SEQ = {"sqlite": _build_next_seq(sqlite), "postgresql": _build_next_seq(postgresql)}
_BURY = {"sqlite": _build_bury(sqlite), "postgresql": _build_bury(postgresql)}
_HOLD = {"sqlite": _build_hold(sqlite), "postgresql": _build_hold(postgresql)}


def next_seq(patient_id: str) -> int | None:
    """The patient's next change number, holding their feed until the transaction ends.

    None if the account was deleted meanwhile.
    """
    statement = _NEXT_SEQ[db.session.get_bind().dialect.name]
    return db.session.execute(statement, {"patient_id": patient_id}).scalar_one_or_none()


def hold(patient_id: str) -> None:
    """Wait for (then hold until the transaction ends) the patient's feed, as writes of days do.

    A write that judges days from other tables takes it first, so a day written meanwhile
    and the result it judges with are never each unseen by the other (PostgreSQL).
    """
    statement = _HOLD[db.session.get_bind().dialect.name]
    db.session.execute(statement, {"patient_id": patient_id})


def bury(patient_id: str, day: date, seq: int, now: datetime) -> None:
    """Record that the day was deleted by change `seq`."""
    statement = _BURY[db.session.get_bind().dialect.name]
    db.session.execute(
        statement, {"patient_id": patient_id, "date": day, "seq": seq, "deleted_at": now}
    )


def _relives(tombstones) -> object:
    """The day of a tombstone exists again (written after its deletion)."""
    return exists().where(
        _checkins.c.patient_id == tombstones.c.patient_id, _checkins.c.date == tombstones.c.date
    )


def _build_read(row_columns: Sequence) -> object:
    """The feed's position and its next changes after `since`, in one statement.

    One statement is one snapshot on every database: the position (last number, pruned
    part) and the changes agree even while the patient writes or tombstones are pruned.
    A patient without a feed row has never written, so an empty answer is an empty feed.
    """
    live = select(
        _checkins.c.change_seq.label("seq"),
        false().label("deleted"),
        *row_columns,
    ).where(
        _checkins.c.patient_id == bindparam("patient_id"),
        _checkins.c.change_seq > bindparam("since"),
    )
    others = [null().label(column.name) for column in row_columns[1:]]
    buried = select(
        _tombstones.c.seq,
        true().label("deleted"),
        _tombstones.c.date,
        *others,
    ).where(
        _tombstones.c.patient_id == bindparam("patient_id"),
        _tombstones.c.seq > bindparam("since"),
        ~_relives(_tombstones),
    )
    both = live.union_all(buried).subquery()
    changes = select(both).order_by(both.c.seq).limit(bindparam("limit")).subquery()
    return (
        select(_feeds.c.last_seq, _feeds.c.pruned_through, changes)
        .select_from(_feeds.outerjoin(changes, true()))
        .where(_feeds.c.patient_id == bindparam("patient_id"))
        .order_by(changes.c.seq)
    )


@dataclass(frozen=True)
class FeedPage:
    """The feed's last number and pruned part, and the (seq, deleted, day row) read."""

    last_seq: int
    pruned_through: int
    changes: list[tuple]


class FeedReader:
    """Reads the feed; built once with the columns of a stored day (service.ROW)."""

    def __init__(self, row_columns: Sequence) -> None:
        self.statement = _build_read(row_columns)

    def read(self, patient_id: str, since: int, limit: int) -> FeedPage:
        """The position and up to `limit` changes after `since`, oldest first."""
        params = {"patient_id": patient_id, "since": since, "limit": limit}
        rows = db.session.execute(self.statement, params).all()
        if not rows:
            return FeedPage(0, 0, [])
        changes = [tuple(row[2:]) for row in rows if row[2] is not None]
        return FeedPage(rows[0][0], rows[0][1], changes)


# --- Pruning --------------------------------------------------------------------------


def prune(before: datetime) -> int:
    """Forget tombstones of deletions before `before`, and superseded ones; returns how many.

    A feed's pruned part rises to its highest forgotten deletion first, so a cursor that
    had not seen it is answered 410 rather than silently missing it. Superseded tombstones
    are never shown, so forgetting them moves nothing.
    """
    old = _tombstones.alias("old")
    expired = select(func.max(old.c.seq)).where(
        old.c.patient_id == _feeds.c.patient_id,
        old.c.deleted_at < bindparam("before"),
        ~_relives(old),
    )
    highest = expired.scalar_subquery()
    db.session.execute(
        update(_feeds)
        .where(exists(expired.with_only_columns(old.c.seq)))
        .values(
            pruned_through=case(
                (highest > _feeds.c.pruned_through, highest), else_=_feeds.c.pruned_through
            )
        ),
        {"before": before},
    )
    forgotten = db.session.execute(
        delete(_tombstones).where(
            (_tombstones.c.deleted_at < bindparam("before")) | _relives(_tombstones)
        ),
        {"before": before},
    )
    return forgotten.rowcount


# --- Cursors ----------------------------------------------------------------------------

# A cursor is a change number, versioned and encoded so that clients treat it as opaque.
_CURSOR_VERSION = b"\x01"
_CURSOR = re.compile(r"[A-Za-z0-9_-]{12}")
# The change numbers' column is a 32-bit integer on every database.
MAX_SEQ = 2**31 - 1


def encode_cursor(seq: int) -> str:
    """The cursor of a position in a patient's feed (after change `seq`)."""
    return base64.urlsafe_b64encode(_CURSOR_VERSION + seq.to_bytes(8, "big")).decode()


def decode_cursor(cursor: str) -> int:
    """The change number in a cursor this server issued; ValueError for anything else."""
    if not isinstance(cursor, str) or not _CURSOR.fullmatch(cursor):
        raise ValueError(cursor)
    raw = base64.urlsafe_b64decode(cursor)
    seq = int.from_bytes(raw[1:], "big")
    if raw[:1] != _CURSOR_VERSION or seq > MAX_SEQ:
        raise ValueError(cursor)
    return seq
