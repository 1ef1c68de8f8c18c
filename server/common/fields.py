"""Strict marshmallow fields for JSON bodies."""

from marshmallow import fields, validate

# Documented as a pattern so clients and fuzzers know the rule; no database stores NUL.
NO_NUL = validate.Regexp(r"^[^\x00]*$", error="Must not contain NUL characters.")


class StrictBoolean(fields.Boolean):
    """Accept only JSON true/false (marshmallow's Boolean also takes 1, "yes", "true")."""

    def _deserialize(self, value, attr, data, **kwargs):
        """Reject anything that is not a real boolean."""
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Text(fields.String):
    """A string field that also refuses NUL characters."""

    def __init__(self, *args, validate=None, **kwargs):
        rules = [validate] if callable(validate) else list(validate or [])
        super().__init__(*args, validate=[*rules, NO_NUL], **kwargs)
