"""Alert use cases: record on check-in, list and acknowledge (counselors)."""

from datetime import date

from sqlalchemy import delete, select

from server.accounts.models import User
from server.alerts.models import Alert
from server.assessments.judgement import Assessment, level_rank
from server.audit import service as audit
from server.db import utcnow
from server.errors import NotFound
from server.extensions import db
from server.sharing import policy

ALERT_LEVELS = {"worsening", "severe", "crisis"}
ALERT_REASONS = {"dehydration_risk", "overdose_risk"}


def is_alarming(judged: Assessment) -> bool:
    """A day alerts counselors when it is worsening or worse, or flags a danger sign."""
    codes = {reason.code for reason in judged.reasons}
    return judged.level in ALERT_LEVELS or bool(codes & ALERT_REASONS)


def record_for_day(*, patient: User, day: date, judged: Assessment | None) -> None:
    """Create or update the day's alerts for counselors sharing `status`; caller commits."""
    same_day = (Alert.patient_id == patient.id, Alert.checkin_date == day)
    if judged is None or not is_alarming(judged):
        # The day was corrected or deleted: drop alerts no one has acted on yet.
        db.session.execute(delete(Alert).where(*same_day, Alert.acknowledged_at.is_(None)))
        return
    reasons = [{"code": r.code, "message": r.message} for r in judged.reasons]
    existing = {
        alert.counselor_id: alert for alert in db.session.scalars(select(Alert).where(*same_day))
    }
    for share in policy.active_shares_for_patient(patient, scope="status"):
        alert = existing.get(share.counselor_id)
        if alert is None:
            db.session.add(
                Alert(
                    patient_id=patient.id,
                    counselor_id=share.counselor_id,
                    checkin_date=day,
                    level=judged.level,
                    reasons=reasons,
                )
            )
            continue
        if level_rank(judged.level) > level_rank(alert.level):
            alert.acknowledged_at = None  # worse than what was acknowledged: look again
        alert.level, alert.reasons = judged.level, reasons


def _visible_alerts(counselor: User, only_open: bool):
    """The counselor's alerts for patients whose active share includes `status`."""
    shares = {
        patient.id: patient
        for share, patient in policy.active_shares_for_counselor(counselor)
        if "status" in share.scope
    }
    if not shares:
        return []
    query = select(Alert).where(
        Alert.counselor_id == counselor.id, Alert.patient_id.in_(list(shares))
    )
    if only_open:
        query = query.where(Alert.acknowledged_at.is_(None))
    return [(alert, shares[alert.patient_id]) for alert in db.session.scalars(query)]


def present(alert: Alert, patient: User) -> dict:
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


def list_for(*, counselor: User, status: str) -> list[dict]:
    """List alerts most urgent and newest first; each patient's read is audited."""
    rows = _visible_alerts(counselor, only_open=status == "open")
    rows.sort(key=lambda row: (level_rank(row[0].level), row[0].checkin_date), reverse=True)
    for patient_id in sorted({patient.id for _alert, patient in rows}):
        alert_ids = [alert.id for alert, patient in rows if patient.id == patient_id]
        audit.record(
            actor=counselor, patient_id=patient_id, action="alerts_viewed", alert_ids=alert_ids
        )
    db.session.commit()
    return [present(alert, patient) for alert, patient in rows]


def acknowledge(*, counselor: User, alert_id: str) -> dict:
    """Mark an alert as seen; repeats keep the first time."""
    for alert, patient in _visible_alerts(counselor, only_open=False):
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
            db.session.commit()
            return present(alert, patient)
    raise NotFound("There is no such alert for you.")
