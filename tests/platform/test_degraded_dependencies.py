"""Redis down or hung, and a database that never answers: fast, clean answers, never a hang."""

import logging
import os
import time
import uuid

import pytest
import redis

from tests.factories import PASSWORD
from tests.platform.test_errors import assert_problem
from tests.services import PrivateRedis, SilentServer, answers_within

# Generous: a hang is "until gunicorn kills the worker" (30 s); a fast failure is ~0.5 s.
HANG = 8
BODY = {"nausea": 2, "aches": 3, "anxiety": 1, "insomnia": 4}


@pytest.fixture
def private_redis():
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_app(app_factory, private_redis):
    """An app whose limits and cache live in the private Redis, with a tight login limit."""
    return app_factory(REDIS_URL=private_redis.url, LOGIN_LIMIT_PER_IP="5 per minute")


def sign_up(client, role="patient"):
    email = f"{uuid.uuid4().hex[:10]}@example.org"
    body = {"email": email, "password": PASSWORD, "role": role, "display_name": "Sam"}
    registered = client.post("/api/v1/auth/register", json=body)
    assert registered.status_code == 201, registered.json
    return email


def login(client, email, password=PASSWORD):
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


def use_the_api(client, email) -> None:
    """Sign in, log a day, read trends, export: what a patient does on a bad day."""
    signed_in = login(client, email)
    assert signed_in.status_code == 200, signed_in.json
    headers = {"Authorization": f"Bearer {signed_in.json['access_token']}"}
    put = client.put("/api/v1/checkins/2026-11-30", json=BODY, headers=headers)
    assert put.status_code in (200, 201), put.json
    assert client.get("/api/v1/trends", headers=headers).status_code == 200
    assert client.get("/api/v1/export", headers=headers).status_code == 200
    locator = client.get("/api/v1/resources/treatment?postal_code=62701")
    assert locator.status_code == 200, locator.json


def test_with_redis_down_every_endpoint_works_and_limits_still_hold(
    redis_app, private_redis, caplog
):
    client = redis_app.test_client()
    email = sign_up(client)
    private_redis.stop()
    with caplog.at_level(logging.WARNING):
        sign_up(client)
        use_the_api(client, email)
        use_the_api(client, email)
    # Login allows 5 a minute per address: 2 above, then 3 more, then the limit, kept in
    # this process's memory while Redis is away.
    statuses = [login(client, email).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    # One line per outage and component (limits, cache), not one per request.
    assert len(warnings) <= 3, [r.getMessage() for r in warnings]
    assert all("Traceback" not in r.getMessage() for r in warnings)


def test_with_redis_hung_login_answers_at_once_not_after_the_worker_timeout(
    redis_app, private_redis
):
    client = redis_app.test_client()
    email = sign_up(client)
    private_redis.freeze()
    try:
        assert answers_within(HANG, lambda: login(client, email)).status_code == 200
        assert answers_within(HANG, lambda: use_the_api(client, email)) is None
        ready = answers_within(HANG, lambda: client.get("/readyz"))
    finally:
        private_redis.thaw()
    assert ready.status_code == 200
    assert ready.json == {"status": "degraded", "database": "ok", "redis": "degraded"}


def test_limits_go_back_to_redis_by_themselves(redis_app, private_redis):
    client = redis_app.test_client()
    email = sign_up(client)
    private_redis.stop()
    assert login(client, email).status_code == 200  # counted in memory
    private_redis.start()
    direct = redis.Redis.from_url(private_redis.url)
    # Flask-Limiter re-checks a dead storage with a backoff (1, 2, 4... seconds).
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not direct.keys("*login*"):
        assert login(client, email).status_code in (200, 429)
        time.sleep(0.25)
    assert direct.keys("*login*"), "login limits never returned to Redis"
    assert client.get("/readyz").json["redis"] == "ok"


def test_readyz_reports_each_dependency(redis_app, private_redis):
    client = redis_app.test_client()
    assert client.get("/readyz").json == {"status": "ok", "database": "ok", "redis": "ok"}
    private_redis.stop()
    response = client.get("/readyz")
    assert response.status_code == 200  # Redis is optional: still ready
    assert response.json == {"status": "degraded", "database": "ok", "redis": "degraded"}


@pytest.fixture
def hung_database(app_factory):
    server = SilentServer()
    app = app_factory(
        SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:{server.port}/steady",
        DATABASE_CONNECT_TIMEOUT_SECONDS=1,
    )
    yield app
    server.close()


def test_a_hung_database_is_a_fast_503_for_readyz(hung_database):
    client = hung_database.test_client()
    response = answers_within(HANG, lambda: client.get("/readyz"))
    problem = assert_problem(response, 503)
    assert problem["database"] == "unavailable"
    assert response.headers["Retry-After"] == "5"
    assert client.get("/healthz").status_code == 200  # the process itself is fine


def test_a_hung_database_is_a_fast_503_for_requests(hung_database, factory):
    client = hung_database.test_client()
    headers = factory.patient().headers  # a real token, minted against the real database
    for call in (
        lambda: client.put("/api/v1/checkins/2026-11-30", json=BODY, headers=headers),
        lambda: login(client, "someone@example.org"),
    ):
        response = answers_within(HANG, call)
        assert_problem(response, 503)
        # Ours, not Flask-Limiter's restatement against the login limit's window.
        assert response.headers["Retry-After"] == "5"


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgresql"), reason="PostgreSQL only"
)
def test_a_statement_stuck_behind_a_lock_is_a_503_not_a_hang(app_factory, factory):
    from sqlalchemy import create_engine, text

    app = app_factory(DATABASE_STATEMENT_TIMEOUT_MS=500)
    client = app.test_client()
    patient = factory.patient()
    assert (
        client.put("/api/v1/checkins/2026-11-30", json=BODY, headers=patient.headers).status_code
        == 201
    )
    blocker = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with blocker.connect() as connection:
        connection.execute(text("BEGIN"))
        connection.execute(text("SELECT 1 FROM checkins FOR UPDATE"))
        response = answers_within(
            HANG,
            lambda: client.put(
                "/api/v1/checkins/2026-11-30", json={**BODY, "nausea": 9}, headers=patient.headers
            ),
        )
        connection.execute(text("ROLLBACK"))
    blocker.dispose()
    assert_problem(response, 503)
    assert response.headers["Retry-After"] == "5"
    stored = client.get("/api/v1/checkins/2026-11-30", headers=patient.headers)
    assert stored.json["nausea"] == 2  # the refused write left nothing half-done
