"""Authentication request and response bodies."""

from marshmallow import Schema, fields, validate

from server.auth.models import Role
from server.common.fields import Text
from server.common.validation import Vocabulary

ROLE = Vocabulary("Role", [role.value for role in Role], description="What an account is for")


class LoginSchema(Schema):
    """Email and password."""

    email = Text(required=True, validate=validate.Length(min=1, max=254))
    password = Text(required=True, load_only=True, validate=validate.Length(min=1, max=256))


class TokenPairSchema(Schema):
    """A fresh access token and its refresh token."""

    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    token_type = fields.String(required=True, validate=validate.OneOf(["Bearer"]))
    expires_in = fields.Integer(
        required=True, metadata={"description": "Access token lifetime in seconds"}
    )
