"""Write and read the access log."""

from collections.abc import Iterable

from sqlalchemy import bindparam, select

from server.audit.models import AuditEvent
from server.auth.models import Principal
from server.common.pagination import fetch_page, page_of
from server.db import new_id, utcnow
from server.extensions import db
from server.vocabulary import AUDIT_ACTIONS

_table = AuditEvent.__table__
_INSERT = _table.insert()
_NEWEST_FIRST = (
    select(AuditEvent)
    .where(AuditEvent.patient_id == bindparam("patient_id"))
    .order_by(AuditEvent.at.desc(), AuditEvent.id)
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
    events = list(events)
    unknown = {action for _patient_id, action, _detail in events} - set(AUDIT_ACTIONS)
    if unknown:
        # The access log's spec lists every action: a new one belongs in the vocabulary.
        raise ValueError(f"unknown audit actions {sorted(unknown)}; add them to AUDIT_ACTIONS")
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


def present(event: AuditEvent) -> dict:
    """Shape an event with who acted."""
    return {
        "id": event.id,
        "at": event.at,
        "actor": {
            "id": event.actor_id,
            "display_name": event.actor_name,
            "role": event.actor_role,
        },
        "patient": event.patient_id,
        "action": event.action,
        "detail": event.detail,
    }


def access_log(*, patient: Principal, page: int, page_size: int) -> dict:
    """A page of the patient's access log, newest first."""
    rows, total = fetch_page(
        db.session, _NEWEST_FIRST, {"patient_id": patient.id}, page=page, page_size=page_size
    )
    events = [present(event) for (event,) in rows]
    return page_of(events, page=page, page_size=page_size, total_items=total)
