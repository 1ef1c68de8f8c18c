"""Check-in use cases, always scoped to the patient they belong to."""

import math
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from server.accounts.models import User
from server.alerts import service as alerts_service
from server.assessments import service as assessments_service
from server.checkins.models import Checkin
from server.common.dates import EARLIEST_CHECKIN_DATE, local_today
from server.errors import NotFound, PreconditionFailed, ValidationFailed
from server.extensions import db

DEFAULT_RANGE_DAYS = 90


MAX_DAYS_AHEAD = 366


def default_range(patient: User, start: date | None, end: date | None, days: int):
    """Fill a missing end with the patient's today and a missing start with end - days + 1.

    Ranges stay between 2000-01-01 and a year after today, which also keeps date
    arithmetic (comparison periods, rolling windows) far from date.min and date.max.
    """
    end_given = end is not None
    today = local_today(patient.timezone)
    if start is not None and start < EARLIEST_CHECKIN_DATE:
        raise ValidationFailed(
            "The range starts too early.", errors={"from": ["Must be 2000-01-01 or later."]}
        )
    end = end or max(today, start or EARLIEST_CHECKIN_DATE)
    if end > today + timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationFailed(
            "The range ends too far in the future.",
            errors={"to" if end_given else "from": ["Must be at most a year after today."]},
        )
    start = start or end - timedelta(days=days - 1)
    return start, end


def get_for_day(patient_id: str, day: date) -> Checkin | None:
    """Return a patient's check-in for a day, if any."""
    return db.session.scalar(
        select(Checkin).where(Checkin.patient_id == patient_id, Checkin.date == day)
    )


def get_or_404(patient_id: str, day: date) -> Checkin:
    """Return a patient's check-in for a day or answer 404."""
    checkin = get_for_day(patient_id, day)
    if checkin is None:
        raise NotFound("There is no check-in for this day.")
    return checkin


def list_in_range(patient_id: str, start: date, end: date) -> list[Checkin]:
    """Return a patient's check-ins between two days inclusive, in date order."""
    return list(
        db.session.scalars(
            select(Checkin)
            .where(Checkin.patient_id == patient_id, Checkin.date.between(start, end))
            .order_by(Checkin.date)
        )
    )


def list_page(*, patient_id: str, start: date, end: date, page: int, page_size: int) -> dict:
    """Return one page of a patient's check-ins in date order."""
    in_range = (Checkin.patient_id == patient_id, Checkin.date.between(start, end))
    total_items = db.session.scalar(select(func.count()).select_from(Checkin).where(*in_range))
    items = db.session.scalars(
        select(Checkin)
        .where(*in_range)
        .order_by(Checkin.date)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return {
        "items": items,
        "start": start,
        "end": end,
        "page": page,
        "page_size": page_size,
        "total_items": total_items,
        "total_pages": math.ceil(total_items / page_size),
    }


def _check_day_allowed(patient: User, day: date) -> None:
    """Allow only days from 2000-01-01 up to the patient's today."""
    if day < EARLIEST_CHECKIN_DATE:
        raise ValidationFailed(
            "The date is too early.", errors={"date": ["Must be 2000-01-01 or later."]}
        )
    if day > local_today(patient.timezone):
        raise ValidationFailed(
            "The date is in the future for your time zone.",
            errors={"date": ["Must not be after today in your time zone."]},
        )


def _matches(if_match: str | None, checkin: Checkin | None) -> bool:
    """Evaluate an If-Match header with strong comparison (RFC 9110 13.1.1)."""
    if if_match is None:
        return True
    if checkin is None:
        return False
    tags = [tag.strip() for tag in if_match.split(",")]
    return "*" in tags or checkin.etag in tags


def save_day(*, patient: User, day: date, data: dict, if_match: str | None):
    """Create or replace a day's check-in and judge it; returns (checkin, created, judged)."""
    _check_day_allowed(patient, day)
    existing = get_for_day(patient.id, day)
    if existing is not None and existing.content() == data:
        # A retried PUT whose first attempt already landed: nothing to change.
        judged = assessments_service.judge(existing)
        db.session.commit()
        return existing, False, judged
    if not _matches(if_match, existing):
        raise PreconditionFailed(
            "The check-in changed since you last fetched it (If-Match does not match).",
            headers={"ETag": existing.etag} if existing else None,
        )
    checkin = existing or Checkin(patient_id=patient.id, date=day)
    for field, value in data.items():
        setattr(checkin, field, value)
    db.session.add(checkin)
    try:
        db.session.flush()
    except IntegrityError:
        # Another device created the day at the same moment: replace it instead.
        db.session.rollback()
        return save_day(patient=patient, day=day, data=data, if_match=if_match)
    judged = assessments_service.judge(checkin)
    alerts_service.record_for_day(patient=patient, day=day, judged=judged)
    db.session.commit()
    return checkin, existing is None, judged


def delete_day(*, patient: User, day: date) -> None:
    """Delete a day's check-in (and its unacknowledged alerts) or answer 404."""
    checkin = get_or_404(patient.id, day)
    db.session.delete(checkin)
    alerts_service.record_for_day(patient=patient, day=day, judged=None)
    db.session.commit()
