"""Local-calendar helpers: a patient's day depends on their time zone."""

import functools
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from marshmallow import Schema, ValidationError, fields, validates_schema
from werkzeug.routing import BaseConverter

from server.errors import ValidationFailed

EARLIEST_CHECKIN_DATE = date(2000, 1, 1)
# A moment a person reports (a last use, an observation): from the first loggable day, and
# not ahead of the server by more than a phone's clock may drift.
EARLIEST_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)
CLOCK_GRACE = timedelta(minutes=5)
# Ranges may end at most this far after today (planning ahead, never far-future dates).
MAX_DAYS_AHEAD = 366


def local_today(timezone: str) -> date:
    """Return today's date in the given IANA time zone."""
    return datetime.now(ZoneInfo(timezone)).date()


def iso_utc(moment: datetime) -> str:
    """Format an aware datetime as ISO 8601 UTC with a ``Z`` suffix (seconds)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="seconds").removesuffix("+00:00") + "Z"


def resolve_range(
    timezone: str,
    start: date | None,
    end: date | None,
    *,
    default_days: int,
    max_days: int | None = None,
    max_label: str | None = None,
) -> tuple[date, date]:
    """Fill a missing end with the person's today and a missing start with end - days + 1.

    Ranges stay between 2000-01-01 and a year after today, which also keeps date
    arithmetic (comparison periods, rolling windows) far from date.min and date.max.
    """
    end_given = end is not None
    today = local_today(timezone)
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
    start = start or end - timedelta(days=default_days - 1)
    if max_days is not None and (end - start).days + 1 > max_days:
        limit = f"{max_days} days" + (f" ({max_label})" if max_label else "")
        raise ValidationFailed(
            "The range is too long.", errors={"from": [f"The range may cover at most {limit}."]}
        )
    return start, end


def check_loggable_day(timezone: str, day: date) -> None:
    """Allow a day's record only from 2000-01-01 up to the person's today (422 otherwise)."""
    if day < EARLIEST_CHECKIN_DATE:
        raise ValidationFailed(
            "The date is too early.", errors={"date": ["Must be 2000-01-01 or later."]}
        )
    if day > local_today(timezone):
        raise ValidationFailed(
            "The date is in the future for your time zone.",
            errors={"date": ["Must not be after today in your time zone."]},
        )


class DateRangeQuerySchema(Schema):
    """An inclusive from/to range of local dates."""

    start = fields.Date(data_key="from", metadata={"description": "First day (inclusive)"})
    end = fields.Date(data_key="to", metadata={"description": "Last day (inclusive)"})

    @validates_schema
    def check_order(self, data, **_kwargs):
        """Refuse a range that ends before it starts."""
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise ValidationError("Must be on or before 'to'.", field_name="from")


def parse_day(value: str, *, field: str = "date") -> date:
    """Parse a YYYY-MM-DD path segment or fail with a 422 naming the field."""
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            "The date is not valid.",
            errors={field: ["Must be a calendar date in YYYY-MM-DD form."]},
        ) from None


class DayConverter(BaseConverter):
    """URL segment documented as an ISO date; parsed by the view so bad input is a 422."""

    regex = "[^/]+"


@functools.cache
def day_converter(not_days: tuple[str, ...]) -> type[DayConverter]:
    """A DayConverter leaving the named segments to the sibling routes that have them.

    Without it, PUT /checkins/batch would be read as a PUT of a day called "batch" (a
    422), and OPTIONS there would list the methods of a day as well.
    One class per set of names, however many apps are built.
    """
    if not not_days:
        return DayConverter
    names = "|".join(re.escape(name) for name in not_days)
    return type("DayConverter", (DayConverter,), {"regex": rf"(?!(?:{names})$)[^/]+"})


def past_moment_rule(moment: datetime) -> str | None:
    """The rule a reported moment breaks (before 2000, or in the future), if any."""
    if moment > datetime.now(UTC) + CLOCK_GRACE:
        return "Must not be in the future (5 minutes of clock skew)."
    if moment < EARLIEST_MOMENT:
        return "Must be 2000-01-01T00:00:00Z or later."
    return None
