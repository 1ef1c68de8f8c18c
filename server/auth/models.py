"""Accounts and their sign-in sessions (revocation survives restarts)."""

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Enum, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import TimestampMixin, utcnow, uuid_fk, uuid_pk
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


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: what every request needs of its account, never the password hash."""

    id: str
    role: Role
    display_name: str
    timezone: str
    region: str


class AuthSession(db.Model):
    """One login: every access and refresh token descended from it."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = uuid_fk("users.id")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class RefreshToken(db.Model):
    """A refresh token; each one may be used exactly once."""

    __tablename__ = "refresh_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = uuid_fk("auth_sessions.id")
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
