"""Local-calendar helpers: a patient's day depends on their time zone."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from werkzeug.routing import BaseConverter

from server.errors import ValidationFailed

EARLIEST_CHECKIN_DATE = date(2000, 1, 1)


def local_today(timezone: str) -> date:
    """Return today's date in the given IANA time zone."""
    return datetime.now(ZoneInfo(timezone)).date()


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
