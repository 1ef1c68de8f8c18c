"""Consent use cases: share, list, end. Every change is audited in the same transaction."""

from datetime import date, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import aliased

from server.accounts.signals import account_deleting
from server.audit import service as audit
from server.auth.models import Principal, Role, User
from server.common.dates import local_today
from server.common.emails import normalise_email
from server.common.pagination import fetch_page, page_of
from server.db import begin_write, utcnow
from server.errors import NotFound, ValidationFailed
from server.extensions import db
from server.sharing import policy
from server.sharing.models import Share
from server.vocabulary import SCOPES

MAX_SHARE_DAYS = 365
NO_COUNSELOR = "There is no counselor account with this email."


def present(share: Share, patient: User, counselor: User | None) -> dict:
    """Shape a share with both people and its status now."""
    return {
        "id": share.id,
        "patient": patient,
        "counselor": {
            "id": share.counselor_id,
            "display_name": counselor.display_name if counselor else share.counselor_name,
            "email": counselor.email if counselor else None,
        },
        "purpose": share.purpose,
        "scope": share.scope,
        "include_notes": share.include_notes,
        "created_at": share.created_at,
        "expires_on": share.expires_on,
        "status": share.status_on(local_today(patient.timezone)),
        "revoked_at": share.revoked_at,
    }


def _check_expiry(patient: User, expires_on: date) -> None:
    """Consent must end: after today and at most a year away."""
    today = local_today(patient.timezone)
    if expires_on <= today:
        raise ValidationFailed(
            "The share must end in the future.",
            errors={"expires_on": ["Must be after today."]},
        )
    if expires_on > today + timedelta(days=MAX_SHARE_DAYS):
        raise ValidationFailed(
            "A share can last at most one year.",
            errors={"expires_on": [f"Must be at most {MAX_SHARE_DAYS} days from today."]},
        )


def create(
    *,
    patient: User,
    counselor_email: str,
    purpose: str,
    expires_on: date,
    scope: list[str],
    include_notes: bool = False,
) -> dict:
    """Share the patient's log with a counselor, replacing any active share to them."""
    _check_expiry(patient, expires_on)
    begin_write(db.session)
    counselor = db.session.scalar(
        select(User).where(User.email == normalise_email(counselor_email))
    )
    # One message for "no account" and "not a counselor", so accounts can't be probed.
    if counselor is None or counselor.role is not Role.COUNSELOR:
        raise ValidationFailed(NO_COUNSELOR, errors={"counselor_email": [NO_COUNSELOR]})
    ordered_scope = sorted(set(scope), key=SCOPES.index)
    for old in policy.active_shares_of_patient(patient):
        if old.counselor_id == counselor.id:
            _close(old.id, "replaced")
            audit.record(
                actor=patient,
                patient_id=patient.id,
                action="share_replaced",
                share_id=old.id,
                counselor_id=counselor.id,
            )
    share = Share(
        patient_id=patient.id,
        counselor_id=counselor.id,
        counselor_name=counselor.display_name,
        purpose=purpose,
        scope=ordered_scope,
        include_notes=include_notes,
        expires_on=expires_on,
    )
    db.session.add(share)
    db.session.flush()
    audit.record(
        actor=patient,
        patient_id=patient.id,
        action="share_created",
        share_id=share.id,
        counselor_id=counselor.id,
        scope=ordered_scope,
        include_notes=include_notes,
        expires_on=expires_on,
    )
    db.session.commit()
    return present(share, patient, counselor)


def _shares_of(user: User):
    """Shares the user is a party to, with both people."""
    patient, counselor = aliased(User), aliased(User)
    return (
        select(Share, patient, counselor)
        .join(patient, patient.id == Share.patient_id)
        .outerjoin(counselor, counselor.id == Share.counselor_id)
        .where(or_(Share.patient_id == user.id, Share.counselor_id == user.id))
    )


def list_for(user: User, *, page: int, page_size: int) -> dict:
    """A page of a patient's shares, or of the shares made to a counselor, newest first."""
    query = _shares_of(user).order_by(Share.created_at.desc(), Share.id)
    rows, total = fetch_page(db.session, query, page=page, page_size=page_size)
    items = [present(share, patient, counselor) for share, patient, counselor in rows]
    return page_of(items, page=page, page_size=page_size, total_items=total)


def _close(share_id: str, by: str) -> None:
    """Mark a share revoked now, by whom (the row stays as history)."""
    db.session.execute(
        update(Share).where(Share.id == share_id).values(revoked_at=utcnow(), revoked_by=by)
    )


@account_deleting.connect
def end_all_for_deleted_counselor(account: User) -> None:
    """Close a departing counselor's shares; the rows stay as the patients' history."""
    if account.role is not Role.COUNSELOR:
        return
    counselor = Principal(
        account.id, account.role, account.display_name, account.timezone, account.region
    )
    for share, patient in policy.active_shares_for_counselor(counselor):
        _close(share.id, "counselor_deleted")
        audit.record(
            actor=counselor,
            patient_id=patient.id,
            action="share_revoked",
            share_id=share.id,
            by="counselor_deleted",
        )


def end(*, user: User, share_id: str) -> None:
    """End a share: the patient revokes, or the counselor steps back. Repeats are harmless."""
    begin_write(db.session)
    row = db.session.execute(_shares_of(user).where(Share.id == share_id)).first()
    if row is None:
        raise NotFound("There is no such share.")
    share, patient, _counselor = row
    if share.revoked_at is None:
        share.revoked_at = utcnow()
        share.revoked_by = "patient" if user.id == patient.id else "counselor"
        audit.record(
            actor=user,
            patient_id=patient.id,
            action="share_revoked",
            share_id=share.id,
            by=share.revoked_by,
        )
        db.session.commit()
