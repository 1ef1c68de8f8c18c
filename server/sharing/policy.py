"""The one place that decides who may see whose data.

A patient sees only their own data (their own routes never take a patient id). A counselor
sees a patient only through an active share, read from the database on every request, so
revocation and expiry bite at once; and only within the share's scope. Anything else is a
404, so a counselor cannot even learn whether someone exists.
"""

from datetime import timedelta

from sqlalchemy import select

from server.accounts.models import User
from server.common.dates import local_today
from server.db import today_utc
from server.errors import NotFound
from server.extensions import db
from server.sharing.models import Share

NOT_VISIBLE = "No such patient is sharing this with you."


def is_active(share: Share, patient: User) -> bool:
    """A share is active until revoked or until its last day ends in the patient's zone."""
    return share.status_on(local_today(patient.timezone)) == "active"


def _candidate_shares():
    """Unrevoked shares not long expired (exact expiry is checked per patient's zone)."""
    # A day of slack covers every time zone; is_active() makes the exact call.
    earliest = today_utc() - timedelta(days=1)
    return (
        select(Share, User)
        .join(User, User.id == Share.patient_id)
        .where(Share.revoked_at.is_(None), Share.expires_on >= earliest)
    )


def active_shares_for_counselor(counselor: User) -> list[tuple[Share, User]]:
    """The counselor's active shares with their patients."""
    rows = db.session.execute(_candidate_shares().where(Share.counselor_id == counselor.id))
    return [(share, patient) for share, patient in rows if is_active(share, patient)]


def active_shares_for_patient(patient: User, scope: str | None = None) -> list[Share]:
    """The patient's active shares, optionally only those including a scope."""
    rows = db.session.execute(_candidate_shares().where(Share.patient_id == patient.id))
    return [
        share
        for share, owner in rows
        if is_active(share, owner) and (scope is None or scope in share.scope)
    ]


def counselors_of(patient: User) -> tuple[str, ...]:
    """Ids of the counselors the patient actively shares with (their resources show)."""
    return tuple({share.counselor_id for share in active_shares_for_patient(patient)})


def shared_patient(counselor: User, patient_id: str, scope: str) -> tuple[Share, User]:
    """Return the share and patient a counselor may read for a scope, or 404."""
    for share, patient in db.session.execute(
        _candidate_shares().where(
            Share.counselor_id == counselor.id, Share.patient_id == patient_id
        )
    ):
        if is_active(share, patient) and scope in share.scope:
            return share, patient
    raise NotFound(NOT_VISIBLE)


def may_see_notes(share: Share) -> bool:
    """Notes are shown only when the patient chose to include them."""
    return share.include_notes
