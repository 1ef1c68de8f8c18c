"""Access-log bodies."""

from marshmallow import Schema, fields

from server.auth.schemas import ROLE
from server.common.pagination import PageQuerySchema, PageSchema
from server.common.validation import Vocabulary
from server.vocabulary import AUDIT_ACTIONS

ACTION = Vocabulary(
    "AuditAction",
    AUDIT_ACTIONS,
    description="What happened: a counselor's read of the patient's data (patient_listed, "
    "*_viewed, export, alerts_viewed, alert_acknowledged), a counselor's record about the "
    "patient (observation_recorded) or a consent change (share_*)",
)


class ActorSchema(Schema):
    """Who acted (the id is null once that account is deleted)."""

    id = fields.UUID(required=True, allow_none=True)
    display_name = fields.String(required=True)
    role = fields.String(required=True, validate=ROLE)


class AuditEventSchema(Schema):
    """One access to, or change of, the patient's data."""

    id = fields.UUID(required=True)
    at = fields.AwareDateTime(required=True)
    actor = fields.Nested(ActorSchema, required=True)
    patient = fields.UUID(required=True)
    action = fields.String(required=True, validate=ACTION)
    detail = fields.Dict(
        keys=fields.String(),
        required=True,
        metadata={"description": "Ids, ranges and formats of what was seen or changed"},
    )


class AccessLogQuerySchema(PageQuerySchema):
    """Page of the access log."""


class AccessLogSchema(PageSchema):
    """Who saw or changed what of mine, newest first."""

    items = fields.List(fields.Nested(AuditEventSchema), required=True)
