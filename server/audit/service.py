"""Write and read the access log."""

from sqlalchemy import func, select

from server.accounts.models import User
from server.audit.models import AuditEvent
from server.extensions import db


def record(*, actor: User, patient_id: str, action: str, **detail) -> None:
    """Add an event to the current transaction (never scores or notes in `detail`)."""
    db.session.add(
        AuditEvent(
            actor_id=actor.id,
            actor_role=actor.role.value,
            actor_name=actor.display_name,
            patient_id=patient_id,
            action=action,
            detail={key: _plain(value) for key, value in detail.items()},
        )
    )


def _plain(value):
    """Make a detail value JSON-safe (dates become ISO strings)."""
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def access_log(*, patient: User, page: int, page_size: int) -> dict:
    """The patient's access log, newest first."""
    mine = AuditEvent.patient_id == patient.id
    total = db.session.scalar(select(func.count()).select_from(AuditEvent).where(mine))
    events = db.session.scalars(
        select(AuditEvent)
        .where(mine)
        .order_by(AuditEvent.at.desc(), AuditEvent.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return {
        "items": events,
        "page": page,
        "page_size": page_size,
        "total_items": total,
        "total_pages": -(-total // page_size),
    }
