"""Alert use cases: record on check-in, list and acknowledge (counselors)."""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import bindparam, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from server.alerts.models import Alert
from server.assessments.judgement import Assessment, level_rank
from server.assessments.service import reasons_of
from server.audit import service as audit
from server.auth.models import Principal
from server.db import begin_write, new_id, utcnow
from server.errors import NotFound
from server.extensions import db
from server.sharing import policy
from server.sharing.policy import ActiveShare
from server.vocabulary import LEVELS

ALERT_LEVELS = {"worsening", "severe", "crisis"}
ALERT_REASONS = {"dehydration_risk", "overdose_risk"}

_table = Alert.__table__
_c = _table.c
_DROP_UNACKNOWLEDGED = delete(_table).where(
    _c.patient_id == bindparam("patient_id"),
    _c.checkin_date == bindparam("day"),
    _c.acknowledged_at.is_(None),
)


def _rank_of(column):
    """SQL rank of a level column, the same order as level_rank."""
    return case({level: level_rank(level) for level in LEVELS}, value=column)


def _build_upsert(dialect):
    """One alert per share and day: insert, or update it in place."""
    insert = dialect.insert(_table)
    worse = _rank_of(insert.excluded.level) > _rank_of(_c.level)
    return insert.on_conflict_do_update(
        index_elements=[_c.share_id, _c.checkin_date],
        set_={
            "level": insert.excluded.level,
            "reasons": insert.excluded.reasons,
            "updated_at": insert.excluded.updated_at,
            # Worse than what was acknowledged: the counselor should look again.
            "acknowledged_at": case((worse, None), else_=_c.acknowledged_at),
        },
    )


_UPSERT = {"sqlite": _build_upsert(sqlite), "postgresql": _build_upsert(postgresql)}


def is_alarming(judged: Assessment) -> bool:
    """A day alerts counselors when it is worsening or worse, or flags a danger sign."""
    codes = {reason.code for reason in judged.reasons}
    return judged.level in ALERT_LEVELS or bool(codes & ALERT_REASONS)


def record_for_day(
    *,
    patient_id: str,
    day: date,
    judged: Assessment | None,
    shares: Sequence[ActiveShare],
    replaced: bool,
) -> None:
    """Create or update the day's alerts under the given shares; the caller commits."""
    if judged is None or not is_alarming(judged):
        if replaced:
            # The day was corrected or deleted: drop alerts no one has acted on yet.
            db.session.execute(_DROP_UNACKNOWLEDGED, {"patient_id": patient_id, "day": day})
        return
    if not shares:
        return
    # Alerts are read by counselors only.
    now, reasons = utcnow(), reasons_of(judged, for_counselor=True)
    rows = [
        {
            "id": new_id(),
            "share_id": share.id,
            "patient_id": patient_id,
            "counselor_id": share.counselor_id,
            "checkin_date": day,
            "level": judged.level,
            "reasons": reasons,
            "acknowledged_at": None,
            "created_at": now,
            "updated_at": now,
        }
        for share in shares
    ]
    db.session.execute(_UPSERT[db.session.get_bind().dialect.name], rows)


def _visible_alerts(counselor: Principal, only_open: bool, *, alert_id: str | None = None):
    """The counselor's alerts raised under their active shares that include status."""
    patients = policy.alert_shares_of(counselor)
    if not patients:
        return []
    query = select(Alert).where(
        Alert.counselor_id == counselor.id, Alert.share_id.in_(list(patients))
    )
    if only_open:
        query = query.where(Alert.acknowledged_at.is_(None))
    if alert_id is not None:
        # Locked until commit (PostgreSQL; SQLite's write lock already serialises), so a
        # re-save making the day worse cannot be acknowledged unseen.
        query = query.where(Alert.id == alert_id).with_for_update()
    return [(alert, patients[alert.share_id]) for alert in db.session.scalars(query)]


def present(alert: Alert, patient) -> dict:
    """Shape an alert with its patient."""
    return {
        "id": alert.id,
        "patient": patient,
        "checkin_date": alert.checkin_date,
        "level": alert.level,
        "reasons": alert.reasons,
        "created_at": alert.created_at,
        "acknowledged_at": alert.acknowledged_at,
    }


def list_for(*, counselor: Principal, status: str) -> list[dict]:
    """List alerts most urgent and newest first; each patient's read is audited."""
    rows = _visible_alerts(counselor, only_open=status == "open")
    rows.sort(key=lambda row: (level_rank(row[0].level), row[0].checkin_date), reverse=True)
    alert_ids: dict[str, list[str]] = {}
    for alert, patient in rows:
        alert_ids.setdefault(patient.id, []).append(alert.id)
    body = [present(alert, patient) for alert, patient in rows]
    begin_write(db.session)
    audit.record_many(
        actor=counselor,
        events=[
            (patient_id, "alerts_viewed", {"alert_ids": ids})
            for patient_id, ids in sorted(alert_ids.items())
        ],
    )
    db.session.commit()
    return body


def acknowledge(*, counselor: Principal, alert_id: str) -> dict:
    """Mark an alert as seen; repeats keep the first time."""
    begin_write(db.session)
    for alert, patient in _visible_alerts(counselor, only_open=False, alert_id=alert_id):
        if alert.id == alert_id:
            if alert.acknowledged_at is None:
                alert.acknowledged_at = utcnow()
            audit.record(
                actor=counselor,
                patient_id=patient.id,
                action="alert_acknowledged",
                alert_id=alert.id,
                checkin_date=alert.checkin_date,
            )
            body = present(alert, patient)
            db.session.commit()
            return body
    raise NotFound("There is no such alert for you.")
