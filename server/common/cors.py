"""Cross-origin access for browser clients on the origins in CORS_ORIGINS, and no others.

Phones need no CORS, so it is off unless CORS_ORIGINS lists origins (checked at start-up by
``server.config.origins_setting``). Tokens travel in the Authorization header, never in
cookies, so credentials mode stays off.
"""

from collections.abc import Sequence

from flask import Flask, Response
from flask_cors import CORS
from flask_limiter.constants import HeaderNames

# What a browser client may read: versions, pages, when to retry, the id to quote to
# support, its rate-limit budget and an export's file name.
EXPOSED_HEADERS = (
    "ETag",
    "Link",
    "Retry-After",
    "X-Request-ID",
    HeaderNames.LIMIT.value,
    HeaderNames.REMAINING.value,
    HeaderNames.RESET.value,
    "Content-Disposition",
)
# What it may send beyond the CORS-safelisted headers.
ALLOWED_HEADERS = ("Authorization", "Content-Type", "If-Match", "If-None-Match")
ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
# Browsers cap the preflight cache (Chromium at 2 hours); longer would be ignored.
PREFLIGHT_MAX_AGE_SECONDS = 7200

cors = CORS()


def init_cors(app: Flask, origins: Sequence[str]) -> None:
    """Answer cross-origin requests and preflights from ``origins``; nothing when empty."""
    if not origins:
        return
    # Every option is given here, so no CORS_* config key can widen what is allowed.
    cors.init_app(
        app,
        origins=list(origins),
        methods=list(ALLOWED_METHODS),
        allow_headers=list(ALLOWED_HEADERS),
        expose_headers=list(EXPOSED_HEADERS),
        supports_credentials=False,
        max_age=PREFLIGHT_MAX_AGE_SECONDS,
        send_wildcard=False,
        # flask-cors would otherwise list every allowed origin on responses without Origin.
        always_send=False,
        vary_header=False,
        allow_private_network=False,
        automatic_options=True,
        # Error responses pass through the after-request hook like any other.
        intercept_exceptions=False,
        resources=r"/*",
    )

    @app.after_request
    def vary_on_origin(response: Response) -> Response:
        # Whether CORS headers are present depends on Origin, also for one allowed origin.
        response.vary.add("Origin")
        return response
