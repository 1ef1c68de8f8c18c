"""Sign-up, sign-in, refresh rotation, reuse detection and logout through the API."""

import base64
import json
from datetime import timedelta

import pytest
import time_machine

from tests.factories import PASSWORD


def register(client, **overrides):
    body = {
        "email": "Sam@Example.org",
        "password": "long enough pw",
        "role": "patient",
        "display_name": "Sam",
        **overrides,
    }
    return client.post("/api/v1/auth/register", json=body)


def test_register_returns_user_without_secrets(client):
    response = register(client, timezone="Europe/Dublin", region="IE")
    assert response.status_code == 201
    user = response.json
    assert user["email"] == "sam@example.org"
    assert (user["role"], user["timezone"], user["region"]) == ("patient", "Europe/Dublin", "IE")
    assert not {"password", "password_hash"} & set(user)


def test_register_defaults_timezone_and_region(client):
    user = register(client).json
    assert (user["timezone"], user["region"]) == ("UTC", "US")


def test_duplicate_email_is_409_case_insensitively(client):
    assert register(client).status_code == 201
    duplicate = register(client, email="SAM@example.ORG")
    assert duplicate.status_code == 409
    assert duplicate.content_type == "application/problem+json"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password": "short"}, "password"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"region": "XX"}, "region"),
        ({"region": "us"}, "region"),
        ({"role": "admin"}, "role"),
        ({"email": "not-an-email"}, "email"),
        ({"display_name": ""}, "display_name"),
        ({"is_admin": True}, "is_admin"),
    ],
)
def test_register_rejects_bad_fields(client, overrides, field):
    response = register(client, **overrides)
    assert response.status_code == 422
    assert list(response.json["errors"]) == [field]


def test_stored_password_is_argon2id(app, client):
    from sqlalchemy import select

    from server.auth.models import User
    from server.extensions import db

    register(client)
    with app.app_context():
        stored = db.session.scalar(select(User.password_hash))
    assert stored.startswith("$argon2id$")
    assert "long enough pw" not in stored


def test_login_returns_bearer_pair(client, factory):
    person = factory.patient(login=False)
    response = client.post(
        "/api/v1/auth/login", json={"email": person.email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response.json["token_type"] == "Bearer"
    assert response.json["expires_in"] == 15 * 60
    assert (
        client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {response.json['access_token']}"}
        ).status_code
        == 200
    )


def test_wrong_password_and_unknown_email_look_the_same(client, factory):
    person = factory.patient(login=False)
    wrong_password = client.post(
        "/api/v1/auth/login", json={"email": person.email, "password": "nope nope nope"}
    )
    unknown_email = client.post(
        "/api/v1/auth/login", json={"email": "ghost@example.org", "password": "nope nope nope"}
    )
    assert wrong_password.status_code == unknown_email.status_code == 401
    strip = lambda body: {k: v for k, v in body.items() if k != "request_id"}  # noqa: E731
    assert strip(wrong_password.json) == strip(unknown_email.json)


def test_login_failures_are_limited_per_account(app_factory):
    app = app_factory(LOGIN_FAILURES_PER_ACCOUNT="3 per minute")
    client = app.test_client()
    client.post(
        "/api/v1/auth/register",
        json={
            "email": "a@example.org",
            "password": PASSWORD,
            "role": "patient",
            "display_name": "A",
        },
    )
    statuses = [
        client.post(
            "/api/v1/auth/login", json={"email": "a@example.org", "password": "wrong password"}
        ).status_code
        for _ in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    limited = client.post(
        "/api/v1/auth/login", json={"email": "a@example.org", "password": PASSWORD}
    )
    assert limited.status_code == 429
    assert limited.content_type == "application/problem+json"
    assert int(limited.headers["Retry-After"]) > 0
    # Another account from the same address is not locked out by this one.
    other = client.post(
        "/api/v1/auth/login", json={"email": "b@example.org", "password": "wrong password"}
    )
    assert other.status_code == 401


def test_login_is_limited_per_ip(app_factory):
    app = app_factory(LOGIN_LIMIT_PER_IP="2 per minute")
    client = app.test_client()
    statuses = [
        client.post(
            "/api/v1/auth/login", json={"email": f"{n}@example.org", "password": "x"}
        ).status_code
        for n in range(3)
    ]
    assert statuses == [401, 401, 429]


def test_retry_after_is_only_sent_with_a_refusal(app_factory):
    client = app_factory(LOGIN_LIMIT_PER_IP="1 per minute").test_client()
    body = {"email": "a@example.org", "password": "wrong password"}
    wrong = client.post("/api/v1/auth/login", json=body)
    limited = client.post("/api/v1/auth/login", json=body)
    assert (wrong.status_code, limited.status_code) == (401, 429)
    assert "Retry-After" not in wrong.headers
    assert int(limited.headers["Retry-After"]) > 0


def test_refresh_rotates_and_reuse_revokes_the_session(client, factory):
    person = factory.patient()
    first = client.post("/api/v1/auth/refresh", headers=person.refresh_headers)
    assert first.status_code == 200
    new_pair = first.json
    assert new_pair["refresh_token"] != person.tokens["refresh_token"]
    new_headers = {"Authorization": f"Bearer {new_pair['access_token']}"}
    assert client.get("/api/v1/me", headers=new_headers).status_code == 200

    replay = client.post("/api/v1/auth/refresh", headers=person.refresh_headers)
    assert replay.status_code == 401
    # Every token descended from that login is now dead.
    assert client.get("/api/v1/me", headers=new_headers).status_code == 401
    assert client.get("/api/v1/me", headers=person.headers).status_code == 401
    successor = {"Authorization": f"Bearer {new_pair['refresh_token']}"}
    assert client.post("/api/v1/auth/refresh", headers=successor).status_code == 401


def test_reuse_in_one_session_leaves_other_sessions_alone(client, factory):
    person = factory.patient()
    other_device = factory.login(person.email)
    client.post("/api/v1/auth/refresh", headers=person.refresh_headers)
    client.post("/api/v1/auth/refresh", headers=person.refresh_headers)
    headers = {"Authorization": f"Bearer {other_device['access_token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_logout_kills_access_and_refresh_at_once(client, factory):
    person = factory.patient()
    assert client.post("/api/v1/auth/logout", headers=person.headers).status_code == 204
    assert client.get("/api/v1/me", headers=person.headers).status_code == 401
    assert client.post("/api/v1/auth/refresh", headers=person.refresh_headers).status_code == 401


def test_revocation_is_shared_by_every_worker(app_factory, factory, client):
    person = factory.patient()
    other_worker = app_factory().test_client()  # a separate app, as another process would be
    assert other_worker.get("/api/v1/me", headers=person.headers).status_code == 200
    client.post("/api/v1/auth/logout", headers=person.headers)
    assert other_worker.get("/api/v1/me", headers=person.headers).status_code == 401


def test_refresh_token_is_not_an_access_token_and_vice_versa(client, factory):
    person = factory.patient()
    assert client.get("/api/v1/me", headers=person.refresh_headers).status_code == 401
    assert client.post("/api/v1/auth/refresh", headers=person.headers).status_code == 401


def test_expired_access_token_is_401(client, factory):
    person = factory.patient()
    with time_machine.travel(timedelta(minutes=16)):
        response = client.get("/api/v1/me", headers=person.headers)
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_tampered_and_alg_none_tokens_are_401(client, factory):
    person = factory.patient()
    header, payload, signature = person.tokens["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    other = factory.patient()
    claims["sub"] = other.id
    tampered = f"{header}.{_b64(claims)}.{signature}"
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    for token in (tampered, unsigned, "garbage", person.tokens["access_token"] + "x"):
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
        assert response.json["type"] == "urn:steady:problem:unauthorized"


def test_token_in_query_string_is_ignored(client, factory):
    person = factory.patient()
    response = client.get(f"/api/v1/me?jwt={person.tokens['access_token']}")
    assert response.status_code == 401
