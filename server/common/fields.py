"""Strict marshmallow fields for JSON bodies."""

from marshmallow import fields


class StrictBoolean(fields.Boolean):
    """Accept only JSON true/false (marshmallow's Boolean also takes 1, "yes", "true")."""

    def _deserialize(self, value, attr, data, **kwargs):
        """Reject anything that is not a real boolean."""
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value
