"""JSON in and out: responses encoded by orjson, request bodies decoded within shape limits."""

import json
from typing import Any

import orjson
from flask import Request
from flask.json.provider import DefaultJSONProvider

from server.errors import InvalidJSON, ValidationFailed

OPTIONS = orjson.OPT_NON_STR_KEYS
# No Steady body nests deeper than 3 levels or holds long arrays; these limits keep a
# hostile body (60 KB of "[[[...") from exhausting the parser's recursion or the validators.
MAX_BODY_DEPTH = 32
MAX_ARRAY_ITEMS = 1000


class BodyShapeError(ValueError):
    """A JSON body that breaks a documented shape limit (nesting depth, array length)."""


TOO_DEEP = f"JSON nested deeper than {MAX_BODY_DEPTH} levels is not accepted."
TOO_LONG = f"JSON arrays longer than {MAX_ARRAY_ITEMS} items are not accepted."
NOT_JSON = "The body is not valid JSON"


def invalid_json(error: ValueError) -> InvalidJSON:
    """The 400 for a body that does not parse, saying where it broke (never echoing it)."""
    if isinstance(error, json.JSONDecodeError):
        # The decoder's messages name the rule, never the text ("Expecting ',' delimiter").
        reason = error.msg.removesuffix(" at")
        where = f"line {error.lineno}, column {error.colno} (character {error.pos})"
        message = f"{reason} at {where}."
    elif isinstance(error, UnicodeDecodeError):
        message = f"Invalid UTF-8 at byte {error.start}."
    else:
        message = "The body does not parse as JSON."
    return InvalidJSON(f"{NOT_JSON}: {message}", errors={"body": [message]})


def check_body_shape(data: Any) -> None:
    """Raise BodyShapeError if a decoded body nests too deep or holds too long an array."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            if len(value) > MAX_ARRAY_ITEMS:
                raise BodyShapeError(TOO_LONG)
            children = value
        else:
            continue
        if depth > MAX_BODY_DEPTH:
            raise BodyShapeError(TOO_DEEP)
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def loads_body(text: str | bytes) -> Any:
    """Decode a request body with the standard decoder, within the shape limits."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")  # strict, as webargs decodes: bad bytes are a 400
    try:
        data = json.loads(text)
    except RecursionError:
        # Only a body far past MAX_BODY_DEPTH gets the decoder this deep.
        raise BodyShapeError(TOO_DEEP) from None
    check_body_shape(data)
    return data


class JSONBodyRequest(Request):
    """Flask's request, answering a body that is not JSON like the API parser does."""

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        """Raise the problem for a bad body instead of Werkzeug's browser text."""
        if isinstance(e, BodyShapeError):
            raise ValidationFailed(str(e), errors={"body": [str(e)]}) from None
        if e is not None:
            raise invalid_json(e) from None
        return super().on_json_loading_failed(e)


class FastJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with orjson for encoding; decoding stays the standard one.

    Request bodies keep the standard decoder: it accepts lone UTF-16 surrogates, which
    Steady repairs to U+FFFD instead of refusing the whole body.
    """

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Decode like the standard library, refusing bodies beyond the shape limits."""
        return loads_body(s)

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Encode compactly, falling back to Flask's conversions for unusual types."""
        return orjson.dumps(obj, default=self.default, option=OPTIONS).decode()

    def response(self, *args: Any, **kwargs: Any):
        """Build a JSON response without a detour through str."""
        obj = self._prepare_response_obj(args, kwargs)
        body = orjson.dumps(obj, default=self.default, option=OPTIONS)
        return self._app.response_class(body, mimetype=self.mimetype)
