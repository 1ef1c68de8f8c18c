"""Steady: the API behind a symptom tracker for opioid withdrawal."""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from flask import Flask, g, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from server.common.bodies import body_limit_of_request
from server.common.cache import cache_from_url
from server.common.cors import init_cors
from server.common.json import FastJSONProvider, JSONBodyRequest
from server.common.openapi import ClientFriendlyMarshmallowPlugin, ServiceUnavailablePlugin
from server.config import (
    Config,
    ConfigError,
    check_shared_rate_limits,
    config_from_env,
    duration_setting,
    int_setting,
    limit_setting,
    origins_setting,
    refused,
    url_setting,
)
from server.db import WRITE_OPTION, configure_sqlite
from server.errors import RETRY_AFTER_KEY, problem_response, register_error_handlers
from server.extensions import api, csrf, jwt, limiter, migrate

if TYPE_CHECKING:
    from server.assessments.judgement import Thresholds
    from server.auth.failures import AccountFailures
    from server.resources.locator import FindTreatmentLocator
    from server.trends.calculations import TrendRules

__all__ = ["ConfigError", "Settings", "create_app"]

JSON_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
RETRY_AFTER_STATUSES = {429, 503}
# An oversized body is read and thrown away (up to this much) before the 413 is sent:
# clients that write the whole body before reading would otherwise get a broken pipe.
DISCARD_LIMIT_BYTES = 16 * 1024 * 1024
API_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
# The API docs page (Swagger UI, vendored in server/apidocs): scripts and styles from this
# origin only, no inline script; Swagger UI's CSS draws its icons as data: SVG images.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# The counselor dashboard (server/dashboard): server-rendered pages with forms, its own
# scripts, styles and images only, nothing inline, forms that post only to itself.
DASHBOARD_PREFIX = "/dashboard"
DASHBOARD_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
)
# Same-origin referrers only: Flask-WTF checks them on form posts over HTTPS, and no
# patient id ever reaches another site.
DASHBOARD_REFERRER_POLICY = "same-origin"
log = logging.getLogger("server.requests")


class SteadyFlask(Flask):
    """Flask with a faster JSON encoder and headers settled after every extension's hook."""

    json_provider_class = FastJSONProvider
    request_class = JSONBodyRequest

    def process_response(self, response):
        """Run the after-request hooks, then keep Retry-After only where it means "wait"."""
        response = super().process_response(response)
        # Flask-Limiter adds Retry-After to every limited response, 200 and 401 included;
        # a client honouring it would wait 15 minutes after one mistyped password. It also
        # restates ours against its own window: "database down, retry in 5 s" became 56 s.
        if response.status_code not in RETRY_AFTER_STATUSES:
            response.headers.pop("Retry-After", None)
        elif g.get(RETRY_AFTER_KEY) is not None:
            response.headers["Retry-After"] = g.get(RETRY_AFTER_KEY)
        return response

    def make_default_options_response(self):
        """OPTIONS (a CORS preflight among them) answers 204 with ``Allow`` and no body."""
        response = super().make_default_options_response()
        response.status_code = 204
        del response.headers["Content-Type"]
        return response


def create_app(config: Config | dict | None = None) -> Flask:
    """Build the app; `config` is a Config instance or a mapping of overrides."""
    app = SteadyFlask(__name__, instance_relative_config=True, static_folder=None)
    os.makedirs(app.instance_path, exist_ok=True)
    settings = config if isinstance(config, Config) else config_from_env()
    settings.prepare(app.instance_path)
    app.config.from_object(settings)
    # STEADY_<KEY>=value overrides any key, e.g. STEADY_JUDGEMENT_SEVERE_SCORE=8.
    app.config.from_prefixed_env("STEADY")
    if isinstance(config, dict):
        app.config.update(config)
    app.json.sort_keys = False

    register_logging(app)
    # A bad setting raises ConfigError here, so `flask` and gunicorn refuse to start.
    register_settings(app)
    register_extensions(app)
    register_converters(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_request_hooks(app)
    register_commands(app)
    return app


# Whole-number settings checked at start-up: key -> (low, high); defaults come from Config.
WHOLE_NUMBER_SETTINGS: dict[str, tuple[int, int]] = {
    "TRUSTED_PROXY_COUNT": (0, 5),
    "SQLITE_BUSY_TIMEOUT_MS": (1, 600_000),
    "ARGON2_TIME_COST": (1, 20),
    "ARGON2_MEMORY_COST": (8, 4 * 1024 * 1024),  # KiB, and at least 8 x ARGON2_PARALLELISM
    "ARGON2_PARALLELISM": (1, 64),
    "HSTS_MAX_AGE_SECONDS": (0, 2 * 365 * 24 * 3600),
    # PostgreSQL: how long to wait for a connection, and for any one statement.
    "DATABASE_CONNECT_TIMEOUT_SECONDS": (1, 60),
    "DATABASE_STATEMENT_TIMEOUT_MS": (100, 600_000),
    "EXPORT_LEASE_SECONDS": (10, 3600),
    "PDF_RENDERS_PER_PROCESS": (1, 64),
    "CHECKIN_BATCH_MAX_BYTES": (64 * 1024, 16 * 1024 * 1024),
    # The changes feed promises clients at least 90 days to come back.
    "CHECKIN_TOMBSTONE_DAYS": (90, 3650),
    "DASHBOARD_IDLE_MINUTES": (1, 24 * 60),
    "DASHBOARD_SESSION_HOURS": (1, 7 * 24),
}
MAX_ACCESS_TOKEN_MINUTES = 24 * 60
MAX_REFRESH_TOKEN_DAYS = 365


@dataclass(frozen=True)
class Settings:
    """What the hot path needs, validated and built once: ``app.extensions["steady.settings"]``."""

    thresholds: Thresholds
    trend_rules: TrendRules
    # None when TREATMENT_LOCATOR_URL is unset: the endpoint answers with the fallback.
    locator: FindTreatmentLocator | None
    # Rate-limit strings by config key (LOGIN_LIMIT_PER_IP, ...), each one parsed once.
    limits: Mapping[str, str]
    # Wrong passwords per account, shared by sign-in and re-authentication.
    account_failures: AccountFailures
    fhir_base_url: str
    access_token_lifetime: timedelta
    refresh_token_lifetime: timedelta
    # How long an export lease lasts unless released or renewed.
    export_lease: timedelta
    # Free PDF render slots of this process (PDF_RENDERS_PER_PROCESS of them).
    pdf_render_slots: threading.BoundedSemaphore


def register_settings(app: Flask) -> None:
    """Check every setting once and keep the built objects where the hot path finds them.

    A bad value raises ConfigError naming its environment variable, its value and the rule.
    Runs before register_extensions: normalised values (ints, timedeltas) go back into
    app.config for the extensions that read it there. The shared cache is built here too,
    because the locator keeps it.
    """
    from server.assessments.judgement import Thresholds
    from server.auth.failures import AccountFailures
    from server.resources.locator import locator_from_config
    from server.trends.calculations import TrendRules

    config = app.config
    numbers = {
        key: int_setting(config, key, default=getattr(Config, key), low=low, high=high)
        for key, (low, high) in WHOLE_NUMBER_SETTINGS.items()
    }
    if numbers["ARGON2_MEMORY_COST"] < 8 * numbers["ARGON2_PARALLELISM"]:
        raise refused(
            "ARGON2_MEMORY_COST",
            config["ARGON2_MEMORY_COST"],
            f"must be at least 8 x ARGON2_PARALLELISM ({8 * numbers['ARGON2_PARALLELISM']})",
        )
    access = _token_lifetime(
        config,
        "JWT_ACCESS_TOKEN_EXPIRES",
        "ACCESS_TOKEN_MINUTES",
        "minutes",
        15,
        MAX_ACCESS_TOKEN_MINUTES,
    )
    refresh = _token_lifetime(
        config,
        "JWT_REFRESH_TOKEN_EXPIRES",
        "REFRESH_TOKEN_DAYS",
        "days",
        30,
        MAX_REFRESH_TOKEN_DAYS,
    )
    limit_keys = sorted(k for k in config if "_LIMIT_" in k or k == "LOGIN_FAILURES_PER_ACCOUNT")
    # Shared between workers through Redis; in-process only in a Redis-less set-up.
    app.extensions["steady.cache"] = cache_from_url(config.get("REDIS_URL"))
    settings = Settings(
        thresholds=Thresholds.from_config(config),
        trend_rules=TrendRules.from_config(config),
        locator=locator_from_config(config, app.extensions["steady.cache"]),
        limits=MappingProxyType({key: limit_setting(config, key) for key in limit_keys}),
        account_failures=AccountFailures.from_config(
            config, limit_setting(config, "LOGIN_FAILURES_PER_ACCOUNT")
        ),
        fhir_base_url=url_setting(config, "FHIR_BASE_URL"),
        access_token_lifetime=access,
        refresh_token_lifetime=refresh,
        export_lease=timedelta(seconds=numbers["EXPORT_LEASE_SECONDS"]),
        pdf_render_slots=threading.BoundedSemaphore(numbers["PDF_RENDERS_PER_PROCESS"]),
    )
    check_shared_rate_limits(config, os.environ)
    production = config.get("ENV_NAME") == "production"
    config["CORS_ORIGINS"] = origins_setting(config, "CORS_ORIGINS", production=production)
    same_site = config["SESSION_COOKIE_SAMESITE"]
    if same_site not in ("Lax", "Strict"):
        # Either keeps the dashboard's cookie off other sites' requests.
        raise refused("SESSION_COOKIE_SAMESITE", same_site, 'must be "Lax" or "Strict"')
    config.update(numbers)
    config["JWT_ACCESS_TOKEN_EXPIRES"] = access
    config["JWT_REFRESH_TOKEN_EXPIRES"] = refresh
    app.extensions["steady.settings"] = settings
    proxies = numbers["TRUSTED_PROXY_COUNT"]
    if proxies:
        # Behind a load balancer, rate limits must key on the real client address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)


def _token_lifetime(
    config: Mapping[str, Any], jwt_key: str, key: str, unit: str, default: int, high: int
) -> timedelta:
    """An explicit JWT_*_EXPIRES (timedelta or seconds) wins; else whole ``unit``s of ``key``."""
    if config.get(jwt_key) is not None:
        return duration_setting(config, jwt_key, high=timedelta(**{unit: high}))
    return timedelta(**{unit: int_setting(config, key, default=default, low=1, high=high)})


def register_logging(app: Flask) -> None:
    """Send the app's own log lines (never bodies or personal data) to stderr."""
    logger = logging.getLogger("server")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))


def register_extensions(app: Flask) -> None:
    """Bind the extensions to this app."""
    from server import models  # noqa: F401  (every table must be mapped first)
    from server.auth.tokens import register_jwt_callbacks

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", postgres_engine_options(app.config))
    # Imported here, not at module level: `server.db` must stay the module.
    from server.extensions import db

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(
                db.engine,
                app.config["SQLITE_BUSY_TIMEOUT_MS"],
                strict_writes=bool(app.config.get("SQLITE_STRICT_WRITES")),
            )
    migrate.init_app(app, db)
    jwt.init_app(app)
    csrf.init_app(app)
    register_jwt_callbacks(app)
    limiter.init_app(app)
    init_cors(app, app.config["CORS_ORIGINS"])
    api.init_app(
        app,
        spec_kwargs={
            "marshmallow_plugin": ClientFriendlyMarshmallowPlugin(),
            "extra_plugins": [ServiceUnavailablePlugin()],
            # Relative: resolved against wherever the spec was fetched from, so one
            # committed spec serves every deployment (paths carry the /api/v1 prefix).
            "servers": [{"url": "/", "description": "The server this spec was fetched from"}],
            "info": {
                "description": "Steady is a self-report aid, not a diagnosis. Errors are "
                "RFC 9457 problem details (application/problem+json)."
            },
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
        },
    )


def postgres_engine_options(config: Mapping[str, Any]) -> dict:
    """Pool and connection settings that make a hung or unreachable PostgreSQL a fast 503."""
    statement_ms = config["DATABASE_STATEMENT_TIMEOUT_MS"]
    return {
        "pool_pre_ping": True,
        # Waiting for a free pooled connection is bounded like everything else.
        "pool_timeout": config["DATABASE_CONNECT_TIMEOUT_SECONDS"],
        "connect_args": {
            "connect_timeout": config["DATABASE_CONNECT_TIMEOUT_SECONDS"],
            # The server ends a statement (or a wait for a lock) that runs too long; a
            # transaction left open by a dead worker cannot hold locks for ever.
            "options": f"-c statement_timeout={statement_ms} -c lock_timeout={statement_ms}"
            f" -c idle_in_transaction_session_timeout={statement_ms * 4}",
            # A peer that vanished (no ACKs) drops the connection instead of hanging it.
            "tcp_user_timeout": statement_ms,
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 2,
        },
    }


def register_converters(app: Flask) -> None:
    """URL converters, documented in the spec with their formats."""
    from server.checkins.routes import NOT_DAYS
    from server.common.dates import day_converter

    converter = day_converter(NOT_DAYS)
    app.url_map.converters["day"] = converter
    api.register_converter(converter, lambda _converter: {"type": "string", "format": "date"})


def register_blueprints(app: Flask) -> None:
    """Register every feature's routes, in one explicit list."""
    from server.accounts.routes import bp as accounts_bp
    from server.alerts.routes import bp as alerts_bp
    from server.apidocs.routes import bp as apidocs_bp
    from server.audit.routes import bp as access_log_bp
    from server.auth.routes import bp as auth_bp
    from server.checkins.routes import bp as checkins_bp
    from server.checkins.routes import status_bp
    from server.episodes.routes import bp as episodes_bp
    from server.exports.routes import bp as exports_bp
    from server.health.routes import bp as health_bp
    from server.instruments.routes import bp as instruments_bp
    from server.instruments.routes import counselor_bp as patient_instruments_bp
    from server.instruments.routes import observations_bp
    from server.patients.routes import bp as patients_bp
    from server.resources.routes import bp as resources_bp
    from server.sharing.routes import bp as shares_bp
    from server.trends.routes import bp as trends_bp

    for blueprint in (
        health_bp,
        auth_bp,
        accounts_bp,
        checkins_bp,
        status_bp,
        episodes_bp,
        trends_bp,
        resources_bp,
        shares_bp,
        patients_bp,
        instruments_bp,
        observations_bp,
        patient_instruments_bp,
        alerts_bp,
        access_log_bp,
        exports_bp,
    ):
        api.register_blueprint(blueprint)
    # Not an API operation, so not in the spec: a plain Flask blueprint.
    docs_path = f"{app.config['OPENAPI_URL_PREFIX']}/{app.config['OPENAPI_SWAGGER_UI_PATH']}"
    app.register_blueprint(apidocs_bp, url_prefix=docs_path)

    # Web pages, not API operations: outside the OpenAPI document.
    from server.dashboard.routes import bp as dashboard_bp

    app.register_blueprint(dashboard_bp)


def register_request_hooks(app: Flask) -> None:
    """Request ids, JSON-only bodies, no caching of personal data, safe access logs."""
    body_limit = app.config["MAX_CONTENT_LENGTH"]
    docs_prefix = f"{app.config['OPENAPI_URL_PREFIX']}/{app.config['OPENAPI_SWAGGER_UI_PATH']}"
    hsts_seconds = app.config["HSTS_MAX_AGE_SECONDS"]
    hsts = f"max-age={hsts_seconds}; includeSubDomains" if hsts_seconds else None

    @app.before_request
    def start_request():
        g.request_id = uuid.uuid4().hex
        g.started = time.perf_counter()
        chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
        if not (request.content_length or chunked):
            return None
        limit = body_limit_of_request(app, body_limit)
        request.max_content_length = limit
        if _body_too_large(limit, chunked):
            return body_too_large(limit)
        if _is_dashboard(request.path):
            return None  # HTML forms; the dashboard checks their CSRF tokens
        if request.method in JSON_BODY_METHODS and not request.is_json:
            return problem_response(
                415, "Send the body as application/json.", slug="unsupported-media-type"
            )
        return None

    @app.errorhandler(RequestEntityTooLarge)
    def refuse_large_body(_error):
        return body_too_large(request.max_content_length or body_limit)

    @app.after_request
    def finish_request(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        response.headers.setdefault("Cache-Control", "no-store")
        for name, value in API_SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.path.startswith(docs_prefix):
            response.headers["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
        elif _is_dashboard(request.path):
            response.headers["Content-Security-Policy"] = DASHBOARD_CONTENT_SECURITY_POLICY
            response.headers["Referrer-Policy"] = DASHBOARD_REFERRER_POLICY
        if hsts:
            response.headers["Strict-Transport-Security"] = hsts
        # Method, route pattern and status only: paths and bodies can carry personal data.
        rule = request.url_rule.rule if request.url_rule else "<unmatched>"
        elapsed_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        log.info("%s %s %s %.1fms", request.method, rule, response.status_code, elapsed_ms)
        return response


def _is_dashboard(path: str) -> bool:
    """Tell whether a path is one of the dashboard's pages or files."""
    return path == DASHBOARD_PREFIX or path.startswith(DASHBOARD_PREFIX + "/")


def _body_too_large(limit: int, chunked: bool) -> bool:
    """Tell whether the body is over the limit; a chunked body is read to find out."""
    if not chunked:
        return (request.content_length or 0) > limit
    # Werkzeug stops reading a chunked body at the limit and hands on the truncated
    # bytes, so a byte beyond them is the only sign that the body was too large.
    body = request.get_data(cache=True)
    return len(body) >= limit and bool(request.environ["wsgi.input"].read(1))


def body_too_large(limit: int):
    """413, after reading and discarding what is left of the body (up to a bound)."""
    stream = request.environ["wsgi.input"]
    length = request.content_length
    left = DISCARD_LIMIT_BYTES if length is None else min(length, DISCARD_LIMIT_BYTES)
    try:
        while left > 0:
            chunk = stream.read(min(64 * 1024, left))
            if not chunk:
                break
            left -= len(chunk)
    except OSError:
        pass  # the client went away; the answer below is all that is left to do
    return problem_response(
        413,
        f"The request body is larger than the limit of {limit} bytes.",
        slug="payload-too-large",
    )


def register_commands(app: Flask) -> None:
    """Register CLI commands."""

    @app.cli.command("sync-resources")
    def sync_resources():
        """Make the resources table match server/resources/catalogue.json."""
        from server.extensions import db
        from server.resources.service import sync_catalogue

        # A writing transaction, so on SQLite it waits its turn behind the workers' writes.
        with db.engine.execution_options(**{WRITE_OPTION: True}).begin() as connection:
            sync_catalogue(connection)

    @app.cli.command("prune-tombstones")
    def prune_tombstones():
        """Forget deleted check-in days older than CHECKIN_TOMBSTONE_DAYS (run it daily)."""
        import click

        from server.checkins import service as checkins

        days = app.config["CHECKIN_TOMBSTONE_DAYS"]
        forgotten = checkins.prune_tombstones(keep_days=days)
        click.echo(f"{forgotten} tombstones forgotten (deletions of the last {days} days kept)")
