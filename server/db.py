"""Declarative base, shared column types and time helpers."""

import functools
import logging
import uuid
from datetime import UTC, date, datetime

from sqlalchemy import DateTime, MetaData, String, TypeDecorator, Uuid, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry, scoped_session

log = logging.getLogger(__name__)
# Execution option marking a connection whose transaction will write (SQLite: BEGIN IMMEDIATE).
WRITE_OPTION = "steady_write"
# PostgreSQL serialization failure and deadlock: the whole use case may simply run again.
RETRYABLE_SQLSTATES = {"40001", "40P01"}
WRITE_ATTEMPTS = 3

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


def configure_sqlite(engine, busy_timeout_ms: int) -> None:
    """Make SQLite safe for concurrent requests: WAL, FKs, lock-free reads, queueing writers."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Take transaction control from pysqlite so we can choose the BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        # Reads run in a deferred transaction: a WAL snapshot that takes no lock. A writing
        # use case asks for IMMEDIATE up front (begin_write): upgrading a deferred
        # transaction fails at once with "database is locked" instead of queueing.
        writes = connection.get_execution_options().get(WRITE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def begin_write(session: scoped_session) -> None:
    """Start the writing part of a use case; on SQLite, trade the read snapshot for the lock.

    Call it after the request's reads that need no lock (the session check) and before the
    reads a write depends on, so the write lock is held only for the use case itself.
    """
    if session.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL locks rows, not the database: one transaction serves.
    if session().in_transaction():
        if session.connection().get_execution_options().get(WRITE_OPTION):
            return
        session.commit()  # a read-only transaction: ending it writes nothing
    session.connection(execution_options={WRITE_OPTION: True})


def _is_retryable(error: DBAPIError) -> bool:
    """Tell whether a failed transaction lost a race that running again can win."""
    return getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def retry_on_conflict(use_case):
    """Run a write use case again (a bounded number of times) when it lost a race."""

    @functools.wraps(use_case)
    def wrapper(*args, **kwargs):
        from server.extensions import db  # server.extensions imports this module

        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                return use_case(*args, **kwargs)
            except DBAPIError as error:
                db.session.rollback()
                if attempt == WRITE_ATTEMPTS or not _is_retryable(error):
                    raise
                log.info("write conflict (%s); retrying", error.orig.sqlstate)
        raise AssertionError("unreachable")

    return wrapper
