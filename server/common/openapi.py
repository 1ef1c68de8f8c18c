"""Helpers that keep route documentation short and uniform."""

from http import HTTPStatus

from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from flask_smorest import Blueprint
from marshmallow import ValidationError, missing
from webargs.flaskparser import FlaskParser, is_json_request

from server.common.conditional import ENTITY_TAGS_PATTERN
from server.common.json import BodyShapeError, invalid_json, loads_body
from server.common.validation import Vocabulary

BEARER = [{"bearerAuth": []}]
ETAG_HEADER = {
    "ETag": {
        "description": "Strong entity tag of this representation, for If-Match and If-None-Match",
        "schema": {"type": "string"},
    }
}
LINK_HEADER = {
    "Link": {
        "description": "RFC 8288 links to the first, prev, next and last pages: root-relative "
        "URIs that keep the request's other query parameters (prev and next only where such "
        "a page exists)",
        "schema": {"type": "string"},
        "example": '</api/v1/alerts?status=open&page=1&page_size=50>; rel="first", '
        '</api/v1/alerts?status=open&page=2&page_size=50>; rel="next", '
        '</api/v1/alerts?status=open&page=3&page_size=50>; rel="last"',
    }
}


def _entity_tags_schema() -> dict:
    """RFC 9110 13.1.1-2: "*" or a list of quoted entity tags; anything else is a 400.

    A new dict each time: a shared one would be written to openapi.yaml as a YAML alias.
    """
    return {"type": "string", "pattern": ENTITY_TAGS_PATTERN}


IF_MATCH_PARAMETER = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "description": "ETag of the version being replaced (or * for any): 412 if it is no "
    "longer current or the day does not exist; 400 if malformed",
    "schema": _entity_tags_schema(),
}
IF_NONE_MATCH_PARAMETER = {
    "in": "header",
    "name": "If-None-Match",
    "required": False,
    "description": "* creates the day only if it is missing (412 if it exists); 400 if malformed",
    "schema": _entity_tags_schema(),
}


def conditional_read() -> list[dict]:
    """The conditional headers of a GET whose 200 has an ETag."""
    return [
        {
            "in": "header",
            "name": "If-Match",
            "required": False,
            "description": "Serve only this version (412 otherwise); 400 if malformed",
            "schema": _entity_tags_schema(),
        },
        {
            "in": "header",
            "name": "If-None-Match",
            "required": False,
            "description": "The ETag(s) of your copy: 304 with no body if one is still "
            "current (weak comparison; * for any); 400 if malformed",
            "schema": _entity_tags_schema(),
        },
    ]


def not_modified_response(blp):
    """Document the 304 a conditional GET answers (no body, the ETag repeated)."""
    return blp.alt_response(
        304,
        description="Not modified: If-None-Match has the current ETag",
        headers=ETAG_HEADER,
        success=True,
    )


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
            # A schema whose fields are all optional may say its body may be left out.
            if getattr(schema, "body_optional", False):
                return {}
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


class _ClientFriendlyConverter(OpenAPIConverter):
    """Field conversion in the shapes code generators read as intended (OpenAPI 3.0).

    A field checked against a Vocabulary refers to that vocabulary's one component, and a
    nullable reference is `allOf: [$ref]` with `nullable: true`: apispec's own
    `anyOf: [{type: object, nullable: true}, $ref]` gives generated clients a spurious
    empty model beside the real one.
    """

    def field2property(self, field) -> dict:
        """Document a vocabulary field as a reference to its component."""
        vocabulary = next((v for v in field.validators if isinstance(v, Vocabulary)), None)
        if vocabulary is None:
            return super().field2property(field)
        extras = super().field2property(field)
        for key in ("type", "enum", "nullable"):
            extras.pop(key, None)
        reference = {"$ref": f"#/components/schemas/{self._vocabulary(vocabulary)}"}
        if field.allow_none:
            extras["nullable"] = True
        return {"allOf": [reference], **extras} if extras else reference

    def _vocabulary(self, vocabulary: Vocabulary) -> str:
        """Register the vocabulary's component on first use; returns its name."""
        schemas = self.spec.components.schemas
        if vocabulary.name not in schemas:
            self.spec.components.schema(vocabulary.name, vocabulary.component())
        elif schemas[vocabulary.name] != vocabulary.component():
            raise ValueError(f"Two vocabularies are named {vocabulary.name}")
        return vocabulary.name

    def field2nullable(self, field, ret) -> dict:
        """Mark a nullable reference with allOf + nullable (OpenAPI 3.0)."""
        version = self.openapi_version
        if not field.allow_none or (version.major, version.minor) != (3, 0):
            return super().field2nullable(field, ret)
        if "$ref" in ret:
            return {"allOf": [{"$ref": ret.pop("$ref")}], "nullable": True}
        return {"nullable": True}


class ClientFriendlyMarshmallowPlugin(MarshmallowPlugin):
    """The marshmallow plugin with Steady's field conversion."""

    Converter = _ClientFriendlyConverter
