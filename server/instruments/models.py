"""Stored instrument results: a patient's own SOWS responses and clinicians' COWS observations."""

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.db import TimestampMixin, uuid_fk, uuid_pk
from server.extensions import db


class InstrumentResponse(TimestampMixin, db.Model):
    """A patient's complete self-report on one instrument for one local calendar day."""

    __tablename__ = "instrument_responses"
    __table_args__ = (
        UniqueConstraint(
            "patient_id", "instrument_id", "date", name="uq_instrument_responses_patient_day"
        ),
    )

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = uuid_fk("users.id", index=False)
    instrument_id: Mapped[str] = mapped_column(String(40))
    instrument_version: Mapped[str] = mapped_column(String(16))
    date: Mapped[date]
    items: Mapped[dict[str, int]] = mapped_column(JSON)
    total: Mapped[int]
    band: Mapped[str | None] = mapped_column(String(24))
    # Random per write, so an ETag never repeats even if a day is deleted and re-created.
    version: Mapped[str] = mapped_column(String(32))


class InstrumentObservation(TimestampMixin, db.Model):
    """A clinician-observed instrument (COWS) about a patient, recorded through a share."""

    __tablename__ = "instrument_observations"
    __table_args__ = (Index("ix_instrument_observations_patient_date", "patient_id", "date"),)

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = uuid_fk("users.id", index=False)
    # The observation is the patient's record: it stays when the observer's account goes.
    observer_id: Mapped[str | None] = mapped_column(
        Uuid(as_uuid=False), ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    instrument_id: Mapped[str] = mapped_column(String(40))
    instrument_version: Mapped[str] = mapped_column(String(16))
    observed_at: Mapped[datetime]
    # The patient's local calendar day of observed_at, fixed when recorded.
    date: Mapped[date]
    items: Mapped[dict[str, int]] = mapped_column(JSON)
    total: Mapped[int]
    band: Mapped[str | None] = mapped_column(String(24))
