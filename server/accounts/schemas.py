"""Account request and response bodies."""

from marshmallow import Schema, fields, validate

from server.auth.schemas import ROLE
from server.common.fields import Text
from server.common.validation import region_rule, timezone_rule

# Shape only (one @, no spaces or control characters): addresses are never mailed,
# so a stricter check would only reject real people.
EMAIL_SHAPE = validate.Regexp(
    r"^[^@\x00-\x20]+@[^@\x00-\x20]+$", error="Not a valid email address."
)
PASSWORD_RULE = validate.Length(min=10, max=256)
DISPLAY_NAME_RULE = validate.Length(min=1, max=100)


class UserSchema(Schema):
    """An account as its owner sees it (never the password hash)."""

    id = fields.UUID(required=True)
    email = fields.String(required=True)
    role = fields.String(required=True, validate=ROLE)
    display_name = fields.String(required=True)
    timezone = fields.String(required=True, validate=timezone_rule)
    region = fields.String(required=True, validate=region_rule)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


class RegisterSchema(Schema):
    """Sign-up body."""

    email = fields.String(
        required=True,
        validate=[validate.Length(max=254), EMAIL_SHAPE],
        metadata={"example": "sam@example.org"},
    )
    password = Text(required=True, load_only=True, validate=PASSWORD_RULE)
    role = fields.String(required=True, validate=ROLE)
    display_name = Text(required=True, validate=DISPLAY_NAME_RULE)
    timezone = fields.String(
        validate=timezone_rule,
        metadata={
            "description": "IANA time zone name; UTC when left out",
            "example": "America/Chicago",
        },
    )
    region = fields.String(
        validate=region_rule,
        metadata={
            "description": "ISO 3166-1 alpha-2 country code; US when left out. Every code "
            "is accepted; GET /api/v1/resources/regions says which have a curated catalogue",
            "example": "FR",
        },
    )


class UpdateMeSchema(Schema):
    """Changes to one's own account; a new password needs the current one."""

    display_name = Text(validate=DISPLAY_NAME_RULE)
    timezone = fields.String(
        validate=timezone_rule, metadata={"description": "IANA time zone name"}
    )
    region = fields.String(
        validate=region_rule, metadata={"description": "ISO 3166-1 alpha-2 code"}
    )
    new_password = Text(load_only=True, validate=PASSWORD_RULE)
    current_password = Text(
        load_only=True,
        validate=validate.Length(min=1, max=256),
        metadata={"description": "Required when new_password is given"},
    )


class DeleteMeSchema(Schema):
    """Account deletion needs the password."""

    password = Text(required=True, load_only=True, validate=validate.Length(min=1, max=256))
