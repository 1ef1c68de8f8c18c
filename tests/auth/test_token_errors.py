"""Token failures a client can act on: expired says so, everything else does not say why."""

from datetime import UTC, datetime, timedelta

import jwt as pyjwt
import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from server.extensions import BearerSchemeAnyCase
from tests.factories import PASSWORD

NO_TOKEN = 'Bearer realm="steady"'
INVALID_TOKEN = 'Bearer realm="steady", error="invalid_token"'
ACCESS_EXPIRED = (
    'Bearer realm="steady", error="invalid_token", error_description="The access token expired"'
)
REFRESH_EXPIRED = (
    'Bearer realm="steady", error="invalid_token", error_description="The refresh token expired"'
)


def assert_401(response, problem: str, challenge: str) -> dict:
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    assert response.json["type"] == f"urn:steady:problem:{problem}"
    assert response.headers["WWW-Authenticate"] == challenge
    return response.json


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_expired_access_token_says_so(client, factory):
    person = factory.patient()
    with time_machine.travel(timedelta(minutes=16)):
        response = client.get("/api/v1/me", headers=person.headers)
        body = assert_401(response, "token-expired", ACCESS_EXPIRED)
        assert "refresh" in body["detail"]
        # The quiet way out works: the refresh token is still good.
        renewed = client.post("/api/v1/auth/refresh", headers=person.refresh_headers)
        assert renewed.status_code == 200
        again = client.get("/api/v1/me", headers=bearer(renewed.json["access_token"]))
        assert again.status_code == 200


def test_expired_refresh_token_says_so_on_the_refresh_endpoint(client, factory):
    person = factory.patient()
    with time_machine.travel(timedelta(days=31)):
        response = client.post("/api/v1/auth/refresh", headers=person.refresh_headers)
    body = assert_401(response, "token-expired", REFRESH_EXPIRED)
    assert "Sign in again" in body["detail"]


def test_a_token_just_inside_its_lifetime_still_works(client, factory):
    person = factory.patient()
    with time_machine.travel(timedelta(minutes=14)):
        assert client.get("/api/v1/me", headers=person.headers).status_code == 200


def test_an_expired_token_we_did_not_sign_is_not_called_expired(client, factory):
    person = factory.patient()
    claims = pyjwt.decode(person.tokens["access_token"], options={"verify_signature": False})
    claims["exp"] = int((datetime.now(UTC) - timedelta(hours=1)).timestamp())
    forged = pyjwt.encode(claims, "another-secret-" + "y" * 40, algorithm="HS256")
    assert_401(client.get("/api/v1/me", headers=bearer(forged)), "unauthorized", INVALID_TOKEN)


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30."])
def test_malformed_tokens_are_invalid_token(client, token):
    assert_401(client.get("/api/v1/me", headers=bearer(token)), "unauthorized", INVALID_TOKEN)


def test_a_tampered_token_is_invalid_token(client, factory):
    token = factory.patient().tokens["access_token"]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert_401(client.get("/api/v1/me", headers=bearer(tampered)), "unauthorized", INVALID_TOKEN)


def test_a_revoked_token_is_invalid_token(client, factory):
    person = factory.patient()
    assert client.post("/api/v1/auth/logout", headers=person.headers).status_code == 204
    assert_401(client.get("/api/v1/me", headers=person.headers), "unauthorized", INVALID_TOKEN)
    refused = client.post("/api/v1/auth/refresh", headers=person.refresh_headers)
    assert_401(refused, "unauthorized", INVALID_TOKEN)


def test_a_token_of_the_wrong_type_is_invalid_token(client, factory):
    person = factory.patient()
    assert_401(
        client.get("/api/v1/me", headers=person.refresh_headers), "unauthorized", INVALID_TOKEN
    )
    refused = client.post("/api/v1/auth/refresh", headers=person.headers)
    assert_401(refused, "unauthorized", INVALID_TOKEN)


def test_a_reused_refresh_token_is_invalid_token(client, factory):
    person = factory.patient()
    assert client.post("/api/v1/auth/refresh", headers=person.refresh_headers).status_code == 200
    reused = client.post("/api/v1/auth/refresh", headers=person.refresh_headers)
    assert_401(reused, "unauthorized", INVALID_TOKEN)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic dXNlcjpwYXNz"}])
def test_no_bearer_token_challenges_without_an_error(client, headers):
    # RFC 6750 §3.1: no error code when the request carried no token.
    assert_401(client.get("/api/v1/me", headers=headers), "unauthorized", NO_TOKEN)


def test_a_failed_sign_in_challenges_without_an_error(client, factory):
    person = factory.patient()
    response = client.post(
        "/api/v1/auth/login", json={"email": person.email, "password": PASSWORD + "x"}
    )
    assert_401(response, "unauthorized", NO_TOKEN)


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_the_scheme_name_is_case_insensitive(client, factory, scheme):
    person = factory.patient()
    headers = {"Authorization": f"{scheme} {person.tokens['access_token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    refresh = {"Authorization": f"{scheme} {person.tokens['refresh_token']}"}
    assert client.post("/api/v1/auth/refresh", headers=refresh).status_code == 200


@given(
    scheme=st.lists(st.booleans(), min_size=6, max_size=6).map(
        lambda upper: "".join(c.upper() if u else c for c, u in zip("bearer", upper, strict=True))
    ),
    before=st.sampled_from(["", "Basic dXNlcjpwYXNz, ", "Basic x,"]),
    gap=st.sampled_from([" ", "  ", "\t"]),
)
def test_the_middleware_spells_any_case_of_the_scheme_as_configured(scheme, before, gap):
    seen = {}

    def app(environ, _start_response):
        seen["value"] = environ["HTTP_AUTHORIZATION"]
        return []

    BearerSchemeAnyCase(app, "Bearer")({"HTTP_AUTHORIZATION": f"{before}{scheme}{gap}t.k.n"}, None)
    assert seen["value"] == f"{before}Bearer{gap}t.k.n"


@pytest.mark.parametrize("value", ["Bearers t.k.n", "xbearer t.k.n", "Basic bearer"])
def test_the_middleware_leaves_other_schemes_alone(value):
    seen = {}

    def app(environ, _start_response):
        seen["value"] = environ["HTTP_AUTHORIZATION"]
        return []

    BearerSchemeAnyCase(app, "Bearer")({"HTTP_AUTHORIZATION": value}, None)
    assert seen["value"] == value
