"""Judge a day's check-in and attach the resources that fit."""

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from server.accounts.models import User
from server.assessments.judgement import Assessment, Thresholds, assess
from server.checkins.models import Checkin
from server.extensions import db
from server.resources import service as resources_service
from server.sharing import policy as sharing_policy

NOTICE = (
    "Steady is a self-report aid, not a diagnosis and not an emergency service: no one "
    "watches check-ins in real time, and a counselor may not see an alert quickly. If you "
    "are in danger or thinking of harming yourself, call your emergency number or a "
    "crisis line now."
)


def thresholds() -> Thresholds:
    """The judgement thresholds configured for this app."""
    return Thresholds.from_config(current_app.config)


def history_for(patient_id: str, day: date) -> list[Checkin]:
    """Earlier check-ins the rules need: the baseline window and the latest few."""
    rules = thresholds()
    window_start = day - timedelta(days=rules.baseline_days)
    in_window = db.session.scalars(
        select(Checkin).where(
            Checkin.patient_id == patient_id, Checkin.date >= window_start, Checkin.date < day
        )
    ).all()
    latest = db.session.scalars(
        select(Checkin)
        .where(Checkin.patient_id == patient_id, Checkin.date < window_start)
        .order_by(Checkin.date.desc())
        .limit(rules.overdose_break_days)
    ).all()
    return [*in_window, *latest]


def judge(checkin: Checkin) -> Assessment:
    """Apply the rules to a check-in against the patient's own history."""
    return assess(checkin, history_for(checkin.patient_id, checkin.date), thresholds())


def present(patient: User, judged: Assessment | None) -> dict:
    """Shape an assessment with the resources for the patient's region."""
    if judged is None:
        return {
            "level": "no_data",
            "reasons": [],
            "resources": [],
            "checkin_date": None,
            "notice": NOTICE,
        }
    codes = {reason.code for reason in judged.reasons}
    return {
        "level": judged.level,
        "reasons": [{"code": r.code, "message": r.message} for r in judged.reasons],
        "resources": resources_service.for_assessment(
            region=patient.region,
            level=judged.level,
            reason_codes=codes,
            counselor_ids=sharing_policy.counselors_of(patient),
        ),
        "checkin_date": judged.checkin_date,
        "notice": NOTICE,
    }


def latest_checkin(patient_id: str) -> Checkin | None:
    """The patient's most recent check-in."""
    return db.session.scalar(
        select(Checkin)
        .where(Checkin.patient_id == patient_id)
        .order_by(Checkin.date.desc())
        .limit(1)
    )


def status(patient: User) -> dict:
    """The assessment of the patient's latest check-in, or no_data."""
    latest = latest_checkin(patient.id)
    return present(patient, judge(latest) if latest else None)
