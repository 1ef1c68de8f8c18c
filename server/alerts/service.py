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
from server.common.pagination import fetch_page, page_of
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


def _visible(counselor: Principal, only_open: bool):
    """The patients of the counselor's shares that show alerts, and a query of those alerts."""
    patients = policy.alert_shares_of(counselor)
    query = select(Alert).where(
        Alert.counselor_id == counselor.id, Alert.share_id.in_(list(patients))
    )
    if only_open:
        query = query.where(Alert.acknowledged_at.is_(None))
    return patients, query


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


def list_for(*, counselor: Principal, status: str, page: int, page_size: int) -> dict:
    """A page of alerts, most urgent and newest first; each patient's read is audited."""
    patients, query = _visible(counselor, only_open=status == "open")
    rows, total = [], 0
    if patients:
        ordered = query.order_by(_rank_of(Alert.level).desc(), Alert.checkin_date.desc(), Alert.id)
        rows, total = fetch_page(db.session, ordered, page=page, page_size=page_size)
    alert_ids: dict[str, list[str]] = {}
    for (alert,) in rows:
        alert_ids.setdefault(patients[alert.share_id].id, []).append(alert.id)
    items = [present(alert, patients[alert.share_id]) for (alert,) in rows]
    begin_write(db.session)
    audit.record_many(
        actor=counselor,
        events=[
            (patient_id, "alerts_viewed", {"alert_ids": ids})
            for patient_id, ids in sorted(alert_ids.items())
        ],
    )
    db.session.commit()
    return page_of(items, page=page, page_size=page_size, total_items=total)


def acknowledge(*, counselor: Principal, alert_id: str) -> dict:
    """Mark an alert as seen; repeats keep the first time."""
    begin_write(db.session)
    patients, query = _visible(counselor, only_open=False)
    # Locked until commit (PostgreSQL; SQLite's write lock already serialises), so a re-save
    # making the day worse cannot be acknowledged unseen.
    alert = db.session.scalar(query.where(Alert.id == alert_id).with_for_update())
    if alert is None:
        raise NotFound("There is no such alert for you.")
    if alert.acknowledged_at is None:
        alert.acknowledged_at = utcnow()
    patient = patients[alert.share_id]
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
