"""Access-log bodies."""

from marshmallow import Schema, fields, validate


class ActorSchema(Schema):
    """Who acted (the id is null once that account is deleted)."""

    id = fields.UUID(required=True, allow_none=True, attribute="actor_id")
    display_name = fields.String(required=True, attribute="actor_name")
    role = fields.String(required=True, attribute="actor_role")


class AuditEventSchema(Schema):
    """One access to, or change of, the patient's data."""

    id = fields.UUID(required=True)
    at = fields.AwareDateTime(required=True)
    actor = fields.Function(lambda event: ActorSchema().dump(event), required=True)
    patient = fields.UUID(required=True, attribute="patient_id")
    action = fields.String(required=True)
    detail = fields.Dict(required=True)


class AccessLogQuerySchema(Schema):
    """Page of the access log."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class AccessLogSchema(Schema):
    """Who saw or changed what of mine, newest first."""

    items = fields.List(fields.Nested(AuditEventSchema), required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    total_items = fields.Integer(required=True)
    total_pages = fields.Integer(required=True)
