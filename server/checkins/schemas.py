"""Check-in request and response bodies."""

import re
from datetime import date

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from server.assessments.schemas import AssessmentSchema
from server.checkins.feed import decode_cursor, encode_cursor
from server.common.conditional import ENTITY_TAGS_PATTERN, ENTITY_TAGS_RULE
from server.common.dates import DateRangeQuerySchema
from server.common.fields import StrictBoolean, Text
from server.common.pagination import PageQuerySchema, PageSchema
from server.common.serialization import PlannedDump
from server.episodes.schemas import EPISODE_DAY, TAKEN_SUBSTANCE
from server.errors import ProblemSchema, ValidationFailed
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
MAX_TAKEN_ITEMS = 20
TAKEN_AMOUNT_MAX = 200


class TakenInputSchema(Schema):
    """Something the person took that day, with an amount in their own words."""

    substance = fields.String(required=True, validate=TAKEN_SUBSTANCE)
    amount = Text(
        allow_none=True,
        validate=validate.Length(max=TAKEN_AMOUNT_MAX),
        metadata={
            "description": f"Free text for your own record, at most {TAKEN_AMOUNT_MAX} "
            "characters; stored and shown as written, never evaluated"
        },
    )

    @post_load
    def _absent_is_null(self, data, **_kwargs):
        """An amount left out is null, so a retried day compares equal."""
        data.setdefault("amount", None)
        return data


class TakenSchema(Schema):
    """Something the person took that day, as they wrote it."""

    substance = fields.String(required=True, validate=TAKEN_SUBSTANCE)
    amount = fields.String(required=True, allow_none=True)


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
    taken = fields.List(
        fields.Nested(TakenInputSchema),
        allow_none=True,
        validate=validate.Length(max=MAX_TAKEN_ITEMS),
        metadata={
            "description": "What you took that day, each with the amount in your own words "
            f"(at most {MAX_TAKEN_ITEMS}; an empty list is stored as null: nothing recorded)"
        },
    )

    @post_load
    def _absent_is_null(self, data, **_kwargs):
        """Store an optional field left out as null, as a full replacement of the day must.

        Done here rather than as marshmallow defaults: those show in the spec as
        `default: null`, which makes generated clients require every optional field.
        """
        for name in OPTIONAL_CONTENT:
            data.setdefault(name, None)
        data["taken"] = data["taken"] or None
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
    taken = fields.List(
        fields.Nested(TakenSchema),
        required=True,
        allow_none=True,
        metadata={"description": "What the person took that day; null when nothing recorded"},
    )
    episode_day = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": EPISODE_DAY},
    )
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


def without_amounts(taken: list[dict] | None) -> list[dict] | None:
    """The taken list without the amounts, which are the person's own words like the note."""
    return None if taken is None else [{**item, "amount": None} for item in taken]


def checkin_fields(checkin, *, include_note: bool = True) -> dict:
    """The response fields of a check-in, optionally without its note (and taken amounts)."""
    names = CheckinSchema._declared_fields
    fields_ = {name: getattr(checkin, name) for name in names if include_note or name != "note"}
    if not include_note and "taken" in fields_:
        fields_["taken"] = without_amounts(fields_["taken"])
    return fields_


class SavedCheckinSchema(CheckinSchema):
    """A stored check-in with the judgement of that day (the owner's, so with its note)."""

    note = fields.String(required=True, allow_none=True)

    assessment = fields.Nested(AssessmentSchema, required=True)


class CheckinListQuerySchema(DateRangeQuerySchema, PageQuerySchema):
    """Range and page of the check-in list."""


class CheckinPageSchema(PageSchema):
    """One page of check-ins in date order, and the range they were taken from."""

    items = fields.List(fields.Nested(CheckinSchema), required=True)
    start = fields.Date(data_key="from", required=True)
    end = fields.Date(data_key="to", required=True)


# --- Batch upload --------------------------------------------------------------------------

MAX_BATCH_ITEMS = 60
_DAY_FORM = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class Day(fields.Date):
    """A calendar date in YYYY-MM-DD form, as in the check-in paths."""

    default_error_messages = {"invalid": "Must be a calendar date in YYYY-MM-DD form."}

    def _deserialize(self, value, attr, data, **kwargs):
        """Accept only the YYYY-MM-DD form of a real date."""
        if not isinstance(value, str) or not _DAY_FORM.fullmatch(value):
            raise self.make_error("invalid")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise self.make_error("invalid") from None


def _entity_tags(label: str):
    """Declare an optional If-Match / If-None-Match value, in the headers' grammar."""
    return fields.String(
        validate=validate.Regexp(ENTITY_TAGS_PATTERN, error=ENTITY_TAGS_RULE),
        metadata={"description": label},
    )


class BatchItemSchema(CheckinInputSchema):
    """One queued day: its date, optional conditions, and the check-in fields of a PUT."""

    date = Day(required=True, metadata={"description": "The day, YYYY-MM-DD"})
    if_match = _entity_tags("As the If-Match header of PUT: replace only this version")
    if_none_match = _entity_tags(
        'As the If-None-Match header of PUT: "*" creates the day only if it is missing'
    )


class InvalidItem(ValidationFailed):
    """A batch item that could not be loaded, with the date it named (if it named one)."""

    def __init__(self, day, errors: dict):
        super().__init__("The day has invalid fields; see errors.", errors=errors)
        self.day = day


class IndependentItems(fields.List):
    """A list whose items are loaded one by one: a bad item becomes its own InvalidItem."""

    def _deserialize(self, value, attr, data, **kwargs):
        """Load each item on its own; only the list itself can fail the whole body."""
        if not isinstance(value, list):
            raise self.make_error("invalid")
        loaded = []
        for item in value:
            try:
                loaded.append(self.inner.deserialize(item, **kwargs))
            except ValidationError as error:
                messages = error.messages if isinstance(error.messages, dict) else {}
                if "_schema" in messages or not messages:
                    messages = {"item": ["Must be an object of a day's fields."]}
                named = item.get("date") if isinstance(item, dict) else None
                loaded.append(InvalidItem(named if isinstance(named, str) else None, messages))
        return loaded


def _date_named(item) -> date | None:
    """The date an item names, loaded or not (None if it names no valid one)."""
    if isinstance(item, InvalidItem):
        try:
            return Day().deserialize(item.day)
        except ValidationError:
            return None
    return item["date"]


class BatchRequestSchema(Schema):
    """Days queued offline, sent at once when the phone is back online."""

    items = IndependentItems(
        fields.Nested(BatchItemSchema),
        required=True,
        validate=validate.Length(
            min=1, max=MAX_BATCH_ITEMS, error="Send from {min} to {max} days in one batch."
        ),
        metadata={
            "description": f"1 to {MAX_BATCH_ITEMS} days, each date at most once. Each is "
            "judged on its own: a bad day is answered in its result, not for the batch."
        },
    )

    @validates_schema
    def check_dates_unique(self, data, **_kwargs):
        """Refuse a batch naming a day twice: which of the two should win is unclear."""
        first_at: dict[date, int] = {}
        for index, item in enumerate(data.get("items", ())):
            day = _date_named(item)
            if day is None:
                continue
            if day in first_at:
                raise ValidationError(
                    f"Each date may appear once; {day.isoformat()} is at items "
                    f"{first_at[day]} and {index}.",
                    field_name="items",
                )
            first_at[day] = index


BATCH_STATUSES = (200, 201, 412, 422)


class BatchResultSchema(Schema):
    """What became of one day of the batch, as a PUT of it would have answered."""

    date = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The item's date as sent (null if it sent none)"},
    )
    status = fields.Integer(
        required=True,
        metadata={
            "enum": list(BATCH_STATUSES),
            "description": "201 created, 200 replaced or already so, 412 a condition "
            "ruled it out, 422 invalid",
        },
    )
    etag = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The day's ETag now (on a 412 too, if the day exists)"},
    )
    checkin = fields.Nested(SavedCheckinSchema, metadata={"description": "On 200 and 201"})
    problem = fields.Nested(
        ProblemSchema, metadata={"description": "On 412 and 422: why, as problem details"}
    )


class BatchResultsSchema(Schema):
    """One result per item, in the order the items were sent."""

    items = fields.List(fields.Nested(BatchResultSchema), required=True)


# --- Changes feed ----------------------------------------------------------------------------


class Cursor(fields.String):
    """An opaque position in my changes feed (`next_cursor` of an earlier page)."""

    default_error_messages = {
        "invalid": "Must be a next_cursor this feed gave; leave since out to start again."
    }

    def _serialize(self, value, attr, obj, **kwargs):
        """Encode a change number."""
        return None if value is None else encode_cursor(value)

    def _deserialize(self, value, attr, data, **kwargs):
        """Decode a cursor this server issued."""
        try:
            return decode_cursor(value)
        except ValueError:
            raise self.make_error("invalid") from None


class ChangesQuerySchema(Schema):
    """Where to continue the feed from, and how many changes to get."""

    since = Cursor(
        metadata={
            "description": "next_cursor of your last page; without it, the feed starts "
            "from the beginning of what is kept"
        }
    )
    limit = fields.Integer(
        load_default=100,
        validate=validate.Range(min=1, max=500),
        metadata={"description": "Changes per page (at most 500)"},
    )


class ChangeSchema(Schema):
    """A day created or replaced (with the check-in as it is now), or a deleted day."""

    date = fields.Date(required=True)
    deleted = fields.Boolean(required=True, metadata={"description": "True: a tombstone"})
    etag = fields.String(metadata={"description": "The day's ETag (not on tombstones)"})
    checkin = fields.Nested(CheckinSchema, metadata={"description": "Not on tombstones"})


class ChangesPageSchema(Schema):
    """The next changes after the cursor, oldest first."""

    items = fields.List(fields.Nested(ChangeSchema), required=True)
    next_cursor = Cursor(
        required=True, metadata={"description": "Pass as since to get the changes after these"}
    )
    has_more = fields.Boolean(
        required=True, metadata={"description": "More changes follow: ask again at once"}
    )
