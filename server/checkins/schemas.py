"""Check-in request and response bodies."""

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from server.assessments.schemas import AssessmentSchema
from server.common.fields import StrictBoolean, Text
from server.common.pagination import PageQuerySchema, PageSchema
from server.common.serialization import PlannedDump
from server.vocabulary import CHECKIN_CONTENT, CORE_SYMPTOMS

SCORE = validate.Range(min=0, max=10)


def _core_score(label: str):
    """Declare a required 0-10 integer score."""
    return fields.Integer(
        required=True, strict=True, validate=SCORE, metadata={"description": label}
    )


def _optional_score(label: str):
    """Declare an optional 0-10 integer score (null or absent when not rated)."""
    return fields.Integer(
        strict=True, allow_none=True, validate=SCORE, metadata={"description": label}
    )


def _optional_flag(label: str):
    """Declare an optional strict boolean."""
    return StrictBoolean(allow_none=True, metadata={"description": label})


# Left out of a PUT, these are stored as null: the PUT replaces the whole day.
OPTIONAL_CONTENT = tuple(name for name in CHECKIN_CONTENT if name not in CORE_SYMPTOMS)


class CheckinInputSchema(Schema):
    """A day's check-in as sent by the phone; it replaces the whole day (absent = null)."""

    nausea = _core_score("Nausea 0 (none) to 10 (worst)")
    aches = _core_score("Muscle aches 0-10")
    anxiety = _core_score("Anxiety 0-10")
    insomnia = _core_score("Trouble sleeping 0-10")
    diarrhea = _optional_score("Diarrhoea 0-10")
    vomiting = _optional_score("Vomiting 0-10")
    cravings = _optional_score("Cravings 0-10")
    sleep_hours = fields.Float(
        allow_none=True,
        allow_nan=False,
        validate=validate.Range(min=0, max=24),
        metadata={"description": "Hours slept, 0-24"},
    )
    used_opioids = _optional_flag("Used opioids since the last check-in")
    crisis = _optional_flag("Feeling unsafe or in crisis")
    note = Text(
        allow_none=True,
        validate=validate.Length(max=2000),
        metadata={"description": "Free text, at most 2000 characters"},
    )

    @post_load
    def _absent_is_null(self, data, **_kwargs):
        """Store an optional field left out as null, as a full replacement of the day must.

        Done here rather than as marshmallow defaults: those show in the spec as
        `default: null`, which makes generated clients require every optional field.
        """
        for name in OPTIONAL_CONTENT:
            data.setdefault(name, None)
        return data


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
    """A stored check-in with the judgement of that day (the owner's, so with its note)."""

    note = fields.String(required=True, allow_none=True)

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


class CheckinListQuerySchema(DateRangeQuerySchema, PageQuerySchema):
    """Range and page of the check-in list."""


class CheckinPageSchema(PageSchema):
    """One page of check-ins in date order, and the range they were taken from."""

    items = fields.List(fields.Nested(CheckinSchema), required=True)
    start = fields.Date(data_key="from", required=True)
    end = fields.Date(data_key="to", required=True)
