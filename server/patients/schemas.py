"""Counselor-view bodies."""

from marshmallow import Schema, fields

from server.assessments.schemas import LEVEL, ReasonSchema
from server.common.pagination import PageQuerySchema, PageSchema
from server.sharing.schemas import SCOPE


class LatestAssessmentSchema(Schema):
    """Level and reasons of the latest check-in."""

    level = fields.String(required=True, validate=LEVEL)
    reasons = fields.List(fields.Nested(ReasonSchema), required=True)


class ShareSummarySchema(Schema):
    """The share that makes a patient visible."""

    id = fields.UUID(required=True)
    scope = fields.List(fields.String(validate=SCOPE), required=True)
    expires_on = fields.Date(required=True)


class PatientRowSchema(Schema):
    """One actively sharing patient; fields outside the share's scope are null."""

    id = fields.UUID(required=True)
    display_name = fields.String(required=True)
    latest_checkin_date = fields.Date(required=True, allow_none=True)
    latest_assessment = fields.Nested(LatestAssessmentSchema, required=True, allow_none=True)
    days_logged_last_7 = fields.Integer(required=True, allow_none=True)
    share = fields.Nested(ShareSummarySchema, required=True)


class PatientListQuerySchema(PageQuerySchema):
    """Which page of the patient list."""


class PatientListSchema(PageSchema):
    """A page of the actively sharing patients, most urgent first."""

    items = fields.List(fields.Nested(PatientRowSchema), required=True)
