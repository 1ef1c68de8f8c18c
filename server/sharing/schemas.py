"""Share (consent) bodies."""

from marshmallow import Schema, fields, validate

from server.common.fields import StrictBoolean, Text
from server.common.pagination import PageQuerySchema, PageSchema
from server.common.validation import Vocabulary
from server.vocabulary import SCOPES, SHARE_STATUSES

SCOPE = Vocabulary("Scope", SCOPES, description="A part of a log a patient may share")
SHARE_STATUS = Vocabulary("ShareStatus", SHARE_STATUSES, description="Where a share stands today")


class ShareCreateSchema(Schema):
    """A patient's consent to share with one counselor."""

    counselor_email = Text(required=True, validate=validate.Length(min=3, max=254))
    purpose = Text(
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={"example": "Review my withdrawal log at my weekly appointments"},
    )
    expires_on = fields.Date(
        required=True,
        metadata={"description": "Last day of access; after today and at most one year away"},
    )
    include_notes = StrictBoolean(metadata={"description": "false when left out"})
    scope = fields.List(
        fields.String(validate=SCOPE),
        required=True,
        validate=validate.Length(min=1, max=len(SCOPES)),
        metadata={"uniqueItems": True},
    )


class PersonSchema(Schema):
    """Who is on either side of a share."""

    id = fields.UUID(required=True)
    display_name = fields.String(required=True)


class CounselorSchema(Schema):
    """The counselor a log is shared with (id and email are null once they left Steady)."""

    id = fields.UUID(required=True, allow_none=True)
    display_name = fields.String(required=True)
    email = fields.String(required=True, allow_none=True)


class ShareSchema(Schema):
    """A share and its current status (revoked and expired shares stay as history)."""

    id = fields.UUID(required=True)
    patient = fields.Nested(PersonSchema, required=True)
    counselor = fields.Nested(CounselorSchema, required=True)
    purpose = fields.String(required=True)
    scope = fields.List(fields.String(validate=SCOPE), required=True)
    include_notes = fields.Boolean(required=True)
    created_at = fields.AwareDateTime(required=True)
    expires_on = fields.Date(required=True)
    status = fields.String(required=True, validate=SHARE_STATUS)
    revoked_at = fields.AwareDateTime(required=True, allow_none=True)


class ShareListQuerySchema(PageQuerySchema):
    """Which page of the shares."""


class ShareListSchema(PageSchema):
    """A page of the shares made by a patient, or made to a counselor, newest first."""

    items = fields.List(fields.Nested(ShareSchema), required=True)
