"""Audit events: every counselor read and every consent change."""

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import utcnow, uuid_fk, uuid_pk
from server.extensions import db


class AuditEvent(db.Model):
    """One access or change; the application only ever inserts these."""

    __tablename__ = "audit_events"

    id: Mapped[str] = uuid_pk()
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Kept when the actor deletes their account, so the patient's record stays whole.
    actor_id: Mapped[str | None] = mapped_column(
        db.Uuid(as_uuid=False), db.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor_role: Mapped[str] = mapped_column(String(16))
    actor_name: Mapped[str] = mapped_column(String(100))
    patient_id: Mapped[str] = uuid_fk("users.id")
    action: Mapped[str] = mapped_column(String(40))
    # Ids, ranges and formats only: never scores or notes.
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
