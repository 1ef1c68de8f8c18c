"""What a counselor may read of a sharing patient; every read is audited."""

from contextlib import contextmanager
from datetime import date, timedelta

from sqlalchemy import func, select

from server.accounts.models import User
from server.assessments import service as assessments_service
from server.assessments.judgement import level_rank
from server.audit import service as audit
from server.checkins import service as checkins_service
from server.checkins.models import Checkin
from server.checkins.schemas import checkin_fields
from server.common.dates import local_today
from server.extensions import db
from server.sharing import policy
from server.trends import service as trends_service


def _days_logged_last_7(patient: User) -> int:
    """Check-ins in the 7 days ending today in the patient's zone."""
    today = local_today(patient.timezone)
    return db.session.scalar(
        select(func.count())
        .select_from(Checkin)
        .where(
            Checkin.patient_id == patient.id,
            Checkin.date.between(today - timedelta(days=6), today),
        )
    )


def _row(share, patient: User) -> dict:
    """A list row, filled only with what the share's scope allows."""
    latest = assessments_service.latest_checkin(patient.id)
    row = {
        "id": patient.id,
        "display_name": patient.display_name,
        "latest_checkin_date": None,
        "latest_assessment": None,
        "days_logged_last_7": None,
        "share": {"id": share.id, "scope": share.scope, "expires_on": share.expires_on},
    }
    if "checkins" in share.scope or "status" in share.scope:
        row["latest_checkin_date"] = latest.date if latest else None
        row["days_logged_last_7"] = _days_logged_last_7(patient)
    if "status" in share.scope:
        judged = assessments_service.judge(latest) if latest else None
        row["latest_assessment"] = {
            "level": judged.level if judged else "no_data",
            "reasons": [{"code": r.code, "message": r.message} for r in judged.reasons]
            if judged
            else [],
        }
    return row


def _urgency(row: dict) -> tuple:
    """Sort key: most urgent level first, then the most recent check-in."""
    assessment = row["latest_assessment"]
    rank = (
        level_rank(assessment["level"]) if assessment and assessment["level"] != "no_data" else -1
    )
    latest = row["latest_checkin_date"] or date.min
    return (-rank, -latest.toordinal(), row["display_name"])


def list_patients(counselor: User) -> list[dict]:
    """One row per actively sharing patient, most urgent first."""
    rows = [
        _row(share, patient) for share, patient in policy.active_shares_for_counselor(counselor)
    ]
    for row in rows:
        audit.record(
            actor=counselor,
            patient_id=row["id"],
            action="patient_listed",
            share_id=row["share"]["id"],
        )
    db.session.commit()
    return sorted(rows, key=_urgency)


@contextmanager
def disclosure(counselor: User, patient_id: str, scope: str, action: str):
    """Check the share, let the caller read, then record the read and commit once.

    Yields (share, patient, detail); the caller adds ranges or formats to `detail`. A read
    that fails records nothing: only what was actually disclosed is in the log.
    """
    share, patient = policy.shared_patient(counselor, patient_id, scope)
    detail: dict = {}
    yield share, patient, detail
    audit.record(
        actor=counselor, patient_id=patient.id, action=action, share_id=share.id, **detail
    )
    db.session.commit()


def checkins(*, counselor: User, patient_id: str, start, end, page, page_size) -> dict:
    """A page of a patient's check-ins; notes only if the share includes them."""
    with disclosure(counselor, patient_id, "checkins", "checkins_viewed") as (
        share,
        patient,
        detail,
    ):
        start, end = checkins_service.default_range(
            patient, start, end, checkins_service.DEFAULT_RANGE_DAYS
        )
        result = checkins_service.list_page(
            patient_id=patient.id, start=start, end=end, page=page, page_size=page_size
        )
        include_note = policy.may_see_notes(share)
        detail.update(start=start, end=end, page=page, notes_included=include_note)
    result["items"] = [checkin_fields(c, include_note=include_note) for c in result["items"]]
    return result


def trends(*, counselor: User, patient_id: str, start, end) -> dict:
    """A patient's trends within the share's scope."""
    with disclosure(counselor, patient_id, "trends", "trends_viewed") as (_, patient, detail):
        start, end = trends_service.resolve_range(patient, start, end)
        detail.update(start=start, end=end)
        return trends_service.trends_for(patient, start, end)


def chart(*, counselor: User, patient_id: str, start, end, image_format: str) -> bytes:
    """A patient's chart within the share's scope."""
    with disclosure(counselor, patient_id, "trends", "chart_viewed") as (_, patient, detail):
        start, end = trends_service.resolve_range(patient, start, end)
        detail.update(start=start, end=end, format=image_format)
        return trends_service.chart_for(patient, start, end, image_format)


def status(*, counselor: User, patient_id: str) -> dict:
    """A patient's latest assessment within the share's scope."""
    with disclosure(counselor, patient_id, "status", "status_viewed") as (_, patient, _detail):
        return assessments_service.status(patient)
