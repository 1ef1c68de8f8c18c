"""Alert bodies."""

from marshmallow import Schema, fields, validate

from server.assessments.schemas import ReasonSchema
from server.common.serialization import PlannedDump
from server.sharing.schemas import PersonSchema
from server.vocabulary import LEVELS


class AlertSchema(Schema):
    """A worrying day of a patient who shares their status with you."""

    id = fields.UUID(required=True)
    patient = fields.Nested(PersonSchema, required=True)
    checkin_date = fields.Date(required=True)
    level = fields.String(
        required=True, validate=validate.OneOf([level for level in LEVELS if level != "improving"])
    )
    reasons = fields.List(fields.Nested(ReasonSchema), required=True)
    created_at = fields.AwareDateTime(required=True)
    acknowledged_at = fields.AwareDateTime(required=True, allow_none=True)


class AlertQuerySchema(Schema):
    """Open alerts only, or all."""

    status = fields.String(load_default="open", validate=validate.OneOf(["open", "all"]))


class AlertListSchema(PlannedDump):
    """Alerts, most urgent and newest first."""

    items = fields.List(fields.Nested(AlertSchema), required=True)
