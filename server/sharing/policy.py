"""The one place that decides who may see whose data.

A patient sees only their own data (their own routes never take a patient id). A counselor
sees a patient only through an active share, read from the database on every request, so
revocation and expiry bite at once; and only within the share's scope. Anything else is a
404, so a counselor cannot even learn whether someone exists. Every disclosure to a
counselor is written to the patient's access log before the response leaves.
"""

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Row, bindparam, select

from server.audit import service as audit
from server.auth.models import Principal, Role, User
from server.common.dates import local_today
from server.db import begin_write, today_utc
from server.errors import NotFound
from server.extensions import db
from server.sharing.models import Share, share_status

NOT_VISIBLE = "No such patient is sharing this with you."

_shares, _users = Share.__table__, User.__table__
_SHARE_COLUMNS = (
    _shares.c.id,
    _shares.c.patient_id,
    _shares.c.counselor_id,
    _shares.c.purpose,
    _shares.c.scope,
    _shares.c.include_notes,
    _shares.c.expires_on,
    _shares.c.revoked_at,
    _shares.c.created_at,
)
_PATIENT_COLUMNS = (
    _users.c.id,
    _users.c.role,
    _users.c.display_name,
    _users.c.timezone,
    _users.c.region,
)
_UNREVOKED = _shares.c.revoked_at.is_(None)
# Shares of one patient still running on the patient's own calendar.
_ACTIVE_OF_PATIENT = select(*_SHARE_COLUMNS).where(
    _shares.c.patient_id == bindparam("patient_id"),
    _UNREVOKED,
    _shares.c.expires_on >= bindparam("today"),
)
# A counselor's candidate shares with their patients; a day of slack covers every time
# zone and the exact expiry is judged per patient's zone.
_CANDIDATES_OF_COUNSELOR = (
    select(*_SHARE_COLUMNS, *_PATIENT_COLUMNS)
    .join(_users, _users.c.id == _shares.c.patient_id)
    .where(
        _shares.c.counselor_id == bindparam("counselor_id"),
        _UNREVOKED,
        _shares.c.expires_on >= bindparam("earliest"),
    )
)
_CANDIDATE_FOR_PATIENT = _CANDIDATES_OF_COUNSELOR.where(
    _shares.c.patient_id == bindparam("patient_id")
)


@dataclass(frozen=True, slots=True)
class ActiveShare:
    """A running share as access decisions need it."""

    id: str
    patient_id: str
    counselor_id: str
    purpose: str
    scope: tuple[str, ...]
    include_notes: bool
    expires_on: date
    revoked_at: datetime | None
    created_at: datetime


def _share_of(row: Row) -> ActiveShare:
    """Turn the share columns of a row into an ActiveShare."""
    values = row[: len(_SHARE_COLUMNS)]
    return ActiveShare(*values[:4], tuple(values[4]), *values[5:])


def _patient_of(row: Row) -> Principal:
    """Turn the patient columns of a row into a Principal."""
    return Principal(*row[len(_SHARE_COLUMNS) :])


def is_active(share: ActiveShare, patient: Principal) -> bool:
    """A share is active until revoked or until its last day ends in the patient's zone."""
    today = local_today(patient.timezone)
    return share_status(share.revoked_at, share.expires_on, today) == "active"


def active_shares_of_patient(patient: Principal) -> list[ActiveShare]:
    """The patient's active shares."""
    params = {"patient_id": patient.id, "today": local_today(patient.timezone)}
    return [_share_of(row) for row in db.session.execute(_ACTIVE_OF_PATIENT, params)]


def active_shares_for_counselor(counselor: Principal) -> list[tuple[ActiveShare, Principal]]:
    """The counselor's active shares with their patients."""
    params = {"counselor_id": counselor.id, "earliest": today_utc() - timedelta(days=1)}
    pairs = [
        (_share_of(row), _patient_of(row))
        for row in db.session.execute(_CANDIDATES_OF_COUNSELOR, params)
    ]
    return [(share, patient) for share, patient in pairs if is_active(share, patient)]


def counselors_in(shares: Iterable[ActiveShare]) -> tuple[str, ...]:
    """Counselors of the given shares (their own resources show to the patient)."""
    return tuple(sorted({share.counselor_id for share in shares}))


def alert_shares(
    shares: Iterable[ActiveShare], *, day_logged_at: datetime
) -> tuple[ActiveShare, ...]:
    """Shares that get an alert for a day: they include status and began before it was logged.

    An alert belongs to the share that raised it, so a share never inherits the days (or
    the alerts) of the consent before it; `day_logged_at` is when the day was first stored,
    which corrections keep.
    """
    return tuple(
        sorted(
            (
                share
                for share in shares
                if "status" in share.scope and share.created_at <= day_logged_at
            ),
            key=lambda share: share.id,
        )
    )


def alert_shares_of(counselor: Principal) -> dict[str, Principal]:
    """The counselor's active shares that show alerts (they include status), by id."""
    return {
        share.id: patient
        for share, patient in active_shares_for_counselor(counselor)
        if "status" in share.scope
    }


def shows_latest_checkin(share: ActiveShare) -> bool:
    """The patient list shows the latest day and days logged with checkins or status."""
    return "checkins" in share.scope or "status" in share.scope


def shows_assessment(share: ActiveShare) -> bool:
    """The patient list shows the latest judgement only with status."""
    return "status" in share.scope


def may_see_observations(share: ActiveShare) -> bool:
    """Clinician-observed instruments (COWS) are `assess` data wherever they show.

    So trends, charts and exports carry their totals only when the share includes
    `assess`, as the observations themselves are read only with it.
    """
    return "assess" in share.scope


def may_see_episodes(share: ActiveShare) -> bool:
    """Withdrawal episodes, and so each day's episode day, are `checkins` data wherever shown."""
    return "checkins" in share.scope


def require_episodes(share: ActiveShare) -> None:
    """Refuse (404) a read that asks for days by episode without `checkins`."""
    if not may_see_episodes(share):
        raise NotFound(NOT_VISIBLE)


def require_observations(share: ActiveShare) -> None:
    """Refuse (404) a read that asks for observed instruments without `assess`."""
    if not may_see_observations(share):
        raise NotFound(NOT_VISIBLE)


def may_see_notes(share: ActiveShare) -> bool:
    """Notes are shown only when the patient chose to include them."""
    return share.include_notes


def resource_owner_ids(viewer: Principal | None) -> tuple[str, ...]:
    """Whose own resources a person sees: their counselors', or a counselor's own."""
    if viewer is None:
        return ()
    if viewer.role is Role.COUNSELOR:
        return (viewer.id,)
    return counselors_in(active_shares_of_patient(viewer))


def shared_patient(counselor: Principal, patient_id: str, scope: str | None):
    """Return the share and patient a counselor may read for a scope (any with None), or 404."""
    params = {
        "counselor_id": counselor.id,
        "patient_id": patient_id,
        "earliest": today_utc() - timedelta(days=1),
    }
    for row in db.session.execute(_CANDIDATE_FOR_PATIENT, params):
        share, patient = _share_of(row), _patient_of(row)
        if is_active(share, patient) and (scope is None or scope in share.scope):
            return share, patient
    raise NotFound(NOT_VISIBLE)


@contextmanager
def disclosure(
    counselor: Principal, patient_id: str, scope: str, action: str
) -> Iterator[tuple[ActiveShare, Principal, dict]]:
    """Check the share, let the caller read, then record the read and commit once.

    Yields (share, patient, detail); the caller adds ranges or formats to `detail`. A read
    that fails records nothing: only what was actually disclosed is in the log. The reads
    take no write lock; the audit row is written in a short transaction of its own.
    """
    share, patient = shared_patient(counselor, patient_id, scope)
    detail: dict = {}
    yield share, patient, detail
    begin_write(db.session)
    audit.record(
        actor=counselor, patient_id=patient.id, action=action, share_id=share.id, **detail
    )
    db.session.commit()


@contextmanager
def counselor_record(
    counselor: Principal, patient_id: str, scope: str, action: str
) -> Iterator[tuple[ActiveShare, Principal, dict]]:
    """Check the share inside a write transaction, let the caller write, log it and commit once.

    For what a counselor records about a patient (a COWS observation): the share is read in
    the transaction that writes, so a revocation committed first refuses the write (404),
    and the access-log event commits with it. Nothing is written or logged if the caller
    fails; the caller adds ids to `detail` (never scores).
    """
    begin_write(db.session)
    try:
        share, patient = shared_patient(counselor, patient_id, scope)
        detail: dict = {}
        yield share, patient, detail
        audit.record(
            actor=counselor, patient_id=patient.id, action=action, share_id=share.id, **detail
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def record_listing(counselor: Principal, shares: Sequence[ActiveShare]) -> None:
    """Record that the counselor's patient list showed these patients, and commit."""
    begin_write(db.session)
    audit.record_many(
        actor=counselor,
        events=[(share.patient_id, "patient_listed", {"share_id": share.id}) for share in shares],
    )
    db.session.commit()
