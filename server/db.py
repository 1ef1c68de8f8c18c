"""Declarative base, shared column types and time helpers."""

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import DateTime, MetaData, String, TypeDecorator, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry

# Named constraints let Alembic alter and drop them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def today_utc() -> date:
    """Return today's date in UTC."""
    return utcnow().date()


def new_id() -> str:
    """Return a new opaque id."""
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator):
    """Store datetimes as UTC and always hand back aware UTC values (SQLite drops tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Normalise to UTC before storing."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        """Attach UTC to values read back without a zone."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base class of every model."""

    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime, str: String},
    )


def uuid_pk() -> Mapped[str]:
    """Declare an opaque UUID primary key stored as a string id."""
    return mapped_column(Uuid(as_uuid=False), primary_key=True, default=new_id)


def uuid_fk(target: str, *, nullable: bool = False, index: bool = True) -> Mapped[str]:
    """Declare a UUID foreign key that is deleted with its parent."""
    from sqlalchemy import ForeignKey

    return mapped_column(
        Uuid(as_uuid=False),
        ForeignKey(target, ondelete="CASCADE"),
        nullable=nullable,
        index=index,
    )


class TimestampMixin:
    """Created/updated timestamps set by the application clock."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
