"""Helpers that keep route documentation short and uniform."""

from http import HTTPStatus

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
