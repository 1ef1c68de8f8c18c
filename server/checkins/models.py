"""Daily check-ins, and the changes feed that lets a second device follow them."""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.db import TimestampMixin, uuid_fk, uuid_pk
from server.extensions import db
from server.vocabulary import CORE_SYMPTOMS, OPTIONAL_SCORES


def _score_check(name: str) -> CheckConstraint:
    """Keep a 0-10 score in range even if a bug bypasses validation."""
    return CheckConstraint(f"{name} BETWEEN 0 AND 10", name=f"{name}_range")


class Checkin(TimestampMixin, db.Model):
    """One patient's check-in for one local calendar day."""

    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("patient_id", "date", name="uq_checkins_patient_date"),
        *(_score_check(name) for name in (*CORE_SYMPTOMS, *OPTIONAL_SCORES)),
        CheckConstraint("sleep_hours BETWEEN 0 AND 24", name="sleep_hours_range"),
        # The changes feed reads a patient's days in the order they were written.
        UniqueConstraint("patient_id", "change_seq", name="uq_checkins_patient_change_seq"),
    )

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = uuid_fk("users.id", index=False)
    date: Mapped[date]
    nausea: Mapped[int]
    aches: Mapped[int]
    anxiety: Mapped[int]
    insomnia: Mapped[int]
    diarrhea: Mapped[int | None]
    vomiting: Mapped[int | None]
    cravings: Mapped[int | None]
    sleep_hours: Mapped[float | None]
    used_opioids: Mapped[bool | None]
    crisis: Mapped[bool | None]
    note: Mapped[str | None] = mapped_column(String(2000))
    # What the person took that day, in their own words: [{substance, amount}], or null.
    taken: Mapped[list[dict] | None] = mapped_column(JSON(none_as_null=True))
    # Random per write, so an ETag never repeats even if a day is deleted and re-created.
    version: Mapped[str] = mapped_column(String(32))
    # The patient's change number of the write that left the day as it is (CheckinFeed).
    change_seq: Mapped[int]


class CheckinFeed(db.Model):
    """Where a patient's changes feed stands: the last change number and the pruned part.

    Every write of a day (create, replace, delete) takes the next number by updating this
    row, which holds the row lock (PostgreSQL) or the write lock (SQLite) until the write
    commits: numbers are handed out in commit order, so a reader that has seen number n
    has seen every change before it.
    """

    __tablename__ = "checkin_feeds"

    patient_id: Mapped[str] = mapped_column(
        Uuid(as_uuid=False), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    last_seq: Mapped[int]
    # The highest change number of a tombstone pruned so far: a cursor before it may have
    # missed that deletion, so it is answered 410 (resync).
    pruned_through: Mapped[int]


class CheckinTombstone(db.Model):
    """A deleted day, kept for the changes feed (at least CHECKIN_TOMBSTONE_DAYS days)."""

    __tablename__ = "checkin_tombstones"
    __table_args__ = (
        PrimaryKeyConstraint("patient_id", "date"),
        Index("ix_checkin_tombstones_patient_seq", "patient_id", "seq"),
    )

    patient_id: Mapped[str] = uuid_fk("users.id", index=False)
    date: Mapped[date]
    seq: Mapped[int]
    deleted_at: Mapped[datetime]
