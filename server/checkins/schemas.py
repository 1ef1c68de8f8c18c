"""Check-in request and response bodies."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from server.assessments.schemas import AssessmentSchema
from server.common.fields import StrictBoolean, Text
from server.common.serialization import PlannedDump

SCORE = validate.Range(min=0, max=10)


def _core_score(label: str):
    """Declare a required 0-10 integer score."""
    return fields.Integer(
        required=True, strict=True, validate=SCORE, metadata={"description": label}
    )


def _optional_score(label: str):
    """Declare an optional 0-10 integer score (null or absent when not rated)."""
    return fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=SCORE,
        metadata={"description": label},
    )


def _optional_flag(label: str):
    """Declare an optional strict boolean."""
    return StrictBoolean(allow_none=True, load_default=None, metadata={"description": label})


class CheckinInputSchema(Schema):
    """A day's check-in as sent by the phone; it replaces the whole day."""

    nausea = _core_score("Nausea 0 (none) to 10 (worst)")
    aches = _core_score("Muscle aches 0-10")
    anxiety = _core_score("Anxiety 0-10")
    insomnia = _core_score("Trouble sleeping 0-10")
    diarrhea = _optional_score("Diarrhoea 0-10")
    vomiting = _optional_score("Vomiting 0-10")
    cravings = _optional_score("Cravings 0-10")
    sleep_hours = fields.Float(
        allow_none=True,
        load_default=None,
        allow_nan=False,
        validate=validate.Range(min=0, max=24),
        metadata={"description": "Hours slept, 0-24"},
    )
    used_opioids = _optional_flag("Used opioids since the last check-in")
    crisis = _optional_flag("Feeling unsafe or in crisis")
    note = Text(
        allow_none=True,
        load_default=None,
        validate=validate.Length(max=2000),
        metadata={"description": "Free text, at most 2000 characters"},
    )


class OptionalExtrasSchema(PlannedDump):
    """The optional extras of a day, null when not given (shared by check-ins and trends)."""

    diarrhea = fields.Integer(required=True, allow_none=True)
    vomiting = fields.Integer(required=True, allow_none=True)
    cravings = fields.Integer(required=True, allow_none=True)
    sleep_hours = fields.Float(required=True, allow_none=True)
    used_opioids = fields.Boolean(required=True, allow_none=True)
    crisis = fields.Boolean(required=True, allow_none=True)


class CheckinSchema(OptionalExtrasSchema):
    """A stored check-in."""

    date = fields.Date(required=True)
    nausea = fields.Integer(required=True)
    aches = fields.Integer(required=True)
    anxiety = fields.Integer(required=True)
    insomnia = fields.Integer(required=True)
    note = fields.String(
        allow_none=True, metadata={"description": "Left out when the viewer may not see notes"}
    )
    total = fields.Integer(
        required=True, metadata={"description": "nausea + aches + anxiety + insomnia (0-40)"}
    )
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


def checkin_fields(checkin, *, include_note: bool = True) -> dict:
    """The response fields of a check-in, optionally without its note."""
    names = CheckinSchema._declared_fields
    return {name: getattr(checkin, name) for name in names if include_note or name != "note"}


class SavedCheckinSchema(CheckinSchema):
    """A stored check-in with the judgement of that day."""

    assessment = fields.Nested(AssessmentSchema, required=True)


class DateRangeQuerySchema(Schema):
    """An inclusive from/to range of local dates."""

    start = fields.Date(data_key="from", metadata={"description": "First day (inclusive)"})
    end = fields.Date(data_key="to", metadata={"description": "Last day (inclusive)"})

    @validates_schema
    def check_order(self, data, **_kwargs):
        """Refuse a range that ends before it starts."""
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise ValidationError("Must be on or before 'to'.", field_name="from")


class CheckinListQuerySchema(DateRangeQuerySchema):
    """Range and page of the check-in list."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=100),
        metadata={"description": "Items per page (at most 100)"},
    )


class CheckinPageSchema(PlannedDump):
    """One page of check-ins in date order."""

    items = fields.List(fields.Nested(CheckinSchema), required=True)
    start = fields.Date(data_key="from", required=True)
    end = fields.Date(data_key="to", required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    total_items = fields.Integer(required=True)
    total_pages = fields.Integer(required=True)
