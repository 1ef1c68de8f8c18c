"""Daily check-in model."""

from datetime import date

from sqlalchemy import CheckConstraint, String, UniqueConstraint
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
    # Random per write, so an ETag never repeats even if a day is deleted and re-created.
    version: Mapped[str] = mapped_column(String(32))
