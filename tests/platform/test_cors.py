"""CORS: off by default; the origins in CORS_ORIGINS, and only those, may call from a browser."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.config import ConfigError, origins_setting
from tests.factories import PASSWORD

DASHBOARD = "https://dash.example"
EXPO_DEV = "http://localhost:8081"
REQUIRED_EXPOSED = {"etag", "link", "retry-after", "x-request-id"}


def preflight(client, path, *, origin=DASHBOARD, method="PUT", headers="authorization"):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


def header_set(response, name) -> set[str]:
    return {item.strip().lower() for item in response.headers.get(name, "").split(",") if item}


def cors_headers(response) -> dict:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


@pytest.fixture
def cors_client(app_factory):
    return app_factory(CORS_ORIGINS=f"{DASHBOARD}, {EXPO_DEV}").test_client()


def test_cors_is_off_by_default(client):
    response = preflight(client, "/api/v1/me")
    assert response.status_code == 204
    assert cors_headers(response) == {}
    assert cors_headers(client.get("/healthz", headers={"Origin": DASHBOARD})) == {}
    unknown = preflight(client, "/api/v1/nowhere")
    assert unknown.status_code == 404
    assert unknown.content_type == "application/problem+json"


@pytest.mark.parametrize("origin", [DASHBOARD, EXPO_DEV])
def test_a_listed_origin_gets_a_204_preflight_with_no_body(cors_client, origin):
    response = preflight(
        cors_client,
        "/api/v1/checkins/2026-01-05",
        origin=origin,
        headers="Authorization, Content-Type, If-Match, If-None-Match",
    )
    assert response.status_code == 204
    assert response.get_data() == b""
    assert "Content-Type" not in response.headers
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert header_set(response, "Access-Control-Allow-Headers") == {
        "authorization",
        "content-type",
        "if-match",
        "if-none-match",
    }
    assert {"put", "get", "delete"} <= header_set(response, "Access-Control-Allow-Methods")
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    # Tokens are bearer headers: no cookies, so no credentials mode.
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Origin" in response.headers["Vary"]


def test_headers_outside_the_list_are_not_allowed(cors_client):
    response = preflight(cors_client, "/api/v1/me", method="GET", headers="authorization, x-evil")
    assert header_set(response, "Access-Control-Allow-Headers") == {"authorization"}


def test_a_real_request_exposes_what_a_client_reads(cors_client, app_factory):
    response = cors_client.post(
        "/api/v1/auth/login",
        json={"email": "nobody@example.org", "password": PASSWORD},
        headers={"Origin": DASHBOARD},
    )
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == DASHBOARD
    exposed = header_set(response, "Access-Control-Expose-Headers")
    assert REQUIRED_EXPOSED <= exposed
    # Every rate-limit header the limiter actually sent is readable by the page.
    sent = {name.lower() for name in response.headers.keys() if "ratelimit" in name.lower()}
    assert sent and sent <= exposed
    assert "Origin" in response.headers["Vary"]


def test_an_origin_not_on_the_list_gets_no_cors_headers(cors_client):
    for origin in ("https://evil.example", "https://dash.example.evil", "http://dash.example"):
        assert cors_headers(preflight(cors_client, "/api/v1/me", origin=origin)) == {}
        response = cors_client.get("/healthz", headers={"Origin": origin})
        assert response.status_code == 200
        assert cors_headers(response) == {}
        assert "Origin" in response.headers["Vary"]


def test_no_origin_no_cors_headers(cors_client):
    # flask-cors would list every allowed origin here by default; that is not an answer.
    assert cors_headers(cors_client.get("/healthz")) == {}


def test_a_preflight_on_an_unknown_path_is_a_problem_not_html(cors_client):
    response = preflight(cors_client, "/api/v1/nowhere")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


def test_an_error_response_carries_cors_headers_too(cors_client):
    response = cors_client.get("/api/v1/me", headers={"Origin": DASHBOARD})
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == DASHBOARD


def test_preflights_do_not_count_against_rate_limits(app_factory):
    client = app_factory(CORS_ORIGINS=DASHBOARD, LOGIN_LIMIT_PER_IP="2 per minute").test_client()
    for _ in range(5):
        assert preflight(client, "/api/v1/auth/login", method="POST").status_code == 204
    body = {"email": "nobody@example.org", "password": PASSWORD}
    statuses = [client.post("/api/v1/auth/login", json=body).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


def test_cors_config_keys_cannot_widen_the_policy(app_factory):
    client = app_factory(
        CORS_ORIGINS=DASHBOARD, CORS_SUPPORTS_CREDENTIALS=True, CORS_SEND_WILDCARD=True
    ).test_client()
    response = preflight(client, "/api/v1/me", origin="https://evil.example")
    assert cors_headers(response) == {}
    allowed = preflight(client, "/api/v1/me")
    assert "Access-Control-Allow-Credentials" not in allowed.headers


# --- Start-up validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ()),
        ("", ()),
        ("https://dash.example", ("https://dash.example",)),
        (
            " https://A.Example:8443 ,https://b.example",
            ("https://a.example:8443", "https://b.example"),
        ),
        ("https://a.example,https://a.example", ("https://a.example",)),
        ("http://localhost:3000,http://127.0.0.1", ("http://localhost:3000", "http://127.0.0.1")),
        (["https://a.example"], ("https://a.example",)),
    ],
)
def test_origins_are_parsed_to_what_browsers_send(value, expected):
    assert origins_setting({"CORS_ORIGINS": value}, "CORS_ORIGINS", production=False) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "*",
        "https://*.example",
        "http://dash.example",
        "https://dash.example/",
        "https://dash.example/app",
        "https://dash.example?x=1",
        "https://user@dash.example",
        "https://dash.example:443",
        "https://dash.example:",
        "https://dash.example:99999",
        "https://[::1]:8443",
        "dash.example",
        "https://a.example,,https://b.example",
        "https://a.example,",
        "ftp://dash.example",
    ],
)
def test_anything_but_an_exact_https_origin_refuses_to_start(app_factory, monkeypatch, bad):
    monkeypatch.setenv("CORS_ORIGINS", bad)
    with pytest.raises(ConfigError) as refused:
        app_factory()
    message = str(refused.value)
    assert message.startswith(f"Invalid setting CORS_ORIGINS={bad!r}: must be exact origins")
    assert "https://host[:port]" in message


@pytest.mark.parametrize("local", ["http://localhost:8081", "http://127.0.0.1:3000"])
def test_loopback_http_is_for_development_only(app_factory, local):
    assert app_factory(CORS_ORIGINS=local).config["CORS_ORIGINS"] == (local,)
    with pytest.raises(ConfigError) as refused:
        app_factory(CORS_ORIGINS=local, ENV_NAME="production")
    assert f"CORS_ORIGINS={local!r}" in str(refused.value)
    assert "outside production" not in str(refused.value)
    assert app_factory(CORS_ORIGINS=DASHBOARD, ENV_NAME="production").config["CORS_ORIGINS"]


LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)


@given(
    labels=st.lists(LABEL, min_size=1, max_size=4),
    port=st.none() | st.integers(1, 65535).filter(lambda p: p != 443),
    suffix=st.sampled_from(["/", "/path", "?q", "#f", ":", "/."]),
)
def test_any_host_and_port_is_an_origin_and_nothing_may_follow_it(labels, port, suffix):
    origin = "https://" + ".".join(labels) + ("" if port is None else f":{port}")
    assert origins_setting({"K": origin.upper()}, "K", production=True) == (origin,)
    with pytest.raises(ConfigError):
        origins_setting({"K": origin + suffix}, "K", production=True)
