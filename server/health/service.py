"""Probes of the process's dependencies, each bounded so a hung one cannot hang the probe."""

from flask import current_app
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from server.common.cache import RedisCache
from server.extensions import db

PROBE_TIMEOUT_SECONDS = 2
PROBE_ENGINE = "steady.probe_engine"


def _probe_engine():
    """PostgreSQL: a pool-less engine, so each probe opens a connection with short timeouts.

    A pooled connection to a server that hangs mid-session would hang the probe; a new
    connection is bounded by connect_timeout, and its statement by statement_timeout.
    """
    app = current_app
    if PROBE_ENGINE not in app.extensions:
        app.extensions[PROBE_ENGINE] = create_engine(
            db.engine.url,
            poolclass=NullPool,
            connect_args={
                "connect_timeout": PROBE_TIMEOUT_SECONDS,
                "options": f"-c statement_timeout={PROBE_TIMEOUT_SECONDS * 1000}",
            },
        )
    return app.extensions[PROBE_ENGINE]


def database_ok() -> bool:
    """Tell whether the database answers a trivial query."""
    try:
        if db.engine.dialect.name == "postgresql":
            with _probe_engine().connect() as connection:
                connection.execute(text("SELECT 1"))
        else:
            db.session.execute(text("SELECT 1"))
            db.session.rollback()
    except SQLAlchemyError:
        db.session.rollback()
        return False
    return True


def redis_state() -> str:
    """'ok', 'degraded' (configured but not answering: limits are per process) or 'off'."""
    cache = current_app.extensions["steady.cache"]
    if not isinstance(cache, RedisCache):
        return "off"
    return "ok" if cache.ping() else "degraded"


def readiness() -> dict:
    """Each dependency's state; ready while the database answers."""
    database = "ok" if database_ok() else "unavailable"
    redis = redis_state()
    ready = database == "ok"
    status = ("ok" if redis != "degraded" else "degraded") if ready else "unavailable"
    return {"status": status, "database": database, "redis": redis}
