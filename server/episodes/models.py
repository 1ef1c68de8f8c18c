"""A patient's withdrawal episodes."""

from datetime import date, datetime

from sqlalchemy import JSON, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db import TimestampMixin, uuid_fk, uuid_pk
from server.extensions import db

# At most one open episode per patient, held by the database so two racing POSTs cannot
# both open one.
_OPEN = text("ended_on IS NULL")


class Episode(TimestampMixin, db.Model):
    """One withdrawal episode, as the person tells it (never interpreted)."""

    __tablename__ = "episodes"
    __table_args__ = (
        Index(
            "uq_episodes_one_open",
            "patient_id",
            unique=True,
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
    )

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = uuid_fk("users.id")
    started_on: Mapped[date]
    last_use_at: Mapped[datetime | None]
    substances: Mapped[list[str]] = mapped_column(JSON)
    moud: Mapped[str] = mapped_column(String(20))
    moud_started_on: Mapped[date | None]
    ended_on: Mapped[date | None]
