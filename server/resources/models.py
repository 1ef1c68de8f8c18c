"""Help resources: the shipped catalogue plus counselors' own entries."""

from datetime import date

from sqlalchemy import String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import TimestampMixin, uuid_fk, uuid_pk
from server.extensions import db


class Resource(TimestampMixin, db.Model):
    """A crisis line, helpline, treatment or harm-reduction resource."""

    __tablename__ = "resources"

    id: Mapped[str] = uuid_pk()
    # Catalogue entries have no owner; a counselor's own entries (their clinic's line)
    # belong to them and are shown to the patients sharing with them.
    owner_id: Mapped[str | None] = uuid_fk("users.id", nullable=True)
    catalogue_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    region: Mapped[str] = mapped_column(String(2), index=True)
    phone: Mapped[str | None] = mapped_column(String(60))  # E.164, or a short code's digits
    sms_number: Mapped[str | None] = mapped_column(String(20))
    sms_body: Mapped[str | None] = mapped_column(String(160))
    display: Mapped[str | None] = mapped_column(String(200))  # "Call 988 or text 988"
    url: Mapped[str | None] = mapped_column(String(500))
    hours: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(String(500))
    verified_on: Mapped[date | None]
    # No Python-side default: the catalogue sync of older migrations must not name it.
    second_hand: Mapped[bool] = mapped_column(server_default=false())

    owner = relationship("User", lazy="joined")

    @property
    def provided_by(self):
        """The counselor who added this entry, or None for the shipped catalogue."""
        return self.owner
