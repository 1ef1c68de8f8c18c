"""Trend use cases: numbers and a chart over a patient's range."""

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from server.accounts.models import User
from server.checkins import service as checkins_service
from server.checkins.models import Checkin
from server.errors import ValidationFailed
from server.extensions import db
from server.trends.calculations import (
    ROLLING_WINDOW_DAYS,
    TrendRules,
    compute_trends,
    streak_ending,
)

DEFAULT_RANGE_DAYS = 30
MAX_RANGE_DAYS = 366
CHART_MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


def resolve_range(patient: User, start: date | None, end: date | None) -> tuple[date, date]:
    """Apply the default range (last 30 days) and the cap (366 days)."""
    start, end = checkins_service.default_range(patient, start, end, DEFAULT_RANGE_DAYS)
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ValidationFailed(
            "The range is too long.",
            errors={"from": [f"The range may cover at most {MAX_RANGE_DAYS} days."]},
        )
    return start, end


def current_streak(patient_id: str, end: date) -> int:
    """Count consecutive logged days ending at `end` (or the day before it)."""
    # The whole history, not just the range: a streak may have begun long before it.
    logged = set(
        db.session.scalars(
            select(Checkin.date).where(Checkin.patient_id == patient_id, Checkin.date <= end)
        )
    )
    return streak_ending(logged, end)


def trends_for(patient: User, start: date, end: date) -> dict:
    """Per-day series and summary, including the period before for comparison."""
    length = (end - start).days + 1
    history_start = start - timedelta(days=length + ROLLING_WINDOW_DAYS - 1)
    checkins = checkins_service.list_in_range(patient.id, history_start, end)
    result = compute_trends(checkins, start, end, TrendRules.from_config(current_app.config))
    result["start"], result["end"] = result.pop("from"), result.pop("to")
    result["current_streak"] = current_streak(patient.id, end)
    return result


def chart_for(patient: User, start: date, end: date, image_format: str) -> bytes:
    """Render the symptom chart of a range."""
    from server.trends.chart import render_chart  # matplotlib loads only when needed

    days = compute_trends(checkins_service.list_in_range(patient.id, start, end), start, end)
    return render_chart(days["days"], fmt=image_format)
