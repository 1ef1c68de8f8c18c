"""No log line carries a password, token, score or note; production refuses weak secrets."""

import logging
from datetime import date

import pytest

from server import create_app
from server.config import DevelopmentConfig, ProductionConfig

NOTE = "canary-note-d41e"
PASSWORD = "canary-password-5b"


def test_logs_never_hold_health_data_or_secrets(client, factory, caplog):
    caplog.set_level(logging.DEBUG)
    client.post(
        "/api/v1/auth/register",
        json={
            "email": "log@example.org",
            "password": PASSWORD,
            "role": "patient",
            "display_name": "L",
        },
    )
    tokens = client.post(
        "/api/v1/auth/login", json={"email": "log@example.org", "password": PASSWORD}
    ).json
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    body = {"nausea": 7, "aches": 6, "anxiety": 9, "insomnia": 8, "note": NOTE, "crisis": True}
    client.put(f"/api/v1/checkins/{date.today()}", json=body, headers=headers)
    client.put(f"/api/v1/checkins/{date.today()}", json={**body, "nausea": "bad"}, headers=headers)
    client.post("/api/v1/auth/login", json={"email": "log@example.org", "password": "wrong-one"})
    client.post(
        "/api/v1/auth/refresh", headers={"Authorization": f"Bearer {tokens['refresh_token']}"}
    )
    client.post(
        "/api/v1/auth/refresh", headers={"Authorization": f"Bearer {tokens['refresh_token']}"}
    )

    logged = caplog.text
    assert "PUT /api/v1/checkins/<day:date> 201" in logged  # requests are logged...
    for secret in (NOTE, PASSWORD, "wrong-one", tokens["access_token"], tokens["refresh_token"]):
        assert secret not in logged  # ...but never what was in them
    assert "log@example.org" not in logged
    assert "crisis" not in logged.lower()


def test_production_refuses_missing_default_or_short_secrets(tmp_path):
    for secret in (None, "", "changeme", "x" * 31):
        config = ProductionConfig()
        config.SECRET_KEY = config.JWT_SECRET_KEY = secret
        with pytest.raises(RuntimeError, match="at least 32 bytes"):
            create_app(config)
    strong = ProductionConfig()
    strong.SECRET_KEY = strong.JWT_SECRET_KEY = "s" * 48
    strong.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'prod.db'}"
    app = create_app(strong)
    assert not app.debug and not app.testing


def test_development_secret_survives_a_restart(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    first, second = DevelopmentConfig(), DevelopmentConfig()
    first.SECRET_KEY = first.JWT_SECRET_KEY = second.SECRET_KEY = second.JWT_SECRET_KEY = None
    first.prepare(str(tmp_path))
    second.prepare(str(tmp_path))
    assert first.JWT_SECRET_KEY == second.JWT_SECRET_KEY
    assert len(first.JWT_SECRET_KEY) >= 32
    assert (tmp_path / "dev-secret-key").stat().st_mode & 0o077 == 0


def test_personal_responses_are_not_cached(client, factory):
    patient = factory.patient()
    response = client.get("/api/v1/me", headers=patient.headers)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Request-ID"]


def test_rate_limits_key_on_the_real_client_behind_trusted_proxies(app_factory):
    app = app_factory(TRUSTED_PROXY_COUNT=1, LOGIN_LIMIT_PER_IP="1 per minute")
    client = app.test_client()
    body = {"email": "nobody@example.org", "password": "whatever"}
    first = {"X-Forwarded-For": "203.0.113.1"}
    second = {"X-Forwarded-For": "203.0.113.2"}
    assert client.post("/api/v1/auth/login", json=body, headers=first).status_code == 401
    assert client.post("/api/v1/auth/login", json=body, headers=first).status_code == 429
    assert client.post("/api/v1/auth/login", json=body, headers=second).status_code == 401
