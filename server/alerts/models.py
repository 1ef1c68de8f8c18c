"""An alert for a counselor about one day of a sharing patient."""

from datetime import date, datetime

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db import TimestampMixin, uuid_fk, uuid_pk
from server.extensions import db


class Alert(TimestampMixin, db.Model):
    """A worrying day, one per patient, counselor and date (re-saves update it)."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("patient_id", "counselor_id", "checkin_date", name="uq_alerts_day"),
    )

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = uuid_fk("users.id", index=False)
    counselor_id: Mapped[str] = uuid_fk("users.id")
    checkin_date: Mapped[date]
    level: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[dict]] = mapped_column(JSON)
    acknowledged_at: Mapped[datetime | None]
