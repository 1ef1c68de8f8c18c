"""Account model."""

import enum
from datetime import datetime

from sqlalchemy import Enum, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import TimestampMixin, uuid_pk
from server.extensions import db


class Role(enum.StrEnum):
    """What an account is for."""

    PATIENT = "patient"
    COUNSELOR = "counselor"


class User(TimestampMixin, db.Model):
    """A patient or a counselor."""

    __tablename__ = "users"

    id: Mapped[str] = uuid_pk()
    # Stored lower-cased so uniqueness is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(
            Role,
            name="user_role",
            native_enum=False,
            length=16,
            values_callable=lambda roles: [r.value for r in roles],
        )
    )
    display_name: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    region: Mapped[str] = mapped_column(String(2), default="US")
    password_changed_at: Mapped[datetime | None]

    @property
    def is_patient(self) -> bool:
        """Tell whether this account logs check-ins."""
        return self.role is Role.PATIENT
