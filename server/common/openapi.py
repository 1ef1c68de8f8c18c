"""Helpers that keep route documentation short and uniform."""

from http import HTTPStatus

from apispec import BasePlugin
from flask_smorest import Blueprint
from marshmallow import ValidationError, missing
from webargs.flaskparser import FlaskParser, is_json_request

from server.common.json import BodyShapeError, invalid_json, loads_body

BEARER = [{"bearerAuth": []}]
ETAG_HEADER = {
    "ETag": {
        "description": "Version of the resource, for If-Match",
        "schema": {"type": "string"},
    }
}
IF_MATCH_PARAMETER = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "description": "ETag of the version being replaced; 412 if it is no longer current",
    "schema": {"type": "string"},
}


def problems(blp, *codes: int):
    """Document the error statuses a view can answer (all problem+json)."""

    def decorator(view):
        for code in codes:
            view = blp.alt_response(code, response=HTTPStatus(code).name)(view)
        return view

    return decorator


def _repair_text(data):
    """Replace lone UTF-16 surrogates (not characters, unstorable) with U+FFFD."""
    if isinstance(data, dict):
        return {key: _repair_text(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_repair_text(value) for value in data]
    if isinstance(data, str):
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            return data.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return data


class _JsonBodyParser(FlaskParser):
    """webargs parser that refuses a missing body and repairs broken surrogates."""

    # Let each schema's own `unknown = RAISE` apply to query strings too: a misspelt
    # parameter is an error the phone should hear about, not something silently ignored.
    DEFAULT_UNKNOWN_BY_LOCATION: dict = {}

    def _raw_load_json(self, req):
        """Decode the body within the shape limits; a body past them is a 422."""
        if not is_json_request(req):
            return missing
        try:
            return loads_body(req.get_data(cache=True))
        except BodyShapeError as error:
            raise ValidationError({"body": [str(error)]}) from None

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        """A body that does not parse is a 400 saying where, not Werkzeug's browser text."""
        raise invalid_json(error) from None

    def load_json(self, req, schema):
        """Return the JSON body, or fail validation when there is none."""
        data = super().load_json(req, schema)
        if data is missing:
            raise ValidationError({"body": ["A JSON request body is required."]})
        return _repair_text(data)


class ApiBlueprint(Blueprint):
    """flask-smorest Blueprint whose JSON bodies are always required."""

    ARGUMENTS_PARSER = _JsonBodyParser()


# Paths that never touch the database or Redis, so never answer 503.
NEVER_UNAVAILABLE = {"/healthz"}


class ServiceUnavailablePlugin(BasePlugin):
    """Document on every operation the 503 a slow or unreachable database answers.

    Also the 400 of every operation taking a JSON body, for a body that does not parse.
    """

    def operation_helper(self, path=None, operations=None, **kwargs):
        """Add the 503 problem response to each operation of a path that uses the database."""
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            if "requestBody" in operation:
                responses.setdefault("400", "BAD_REQUEST")
            if path not in NEVER_UNAVAILABLE:
                responses.setdefault("503", "SERVICE_UNAVAILABLE")
