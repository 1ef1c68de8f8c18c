"""Assessment bodies."""

from marshmallow import Schema, fields

from server.common.serialization import PlannedDump
from server.common.validation import Vocabulary
from server.resources.schemas import ResourceSchema
from server.vocabulary import LEVELS as DAY_LEVELS
from server.vocabulary import NO_DATA

LEVELS = [*DAY_LEVELS, NO_DATA]
LEVEL = Vocabulary(
    "Level",
    LEVELS,
    description="How a day looks against the documented rules, most urgent first; "
    "no_data before the first check-in",
)


class ReasonSchema(Schema):
    """One rule that fired, in plain words with its numbers."""

    code = fields.String(required=True)
    message = fields.String(required=True)


class AssessmentSchema(PlannedDump):
    """How a day looks against the documented rules (an aid, not a diagnosis)."""

    level = fields.String(required=True, validate=LEVEL)
    reasons = fields.List(fields.Nested(ReasonSchema), required=True)
    resources = fields.List(fields.Nested(ResourceSchema), required=True)
    checkin_date = fields.Date(required=True, allow_none=True)
    notice = fields.String(
        required=True,
        metadata={"description": "Reminder that Steady is not an emergency service"},
    )
