"""Steady: the API behind a symptom tracker for opioid withdrawal."""

import logging
import os
import time
import uuid

from flask import Flask, g, request
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from server.common.cache import cache_from_url
from server.config import Config, config_from_env
from server.errors import problem_response, register_error_handlers
from server.extensions import api, jwt, limiter, migrate

JSON_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
log = logging.getLogger("server.requests")


def create_app(config: Config | dict | None = None) -> Flask:
    """Build the app; `config` is a Config instance or a mapping of overrides."""
    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    os.makedirs(app.instance_path, exist_ok=True)
    settings = config if isinstance(config, Config) else config_from_env()
    settings.prepare(app.instance_path)
    app.config.from_object(settings)
    # STEADY_<KEY>=value overrides any key, e.g. STEADY_JUDGEMENT_SEVERE_SCORE=8.
    app.config.from_prefixed_env("STEADY")
    if isinstance(config, dict):
        app.config.update(config)
    app.json.sort_keys = False
    proxies = int(app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if proxies:
        # Behind a load balancer, rate limits must key on the real client address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    register_logging(app)
    register_extensions(app)
    register_converters(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_request_hooks(app)
    register_commands(app)
    return app


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
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    # Imported here, not at module level: `server.db` must stay the module.
    from server.extensions import db

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    migrate.init_app(app, db)
    jwt.init_app(app)
    register_jwt_callbacks(app)
    limiter.init_app(app)
    # Shared between workers through Redis; in-process only in a Redis-less dev setup.
    app.extensions["steady.cache"] = cache_from_url(app.config.get("REDIS_URL"))
    api.init_app(
        app,
        spec_kwargs={
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


def configure_sqlite(engine, busy_timeout_ms: int) -> None:
    """Make SQLite safe for concurrent requests: WAL, FKs, and writers that queue."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Take transaction control from pysqlite so we can BEGIN IMMEDIATE ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        # A deferred read-then-write transaction fails at once with "database is
        # locked"; IMMEDIATE takes the write lock up front and honours busy_timeout.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def register_converters(app: Flask) -> None:
    """URL converters, documented in the spec with their formats."""
    from server.common.dates import DayConverter

    app.url_map.converters["day"] = DayConverter
    api.register_converter(DayConverter, lambda _converter: {"type": "string", "format": "date"})


def register_blueprints(app: Flask) -> None:
    """Register every feature's routes, in one explicit list."""
    from server.accounts.routes import bp as accounts_bp
    from server.alerts.routes import bp as alerts_bp
    from server.assessments.routes import bp as status_bp
    from server.audit.routes import bp as access_log_bp
    from server.auth.routes import bp as auth_bp
    from server.checkins.routes import bp as checkins_bp
    from server.exports.routes import bp as exports_bp
    from server.health.routes import bp as health_bp
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
        trends_bp,
        resources_bp,
        shares_bp,
        patients_bp,
        alerts_bp,
        access_log_bp,
        exports_bp,
    ):
        api.register_blueprint(blueprint)


def register_request_hooks(app: Flask) -> None:
    """Request ids, JSON-only bodies, no caching of personal data, safe access logs."""

    @app.before_request
    def start_request():
        g.request_id = uuid.uuid4().hex
        g.started = time.perf_counter()
        has_body = request.content_length or request.headers.get("Transfer-Encoding")
        if request.method in JSON_BODY_METHODS and has_body and not request.is_json:
            return problem_response(
                415, "Send the body as application/json.", slug="unsupported-media-type"
            )
        return None

    @app.after_request
    def finish_request(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Method, route pattern and status only: paths and bodies can carry personal data.
        rule = request.url_rule.rule if request.url_rule else "<unmatched>"
        elapsed_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        log.info("%s %s %s %.1fms", request.method, rule, response.status_code, elapsed_ms)
        return response


def register_commands(app: Flask) -> None:
    """Register CLI commands."""

    @app.cli.command("sync-resources")
    def sync_resources():
        """Make the resources table match server/resources/catalogue.json."""
        from server.extensions import db
        from server.resources.service import sync_catalogue

        with db.engine.begin() as connection:
            sync_catalogue(connection)
