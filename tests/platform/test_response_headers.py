"""Headers every response carries, and Retry-After only where it means "wait"."""

import pytest

from tests.factories import PASSWORD

API_POLICY = "default-src 'none'; frame-ancestors 'none'"


@pytest.mark.parametrize(
    "path", ["/healthz", "/api/v1/me", "/api/v1/nothing-here", "/api/v1/openapi.json"]
)
def test_api_responses_carry_the_security_headers(client, path):
    response = client.get(path)
    assert response.headers["Content-Security-Policy"] == API_POLICY
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers


def test_the_docs_page_gets_a_policy_that_lets_it_render_but_not_be_framed(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert policy != API_POLICY
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy


def test_https_deployments_send_strict_transport_security(app_factory):
    client = app_factory(HSTS_MAX_AGE_SECONDS=31536000).test_client()
    assert client.get("/healthz").headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains"
    )


def test_retry_after_only_on_429(app_factory):
    app = app_factory(LOGIN_FAILURES_PER_ACCOUNT="2 per 15 minutes")
    client = app.test_client()
    email = "retry@example.org"
    body = {"email": email, "password": PASSWORD, "role": "patient", "display_name": "R"}
    assert client.post("/api/v1/auth/register", json=body).status_code == 201
    ok = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert ok.status_code == 200
    assert "Retry-After" not in ok.headers
    assert "X-RateLimit-Limit" in ok.headers  # the limit is still announced
    wrong = {"email": email, "password": "not the password"}
    statuses = []
    for _ in range(3):
        response = client.post("/api/v1/auth/login", json=wrong)
        statuses.append(response.status_code)
        if response.status_code == 401:
            assert "Retry-After" not in response.headers
    assert statuses == [401, 401, 429]
    assert int(response.headers["Retry-After"]) > 0
