"""One export in flight per person: a lease row per person, shared by every worker process.

A lease is taken in the export's own transaction, renewed while its body is being sent and
released once the body has been sent or the client went away. A worker killed mid-export
never releases it: the lease then lapses on its own after ``EXPORT_LEASE_SECONDS``.
"""

import logging
import math
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from server.common.settings import settings
from server.db import WRITE_OPTION, begin_write, new_id, utcnow
from server.errors import ApiError
from server.exports.models import ExportLease
from server.extensions import db

log = logging.getLogger(__name__)
_leases = ExportLease.__table__
_c = _leases.c
# Bound names differ from the column names, which UPDATE reserves for its SET clause.
_THIS_LEASE = (_c.person_id == bindparam("holder"), _c.lease_id == bindparam("lease"))
_HELD_UNTIL = select(_c.expires_at).where(_c.person_id == bindparam("person_id"))
_RENEW = update(_leases).where(*_THIS_LEASE).values(expires_at=bindparam("until"))
_RELEASE = delete(_leases).where(*_THIS_LEASE)


def _build_take(dialect) -> object:
    """Insert the person's lease, or take over one that has lapsed: one atomic statement."""
    insert = dialect.insert(_leases)
    return insert.on_conflict_do_update(
        index_elements=[_c.person_id],
        set_={"lease_id": insert.excluded.lease_id, "expires_at": insert.excluded.expires_at},
        where=_c.expires_at <= bindparam("now"),
    ).returning(_c.lease_id)


_TAKE = {"sqlite": _build_take(sqlite), "postgresql": _build_take(postgresql)}


class ExportInProgress(ApiError):
    """The person already has an export in flight."""

    status, slug = 429, "export-in-progress"


class Lease:
    """A taken lease: renewed while the export is sent, released exactly once."""

    def __init__(self, engine, person_id: str, lease_id: str, lifetime: timedelta, now):
        self._engine = engine.execution_options(**{WRITE_OPTION: True})
        self._params = {"holder": person_id, "lease": lease_id}
        self._lifetime = lifetime
        self._renewed_at = now
        self._released = False

    def renew_if_due(self) -> None:
        """Push the expiry out again once a third of the lifetime has passed."""
        now = utcnow()
        if self._released or now - self._renewed_at < self._lifetime / 3:
            return
        self._renewed_at = now
        self._write(_RENEW, until=now + self._lifetime)

    def release(self) -> None:
        """Free the person for their next export (only this lease, never a newer one)."""
        if self._released:
            return
        self._released = True
        self._write(_RELEASE)

    def _write(self, statement, **params) -> None:
        """Run one statement in its own short writing transaction."""
        try:
            with self._engine.begin() as connection:
                connection.execute(statement, {**self._params, **params})
        except DBAPIError as error:
            # The download itself is fine; an unreleased lease lapses by itself.
            log.warning("export lease not updated (%s)", type(error.orig).__name__)


def take(person_id: str) -> Lease:
    """Take the person's export lease in the current transaction, or refuse with 429."""
    now = utcnow()
    lifetime = settings().export_lease
    begin_write(db.session)
    statement = _TAKE[db.session.get_bind().dialect.name]
    params = {"person_id": person_id, "lease_id": new_id(), "now": now}
    taken = db.session.execute(statement, {**params, "expires_at": now + lifetime}).first()
    if taken is None:
        held_until: datetime | None = db.session.scalar(_HELD_UNTIL, {"person_id": person_id})
        db.session.rollback()
        # None: released in between (PostgreSQL); trying again at once will work.
        left = (held_until - now).total_seconds() if held_until else 0
        wait = max(math.ceil(left), 1)
        raise ExportInProgress(
            "You already have an export in progress; wait for it to finish, then try again.",
            headers={"Retry-After": str(wait)},
        )
    return Lease(db.engine, person_id, params["lease_id"], lifetime, now)


class LeasedBody:
    """A response body that renews its lease while sent and releases it when done."""

    def __init__(self, chunks: Iterable, lease: Lease):
        self._chunks = chunks
        self._lease = lease

    def __iter__(self) -> Iterator:
        """Yield the chunks; the lease ends once the last one has been handed over."""
        try:
            for chunk in self._chunks:
                self._lease.renew_if_due()
                yield chunk
        finally:
            self._lease.release()

    def close(self) -> None:
        """Called by the server after sending, or when the client went away."""
        close = getattr(self._chunks, "close", None)
        try:
            if close is not None:
                close()
        finally:
            self._lease.release()
