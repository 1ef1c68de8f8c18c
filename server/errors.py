"""One error shape everywhere: RFC 9457 problem details (application/problem+json)."""

import http
import logging
import traceback

import marshmallow as ma
from flask import Flask, Response, current_app, g, json
from flask_jwt_extended import get_jwt
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from gunicorn.http.errors import ParseException as MalformedHttp
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

PROBLEM_MEDIA_TYPE = "application/problem+json"
BEARER_REALM = "steady"
# Where a problem's own Retry-After is kept, so the limiter cannot restate it.
RETRY_AFTER_KEY = "steady_retry_after"
log = logging.getLogger(__name__)


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details as returned by every error."""

    type = ma.fields.String(
        required=True, metadata={"description": "URI identifying the problem type"}
    )
    title = ma.fields.String(required=True, metadata={"description": "Short summary"})
    status = ma.fields.Integer(required=True, metadata={"description": "HTTP status"})
    detail = ma.fields.String(required=True, metadata={"description": "Explanation"})
    instance = ma.fields.String(metadata={"description": "Request path"})
    request_id = ma.fields.String(metadata={"description": "Id to quote to support"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Raw(),
        metadata={"description": "Validation errors: field name to list of messages"},
    )


class ApiError(Exception):
    """An expected failure with a status, a stable problem type and a safe detail."""

    status = 400
    slug = "bad-request"

    def __init__(self, detail: str, *, errors: dict | None = None, headers=None, extensions=None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        # Further members of the problem details (RFC 9457 extensions).
        self.extensions = extensions or {}


class InvalidJSON(ApiError):
    """The body does not parse as JSON; the detail says where, when the parser knows."""

    status, slug = 400, "invalid-json"


class Unauthorized(ApiError):
    """Missing, invalid, expired or revoked credentials."""

    status, slug = 401, "unauthorized"


def bearer_challenge(error: str | None = None, description: str | None = None) -> str:
    """A ``WWW-Authenticate`` value for the Bearer scheme (RFC 6750 §3)."""
    params = [f'realm="{BEARER_REALM}"']
    if error:
        params.append(f'error="{error}"')
    if description:
        params.append(f'error_description="{description}"')
    return "Bearer " + ", ".join(params)


def _token_was_accepted() -> bool:
    """Tell whether this request's bearer token passed verification before the refusal."""
    try:
        return bool(get_jwt())
    except RuntimeError:  # no token was verified in this request
        return False


class Forbidden(ApiError):
    """Authenticated, but the role may not do this."""

    status, slug = 403, "forbidden"


class NotFound(ApiError):
    """Nothing here for the caller (also used for other people's data)."""

    status, slug = 404, "not-found"


class Conflict(ApiError):
    """The request conflicts with current state."""

    status, slug = 409, "conflict"


class PreconditionFailed(ApiError):
    """If-Match or If-None-Match ruled the request out (RFC 9110 13.1)."""

    status, slug = 412, "precondition-failed"


class ValidationFailed(ApiError):
    """Input broke a rule; `errors` names the field and the rule."""

    status, slug = 422, "validation-error"


def problem_details(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    errors: dict | None = None,
    extensions: dict | None = None,
) -> dict:
    """The members of a problem details object (RFC 9457), as every error answers them."""
    base = current_app.config.get("PROBLEM_TYPE_BASE", "urn:steady:problem:")
    body = {
        "type": f"{base}{slug}" if slug else "about:blank",
        "title": http.HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    request_id = g.get("request_id")
    if request_id:
        body["request_id"] = request_id
    if errors:
        body["errors"] = errors
    body.update(extensions or {})
    return body


def error_details(error: ApiError) -> dict:
    """The problem details of an expected failure, for answers that carry several."""
    return problem_details(
        error.status,
        error.detail,
        slug=error.slug,
        errors=error.errors,
        extensions=error.extensions,
    )


def problem_response(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    errors: dict | None = None,
    headers: dict | None = None,
    extensions: dict | None = None,
) -> Response:
    """Build an application/problem+json response (RFC 9457 extension members optional)."""
    body = problem_details(status, detail, slug=slug, errors=errors, extensions=extensions)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    response.headers.setdefault("Cache-Control", "no-store")
    for name, value in (headers or {}).items():
        response.headers[name] = value
        if name.lower() == "retry-after":
            setattr(g, RETRY_AFTER_KEY, str(value))
    return response


def _flatten_validation_messages(messages: dict) -> dict:
    """Turn webargs' {location: {field: msgs}} into {field: msgs}."""
    flat: dict = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            for field, field_messages in fields.items():
                name = "body" if field == "_schema" else field
                flat.setdefault(name, [])
                if isinstance(field_messages, list):
                    flat[name].extend(field_messages)
                else:
                    flat[name].append(field_messages)
        else:
            flat.setdefault(location, []).extend(fields)
    return flat


def _detail_for(error: HTTPException) -> str:
    """Pick a client-safe detail for a werkzeug/webargs HTTP error."""
    data = getattr(error, "data", None) or {}
    if data.get("message"):
        return data["message"]
    if error.code == 422:
        return "The request has invalid fields; see errors."
    if error.code == 500:
        return "Something went wrong on our side. Please try again."
    return error.description or http.HTTPStatus(error.code).phrase


class ProblemApi(Api):
    """flask-smorest Api that answers and documents every error as problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: HTTPException) -> Response:
        """Render werkzeug, webargs and smorest errors as problem details."""
        data = getattr(error, "data", None) or {}
        errors = data.get("errors")
        if errors is None and "messages" in data:
            errors = _flatten_validation_messages(data["messages"])
        headers = {
            key: value
            for key, value in error.get_headers()
            if key.lower() not in ("content-type", "content-length")
        }
        headers.update(data.get("headers") or {})
        slug = "validation-error" if error.code == 422 else None
        return problem_response(
            error.code, _detail_for(error), slug=slug, errors=errors, headers=headers
        )

    def _register_responses(self):
        """Document every error response as application/problem+json."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def _register_pagination_header(self):
        """Register nothing: lists page in the body and the Link header, not X-Pagination."""


def register_error_handlers(app: Flask) -> None:
    """Map our exceptions and unexpected failures to problem details."""

    @app.errorhandler(ApiError)
    def handle_api_error(error: ApiError):
        headers = error.headers
        if isinstance(error, Unauthorized) and "WWW-Authenticate" not in headers:
            # A token that verified but no longer speaks for anyone (the sign-in ended
            # meanwhile) is an invalid token; a failed sign-in challenges without an error.
            invalid = "invalid_token" if _token_was_accepted() else None
            headers = {**headers, "WWW-Authenticate": bearer_challenge(invalid)}
        return problem_response(
            error.status,
            error.detail,
            slug=error.slug,
            errors=error.errors,
            headers=headers,
            extensions=error.extensions,
        )

    @app.errorhandler(StaleDataError)
    def handle_stale_data(error: StaleDataError):
        _rollback()
        return problem_response(
            412,
            "This record was changed by another request; fetch it and try again.",
            slug="precondition-failed",
        )

    @app.errorhandler(IntegrityError)
    def handle_integrity_error(error: IntegrityError):
        _rollback()
        log.warning("integrity error (%s)", type(error.orig).__name__)
        return problem_response(409, "The request conflicts with existing data.", slug="conflict")

    @app.errorhandler(DataError)
    def handle_unstorable_value(error: DataError):
        # Validation should catch these first; never echo the database's message.
        _rollback()
        log.warning("data error (%s)", type(error.orig).__name__)
        return problem_response(
            422, "A value in the request cannot be stored.", slug="validation-error"
        )

    @app.errorhandler(DBAPIError)
    def handle_database_unavailable(error: DBAPIError):
        _rollback()
        log.error("database error (%s)", type(error.orig).__name__)
        return problem_response(
            503,
            "The service is temporarily unavailable. Please retry shortly.",
            slug="unavailable",
            headers={"Retry-After": "5"},
        )

    @app.errorhandler(MalformedHttp)
    def handle_malformed_body(error: MalformedHttp):
        # gunicorn reads a chunked body as the app asks for it, so its errors surface here.
        return problem_response(400, "The request body is not valid HTTP/1.1 (chunked body).")

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        _rollback()
        # Frames only: exception messages can carry request values (health data).
        frames = "".join(traceback.format_tb(error.__traceback__))
        log.error("unhandled %s\n%s", type(error).__name__, frames)
        return problem_response(500, _detail_for(InternalServerError()))


def _rollback() -> None:
    """Leave no half-done transaction behind a failed request."""
    from server.extensions import db

    db.session.rollback()
