"""Write and read the access log."""

from collections.abc import Iterable

from sqlalchemy import bindparam, func, select

from server.audit.models import AuditEvent
from server.auth.models import Principal
from server.common.pagination import offset_of, page_of
from server.db import new_id, utcnow
from server.extensions import db

_table = AuditEvent.__table__
_INSERT = _table.insert()
_MINE = _table.c.patient_id == bindparam("patient_id")
_COUNT = select(func.count()).select_from(_table).where(_MINE)
_PAGE = (
    select(AuditEvent)
    .where(AuditEvent.patient_id == bindparam("patient_id"))
    .order_by(AuditEvent.at.desc(), AuditEvent.id)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)


def _plain(value):
    """Make a detail value JSON-safe (dates become ISO strings)."""
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def record_many(*, actor: Principal, events: Iterable[tuple[str, str, dict]]) -> None:
    """Add (patient_id, action, detail) events in one statement; never scores or notes."""
    now = utcnow()
    rows = [
        {
            "id": new_id(),
            "at": now,
            "actor_id": actor.id,
            "actor_role": actor.role.value,
            "actor_name": actor.display_name,
            "patient_id": patient_id,
            "action": action,
            "detail": {key: _plain(value) for key, value in detail.items()},
        }
        for patient_id, action, detail in events
    ]
    if rows:
        db.session.execute(_INSERT, rows)


def record(*, actor: Principal, patient_id: str, action: str, **detail) -> None:
    """Add one event to the current transaction (never scores or notes in `detail`)."""
    record_many(actor=actor, events=[(patient_id, action, detail)])


def access_log(*, patient: Principal, page: int, page_size: int) -> dict:
    """The patient's access log, newest first."""
    total = db.session.scalar(_COUNT, {"patient_id": patient.id})
    events = db.session.scalars(
        _PAGE,
        {"patient_id": patient.id, "limit": page_size, "offset": offset_of(page, page_size)},
    ).all()
    return page_of(events, page=page, page_size=page_size, total_items=total)
