"""Consent to share a log with one counselor."""

from datetime import date, datetime

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import utcnow, uuid_fk, uuid_pk
from server.extensions import db


def share_status(revoked_at: datetime | None, expires_on: date, today: date) -> str:
    """active, expired or revoked, judged at read time (no job expires rows)."""
    if revoked_at is not None:
        return "revoked"
    if today > expires_on:
        return "expired"
    return "active"


class Share(db.Model):
    """A patient's consent: who sees what, for what purpose, until when; kept as history."""

    __tablename__ = "shares"
    __table_args__ = (Index("ix_shares_counselor_patient", "counselor_id", "patient_id"),)

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = uuid_fk("users.id")
    # Kept (as null) when the counselor deletes their account: the consent history is the
    # patient's, and stays while the patient's account exists.
    counselor_id: Mapped[str | None] = mapped_column(
        db.Uuid(as_uuid=False), db.ForeignKey("users.id", ondelete="SET NULL")
    )
    counselor_name: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(500))
    scope: Mapped[list[str]] = mapped_column(JSON)
    include_notes: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_on: Mapped[date]
    revoked_at: Mapped[datetime | None]
    # "patient", "counselor", "replaced" (a newer share took its place) or
    # "counselor_deleted".
    revoked_by: Mapped[str | None] = mapped_column(String(20))

    def status_on(self, today: date) -> str:
        """active, expired or revoked, judged at read time (no job expires rows)."""
        return share_status(self.revoked_at, self.expires_on, today)
