"""An alert for a counselor about one day of a sharing patient."""

from datetime import date, datetime

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db import TimestampMixin, uuid_fk, uuid_pk
from server.extensions import db


class Alert(TimestampMixin, db.Model):
    """A worrying day, one per share and date (re-saves update it).

    It belongs to the share that raised it: a later share to the same counselor never sees it.
    """

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("share_id", "checkin_date", name="uq_alerts_share_day"),)

    id: Mapped[str] = uuid_pk()
    share_id: Mapped[str] = uuid_fk("shares.id", index=False)
    patient_id: Mapped[str] = uuid_fk("users.id", index=False)
    counselor_id: Mapped[str] = uuid_fk("users.id")
    checkin_date: Mapped[date]
    level: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[dict]] = mapped_column(JSON)
    acknowledged_at: Mapped[datetime | None]
