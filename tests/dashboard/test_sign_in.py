"""Browser sign-in: the stored session, its cookie, its limits, CSRF and the page headers."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from server import ConfigError, create_app
from server.auth.models import AuthSession
from server.config import ProductionConfig
from server.db import utcnow
from server.extensions import db
from tests.conftest import REDIS_URL
from tests.dashboard.helpers import Dashboard, text_of
from tests.factories import PASSWORD


def register(client, email: str, role: str = "counselor") -> str:
    body = {"email": email, "password": PASSWORD, "role": role, "display_name": email[:5]}
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 201
    return response.json["id"]


def stored_sessions(app, user_id: str) -> list[AuthSession]:
    with app.app_context():
        query = select(AuthSession).where(AuthSession.user_id == user_id)
        return list(db.session.scalars(query.order_by(AuthSession.created_at)))


def test_the_sign_in_page_has_labelled_fields_a_button_and_a_token(dashboard):
    response = dashboard.get("/dashboard/login")
    html = text_of(response)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert '<label class="field__label" for="email">Email</label>' in html
    assert '<label class="field__label" for="password">Password</label>' in html
    assert '<button type="submit" class="button">Sign in</button>' in html
    assert dashboard.token


def test_signing_in_opens_the_same_stored_session_as_api_login(app, factory, dashboard):
    counselor = factory.counselor()
    before = stored_sessions(app, counselor.id)
    response = dashboard.sign_in(counselor)
    assert response.status_code == 303
    assert response.headers["Location"] == "/dashboard"
    after = stored_sessions(app, counselor.id)
    assert len(after) == len(before) + 1 and after[-1].revoked_at is None
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("steady_dashboard=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/dashboard" in cookie
    assert "Secure" not in cookie  # plain http in development and tests
    assert "Expires" not in cookie  # the cookie ends with the browser, the session before
    page = dashboard.get("/dashboard")
    assert page.status_code == 200
    assert f"Signed in as {counselor.display_name}" in text_of(page)


def test_in_production_the_cookie_is_secure_and_posts_need_a_same_origin_referrer(migrated):
    config = ProductionConfig()
    config.SECRET_KEY = config.JWT_SECRET_KEY = "p" * 48
    config.SQLALCHEMY_DATABASE_URI = migrated
    config.REDIS_URL = REDIS_URL
    config.RATELIMIT_KEY_PREFIX = "steady-test-production-cookie"
    app = create_app(config)
    client = app.test_client()
    body = {"email": "prod@example.org", "password": PASSWORD, "role": "counselor"}
    assert (
        client.post("/api/v1/auth/register", json={**body, "display_name": "P"}).status_code == 201
    )
    try:
        dashboard = Dashboard(app.test_client())
        dashboard.get("/dashboard/login", base_url="https://steady.example")
        form = {"email": "prod@example.org", "password": PASSWORD}
        refused = dashboard.post("/dashboard/login", form, base_url="https://steady.example")
        assert refused.status_code == 400  # no Referer: Flask-WTF's HTTPS check
        response = dashboard.post(
            "/dashboard/login",
            form,
            base_url="https://steady.example",
            headers={"Referer": "https://steady.example/dashboard/login"},
        )
        assert response.status_code == 303
        assert "Secure" in response.headers["Set-Cookie"]
        assert response.headers["Referrer-Policy"] == "same-origin"
    finally:
        from tests.conftest import _empty_all_tables

        _empty_all_tables(app)


def test_a_wrong_password_is_said_once_and_counts_against_the_account(app_factory):
    app = app_factory(LOGIN_FAILURES_PER_ACCOUNT="2 per 15 minutes")
    phone = app.test_client()
    body = {"email": "c@example.org", "password": PASSWORD, "role": "counselor"}
    assert (
        phone.post("/api/v1/auth/register", json={**body, "display_name": "C"}).status_code == 201
    )
    dashboard = Dashboard(app.test_client())
    dashboard.get("/dashboard/login")
    wrong = {"email": "c@example.org", "password": "not it"}
    first = dashboard.post("/dashboard/login", wrong)
    assert first.status_code == 401
    html = text_of(first)
    assert "Email or password is incorrect." in html and 'role="alert"' in html
    assert "<title>Error: Sign in" in html
    assert 'value="c@example.org"' in html and "not it" not in html
    dashboard.post("/dashboard/login", wrong)
    # The allowance is the account's, whichever door the guesses came through.
    login = phone.post("/api/v1/auth/login", json={"email": "c@example.org", "password": PASSWORD})
    assert login.status_code == 429


def test_the_address_limit_is_shared_with_the_api_login(app_factory):
    app = app_factory(LOGIN_LIMIT_PER_IP="3 per minute")
    phone = app.test_client()
    wrong = {"email": "nobody@example.org", "password": "guess"}
    assert [phone.post("/api/v1/auth/login", json=wrong).status_code for _ in range(2)] == [
        401,
        401,
    ]
    dashboard = Dashboard(app.test_client())
    dashboard.get("/dashboard/login")
    assert dashboard.post("/dashboard/login", wrong).status_code == 401
    limited = dashboard.post("/dashboard/login", wrong)
    assert limited.status_code == 429
    assert limited.mimetype == "text/html"
    assert "Too many attempts" in text_of(limited)
    assert int(limited.headers["Retry-After"]) > 0


def test_empty_fields_are_named_and_tied_to_their_inputs(dashboard):
    dashboard.get("/dashboard/login")
    response = dashboard.post("/dashboard/login", {"email": "", "password": ""})
    assert response.status_code == 422
    html = text_of(response)
    assert '<a href="#email">Enter your email address.</a>' in html
    assert '<a href="#password">Enter your password.</a>' in html
    assert 'aria-describedby="email-error-1"' in html and 'aria-invalid="true"' in html


def test_a_patient_is_told_the_dashboard_is_for_counselors_and_gets_no_session(
    app, factory, dashboard
):
    patient = factory.patient()
    before = [s.id for s in stored_sessions(app, patient.id)]
    response = dashboard.sign_in(patient)
    assert response.status_code == 403
    assert "The dashboard is for counselors" in text_of(response)
    assert [s.id for s in stored_sessions(app, patient.id)] == before
    assert dashboard.get("/dashboard").status_code == 303


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_a_post_without_this_browsers_token_is_refused(app, factory, dashboard, token):
    counselor = factory.counselor()
    dashboard.get("/dashboard/login")
    form = {"email": counselor.email, "password": PASSWORD}
    if token:
        form["csrf_token"] = token
    response = dashboard.post("/dashboard/login", form, token=False)
    assert response.status_code == 400
    assert "This form has expired" in text_of(response)
    assert len(stored_sessions(app, counselor.id)) == 1  # the factory's API sign-in only


def test_a_token_from_another_browser_is_refused(factory, dashboard, app):
    counselor = factory.counselor()
    other = Dashboard(app.test_client())
    other.get("/dashboard/login")
    dashboard.get("/dashboard/login")
    dashboard.token = other.token
    response = dashboard.post("/dashboard/login", {"email": counselor.email, "password": PASSWORD})
    assert response.status_code == 400


def test_the_api_never_asks_for_a_csrf_token(client, factory):
    counselor = factory.counselor()
    login = client.post(
        "/api/v1/auth/login", json={"email": counselor.email, "password": PASSWORD}
    )
    assert login.status_code == 200
    headers = {"Authorization": f"Bearer {login.json['access_token']}"}
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204


def test_signing_out_ends_the_stored_session_and_the_old_cookie_is_refused(
    app, factory, dashboard
):
    counselor = factory.counselor()
    dashboard.sign_in(counselor)
    old_cookie = dashboard.session_cookie().value
    response = dashboard.sign_out()
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard/login"
    assert "You have signed out." in text_of(dashboard.get("/dashboard/login"))
    assert stored_sessions(app, counselor.id)[-1].revoked_reason == "logout"
    dashboard.client.set_cookie("steady_dashboard", old_cookie, path="/dashboard")
    replayed = dashboard.get("/dashboard")
    assert replayed.status_code == 303
    assert replayed.headers["Location"].startswith("/dashboard/login")


def test_a_password_change_through_the_api_ends_the_browser_sign_in(client, factory, dashboard):
    counselor = factory.counselor()
    dashboard.sign_in(counselor)
    change = {"current_password": PASSWORD, "new_password": "a whole new passphrase"}
    assert client.patch("/api/v1/me", json=change, headers=counselor.headers).status_code == 200
    response = dashboard.get("/dashboard")
    assert response.status_code == 303
    assert "Your sign-in has ended" in text_of(dashboard.get("/dashboard/login"))


def test_deleting_the_account_ends_the_browser_sign_in(client, factory, dashboard):
    counselor = factory.counselor()
    dashboard.sign_in(counselor)
    deleted = client.delete("/api/v1/me", json={"password": PASSWORD}, headers=counselor.headers)
    assert deleted.status_code == 204
    assert dashboard.get("/dashboard").status_code == 303


def test_an_idle_sign_in_ends_and_activity_keeps_it_going(app, factory, dashboard):
    counselor = factory.counselor()
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        dashboard.sign_in(counselor)
        for _ in range(3):
            clock.shift(timedelta(minutes=20))
            assert dashboard.get("/dashboard").status_code == 200
        clock.shift(timedelta(minutes=31))
        response = dashboard.get("/dashboard/alerts")
        assert response.status_code == 303
        assert response.headers["Location"] == "/dashboard/login?next=/dashboard/alerts"
        page = text_of(dashboard.get("/dashboard/login"))
        assert "signed out after 30 minutes without activity" in page
    assert stored_sessions(app, counselor.id)[-1].revoked_reason == "idle_timeout"


def test_a_sign_in_ends_after_its_absolute_lifetime_however_busy(app_factory):
    app = app_factory(DASHBOARD_SESSION_HOURS=1)
    phone = app.test_client()
    user_id = register(phone, "busy@example.org")
    dashboard = Dashboard(app.test_client())
    with time_machine.travel(utcnow(), tick=False) as clock:
        dashboard.get("/dashboard/login")
        dashboard.post("/dashboard/login", {"email": "busy@example.org", "password": PASSWORD})
        for _ in range(2):
            clock.shift(timedelta(minutes=25))
            assert dashboard.get("/dashboard").status_code == 200
        clock.shift(timedelta(minutes=11))
        assert dashboard.get("/dashboard").status_code == 303
        assert "1 hours after signing in" in text_of(dashboard.get("/dashboard/login"))
    assert stored_sessions(app, user_id)[-1].revoked_reason == "session_expired"


@pytest.mark.parametrize(
    ("target", "lands_on"),
    [
        ("/dashboard/alerts", "/dashboard/alerts"),
        ("https://elsewhere.example/dashboard", "/dashboard"),
        ("//elsewhere.example/dashboard", "/dashboard"),
        ("/api/v1/me", "/dashboard"),
    ],
)
def test_after_signing_in_only_a_dashboard_page_is_returned_to(
    factory, dashboard, target, lands_on
):
    counselor = factory.counselor()
    dashboard.get("/dashboard/login")
    form = {"email": counselor.email, "password": PASSWORD, "next": target}
    response = dashboard.post("/dashboard/login", form)
    assert response.headers["Location"] == lands_on


def test_a_signed_out_htmx_request_is_sent_to_the_sign_in_page(dashboard):
    response = dashboard.client.get("/dashboard/alerts", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/dashboard/login")


@pytest.mark.parametrize(
    ("key", "value", "variable"),
    [
        ("DASHBOARD_IDLE_MINUTES", "0", "STEADY_DASHBOARD_IDLE_MINUTES"),
        ("DASHBOARD_SESSION_HOURS", "a day", "STEADY_DASHBOARD_SESSION_HOURS"),
        ("SESSION_COOKIE_SAMESITE", "None", "STEADY_SESSION_COOKIE_SAMESITE"),
    ],
)
def test_bad_dashboard_settings_refuse_to_start(app_factory, key, value, variable):
    with pytest.raises(ConfigError, match=variable):
        app_factory(**{key: value})
