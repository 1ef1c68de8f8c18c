"""Declarative base, shared column types and time helpers."""

import functools
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

import orjson
from flask import has_request_context
from sqlalchemy import (
    DateTime,
    Float,
    MetaData,
    Select,
    String,
    TypeDecorator,
    Uuid,
    case,
    event,
    func,
    select,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry, scoped_session

log = logging.getLogger(__name__)
# Execution option asking for a writing transaction (SQLite: BEGIN IMMEDIATE), and the
# connection-info key saying the current transaction holds the write lock.
WRITE_OPTION = "steady_write"
WRITING = "steady_writing"
# Connection-info keys: the engine's writer lock (one per process), and that this
# connection holds it.
WRITERS = "steady_writers"
HOLDS_WRITERS = "steady_holds_writers"
LOCK_TIMEOUT = "steady_lock_timeout_ms"
# PostgreSQL serialization failure, deadlock, and a foreign key broken by a row deleted
# after it was read: the whole use case may simply run again on fresh reads.
RETRYABLE_SQLSTATES = {"40001", "40P01", "23503"}
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


WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE")
# Waiting for SQLite's write lock: short pauses first (a write transaction here lasts about
# a millisecond), growing to at most LONGEST_PAUSE.
FIRST_PAUSE_SECONDS = 0.00005
LONGEST_PAUSE_SECONDS = 0.002


def _take_write_lock(dbapi_connection, deadline: float) -> bool:
    """BEGIN IMMEDIATE, retried with short pauses until the lock is ours or time is up."""
    pause = FIRST_PAUSE_SECONDS
    while True:
        try:
            dbapi_connection.execute("BEGIN IMMEDIATE")
            return True
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
        if time.monotonic() + pause > deadline:
            return False
        time.sleep(pause)
        pause = min(pause * 2, LONGEST_PAUSE_SECONDS)


def configure_sqlite(engine, busy_timeout_ms: int, *, strict_writes: bool = False) -> None:
    """Make SQLite safe for concurrent requests: WAL, FKs, lock-free reads, queueing writers."""
    # The threads of one process queue here for SQLite's single write lock, in turn,
    # instead of each polling it (every poll is a statement and a GIL hand-off).
    writers = threading.RLock()

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, record):
        # Take transaction control from pysqlite so we can choose the BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        # From here on we wait for the write lock ourselves (see on_begin): SQLite's own
        # busy handler sleeps 1, 2, 5, 10 ms... and wakes long after the lock is free.
        # WAL readers never wait for writers, so nothing else needs the handler.
        cursor.execute("PRAGMA busy_timeout = 0")
        cursor.close()
        record.info[LOCK_TIMEOUT] = busy_timeout_ms
        record.info[WRITERS] = writers

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        # Reads run in a deferred transaction: a WAL snapshot that takes no lock. A writing
        # use case asks for IMMEDIATE up front (begin_write): upgrading a deferred
        # transaction fails at once with "database is locked" instead of queueing.
        if connection.get_execution_options().get(WRITE_OPTION):
            _lock_for_writing(connection)
        else:
            # Straight to the driver: BEGIN runs on every request, and never fails here.
            connection.connection.driver_connection.execute("BEGIN")

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def on_end(connection):
        _done_writing(connection.info)

    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection, record):
        _done_writing(record.info)

    if strict_writes:

        @event.listens_for(engine, "before_cursor_execute")
        def refuse_unlocked_writes(connection, _cursor, statement, *_args):
            # Tests run with this on: a request that writes without begin_write() would
            # fail with "database is locked" under load, so it fails every time instead.
            if not has_request_context() or connection.info.get(WRITING):
                return
            if statement.lstrip()[:7].upper().startswith(WRITE_VERBS):
                raise RuntimeError("a request wrote without begin_write()")


def _lock_for_writing(connection) -> None:
    """Begin an IMMEDIATE transaction on the connection, waiting for the lock if need be."""
    info = connection.info
    deadline = time.monotonic() + info[LOCK_TIMEOUT] / 1000
    if info[WRITERS].acquire(timeout=info[LOCK_TIMEOUT] / 1000):
        info[HOLDS_WRITERS] = True
        if _take_write_lock(connection.connection.driver_connection, deadline):
            info[WRITING] = True
            return
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # one last try; fails as a 503
    except Exception:
        _done_writing(info)
        raise
    info[WRITING] = True


def _done_writing(info: dict) -> None:
    """Forget the write lock and let the process's next writer go."""
    info.pop(WRITING, None)
    if info.pop(HOLDS_WRITERS, False):
        info[WRITERS].release()


def begin_write(session: scoped_session) -> None:
    """Start the writing part of a use case; on SQLite, trade the read snapshot for the lock.

    Call it after the request's reads that need no lock (the session check) and before the
    reads a write depends on, so the write lock is held only for the use case itself.
    """
    if session.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL locks rows, not the database: one transaction serves.
    if not session().in_transaction():
        session.connection(execution_options={WRITE_OPTION: True})
        return
    connection = session.connection()
    if connection.info.get(WRITING):
        return
    # End the read snapshot (it wrote nothing) and take the lock on the same connection;
    # the session's transaction simply carries on in the new one.
    connection.connection.driver_connection.execute("COMMIT")
    _lock_for_writing(connection)


class OneStepRead:
    """A read-only SELECT whose rows SQLite hands over as one JSON row (one step).

    pysqlite releases the GIL around every row it steps, and on a threaded server every
    release is a contended hand-off between threads: a 90-day trends read cost 2.5x the CPU
    with 8 busy threads. An aggregate is one step. SQLite does not promise the order in
    which an aggregate sees its rows, so they are sorted again by `sort_key`. Other
    databases fetch a result in one call anyway and run the statement as it is.
    """

    def __init__(self, statement: Select, sort_key: Callable[[list], object]) -> None:
        self.statement = statement
        self.sort_key = sort_key
        rows = statement.subquery()
        self.as_json = select(func.json_group_array(func.json_array(*map(_exact_json, rows.c))))
        self.types = [column.type for column in statement.selected_columns]
        self.processors = None

    def rows(self, session: scoped_session, params: dict) -> list[tuple]:
        """Every row, as tuples of the same Python values the statement itself gives."""
        dialect = session.get_bind().dialect
        if dialect.name != "sqlite":
            return [tuple(row) for row in session.execute(self.statement, params)]
        if self.processors is None:  # the dialect is known only now; any thread may fill it
            processors = (_from_json(type_, dialect) for type_ in self.types)
            self.processors = [(i, p) for i, p in enumerate(processors) if p is not None]
        rows = orjson.loads(session.execute(self.as_json, params).scalar_one())
        for row in rows:
            for index, process in self.processors:
                row[index] = process(row[index])
        rows.sort(key=self.sort_key)
        return [tuple(row) for row in rows]


def _exact_json(column):
    """A column as JSON keeps it exactly; SQLite writes REALs with only 15 digits, so as text."""
    if not isinstance(column.type, Float):
        return column
    return case((column.is_(None), None), else_=func.printf("%!.17g", column))


def _from_json(type_, dialect):
    """Turn a JSON value back into what the column's type gives for a row (None: as it is)."""
    if isinstance(type_, Float):
        return lambda value: None if value is None else float(value)
    return type_.dialect_impl(dialect).result_processor(dialect, None)


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
