"""Alert bodies."""

from marshmallow import Schema, fields, validate

from server.assessments.schemas import ReasonSchema
from server.common.pagination import PageQuerySchema, PageSchema
from server.common.validation import Vocabulary
from server.sharing.schemas import PersonSchema
from server.vocabulary import LEVELS

# "improving" never alerts; "stable" does when a danger sign fired.
ALERT_LEVEL = Vocabulary(
    "AlertLevel",
    [level for level in LEVELS if level != "improving"],
    description="The level of the day that raised the alert, most urgent first",
)


class AlertSchema(Schema):
    """A worrying day of a patient who shares their status with you."""

    id = fields.UUID(required=True)
    patient = fields.Nested(PersonSchema, required=True)
    checkin_date = fields.Date(required=True)
    level = fields.String(required=True, validate=ALERT_LEVEL)
    reasons = fields.List(fields.Nested(ReasonSchema), required=True)
    created_at = fields.AwareDateTime(required=True)
    acknowledged_at = fields.AwareDateTime(required=True, allow_none=True)


class AlertQuerySchema(PageQuerySchema):
    """Open alerts only, or all; and which page."""

    status = fields.String(
        load_default="open",
        validate=validate.OneOf(["open", "all"]),
        metadata={"description": "open (not yet acknowledged) or all"},
    )


class AlertListSchema(PageSchema):
    """A page of alerts, most urgent and newest first."""

    items = fields.List(fields.Nested(AlertSchema), required=True)
