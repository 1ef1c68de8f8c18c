"""Fixtures: a real migrated database (SQLite file or PostgreSQL), clients and factories."""

import contextlib
import os
import uuid

import pytest
import redis
from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, text

from server import create_app
from server.config import TestConfig
from server.extensions import db, limiter
from server.resources.service import sync_catalogue
from tests.factories import Factory


def _own_database_per_worker() -> None:
    """Under pytest-xdist, give each worker its own PostgreSQL database and Redis database.

    Workers wipe tables and reset rate limits between tests, so sharing either would let
    one worker's clean-up land in the middle of another's test.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, ...
    if not worker:
        return
    number = int(worker.removeprefix("gw"))
    if postgres := os.environ.get("DATABASE_URL"):
        url = make_url(postgres)
        own = url.set(database=f"{url.database}_{worker}")
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own.database}
            ).scalar()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{own.database}"'))
        engine.dispose()
        os.environ["DATABASE_URL"] = own.render_as_string(hide_password=False)
    if redis_url := os.environ.get("REDIS_URL"):
        url = make_url(redis_url)
        base = int(url.database or 0)
        os.environ["REDIS_URL"] = url.set(database=str(base + 1 + number)).render_as_string(
            hide_password=False
        )


_own_database_per_worker()
POSTGRES_URL = os.environ.get("DATABASE_URL")
REDIS_URL = os.environ.get("REDIS_URL")


def _reset_postgres_schema(url: str) -> None:
    """Start the session from an empty PostgreSQL schema so migrations run from zero."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """URL of the database this test session owns, migrated to head."""
    if POSTGRES_URL:
        _reset_postgres_schema(POSTGRES_URL)
        url = POSTGRES_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'steady-test.db'}"
    return url


def make_test_app(database_url: str, **overrides):
    """Build an app on the test database with optional config overrides."""
    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = database_url
    config.REDIS_URL = REDIS_URL
    # A fresh key prefix per app keeps rate-limit counters from leaking between tests.
    config.RATELIMIT_KEY_PREFIX = f"steady-test-{uuid.uuid4().hex}"
    for key, value in overrides.items():
        setattr(config, key, value)
    return create_app(config)


@pytest.fixture(scope="session")
def migrated(database_url):
    """Run the migrations once for the session."""
    app = make_test_app(database_url)
    with app.app_context():
        upgrade(directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
    return database_url


@pytest.fixture(scope="session")
def _session_app(migrated):
    """One app for the session; tests needing other settings use app_factory."""
    return make_test_app(migrated)


def _empty_all_tables(app) -> None:
    """Delete every row so each test starts from the migrated, seeded state."""
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
            sync_catalogue(connection)
        db.session.remove()


@pytest.fixture
def app(_session_app):
    """The app, with an empty database after the test."""
    yield _session_app
    _empty_all_tables(_session_app)
    with _session_app.app_context():
        limiter.reset()


@pytest.fixture
def app_factory(migrated):
    """Build apps with config overrides; their data is wiped afterwards."""
    built = []

    def build(**overrides):
        built.append(make_test_app(migrated, **overrides))
        return built[-1]

    yield build
    if any(built_app.config["REDIS_URL"] != REDIS_URL for built_app in built):
        # The limiter is one object whose storage is that of the app built last: point it
        # back at the suite's storage after an app with a deliberately unreachable Redis.
        built.append(make_test_app(migrated))
        limiter._storage_dead = False
    for built_app in built:
        if built_app.config["SQLALCHEMY_DATABASE_URI"] != migrated:
            continue  # an app pointed at a deliberately broken database
        _empty_all_tables(built_app)
        with built_app.app_context(), contextlib.suppress(redis.RedisError):
            limiter.reset()  # a test may have stopped its own Redis on purpose


@pytest.fixture
def client(app):
    """A test client, like the phone."""
    return app.test_client()


@pytest.fixture
def factory(app, client) -> Factory:
    """Builders for users, sessions and check-ins through the API."""
    return Factory(app, client)
