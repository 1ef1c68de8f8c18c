"""Re-authentication (PATCH and DELETE /me) counts as a failed sign-in for the account."""

import pytest

from server.config import Config
from tests.factories import PASSWORD, Factory

WRONG = "not my password at all"
NEW_PASSWORD = "a brand new password"


def signed_in(app_factory, limit="3 per minute"):
    app = app_factory(LOGIN_FAILURES_PER_ACCOUNT=limit)
    client = app.test_client()
    return client, Factory(app, client)


def login(client, email, password=WRONG):
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


def change_password(client, headers, current=WRONG):
    body = {"new_password": NEW_PASSWORD, "current_password": current}
    return client.patch("/api/v1/me", json=body, headers=headers)


def delete_account(client, headers, password=WRONG):
    return client.delete("/api/v1/me", json={"password": password}, headers=headers)


def bearer(tokens: dict) -> dict:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def assert_too_many(response):
    assert response.status_code == 429
    assert response.content_type == "application/problem+json"
    assert response.json["status"] == 429
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.parametrize("attempt", [change_password, delete_account])
def test_wrong_passwords_on_me_stop_at_the_default_account_limit(app_factory, attempt):
    client, factory = signed_in(app_factory, Config.LOGIN_FAILURES_PER_ACCOUNT)
    person = factory.patient()
    statuses = [attempt(client, person.headers).status_code for _ in range(10)]
    # "10 per 15 minutes": nine guesses are refused as wrong, the tenth uses up the account.
    assert statuses == [403] * 9 + [429]


def test_login_and_re_authentication_failures_count_together(app_factory):
    client, factory = signed_in(app_factory)
    person = factory.patient()
    phone = bearer(factory.login(person.email))  # the same person's other session
    bystander = factory.patient()

    assert login(client, person.email.upper()).status_code == 401
    assert change_password(client, person.headers).status_code == 403
    limited = delete_account(client, person.headers)

    assert_too_many(limited)
    # The session that made the attempts has ended, refresh token included.
    assert client.get("/api/v1/me", headers=person.headers).status_code == 401
    assert client.post("/api/v1/auth/refresh", headers=person.refresh_headers).status_code == 401
    # The account is locked for sign-in and re-authentication, even with the right password.
    assert_too_many(login(client, person.email, PASSWORD))
    assert_too_many(change_password(client, phone, current=PASSWORD))
    assert_too_many(delete_account(client, phone, password=PASSWORD))
    # Its other session goes on, and nothing was changed or deleted.
    assert client.get("/api/v1/me", headers=phone).status_code == 200
    renamed = client.patch("/api/v1/me", json={"display_name": "Still me"}, headers=phone)
    assert renamed.status_code == 200
    # Another account is not affected.
    assert change_password(client, bystander.headers, current=PASSWORD).status_code == 200


def test_an_account_locked_by_failed_logins_refuses_re_authentication(app_factory):
    client, factory = signed_in(app_factory)
    person = factory.patient()
    for _ in range(3):
        assert login(client, person.email).status_code == 401

    assert_too_many(change_password(client, person.headers, current=PASSWORD))
    assert_too_many(delete_account(client, person.headers, password=PASSWORD))
    # This session made none of the failures, so it goes on; the account is still there.
    assert client.get("/api/v1/me", headers=person.headers).status_code == 200


def test_a_missing_current_password_is_not_counted_as_a_guess(app_factory):
    client, factory = signed_in(app_factory)
    person = factory.patient()
    for _ in range(4):
        missing = client.patch(
            "/api/v1/me", json={"new_password": NEW_PASSWORD}, headers=person.headers
        )
        assert missing.status_code == 403
    assert change_password(client, person.headers, current=PASSWORD).status_code == 200


def test_right_passwords_are_not_counted(app_factory):
    client, factory = signed_in(app_factory)
    person = factory.patient()
    password = PASSWORD
    for n in range(4):
        new = f"{NEW_PASSWORD} {n}"
        body = {"new_password": new, "current_password": password}
        assert client.patch("/api/v1/me", json=body, headers=person.headers).status_code == 200
        password = new
    assert delete_account(client, person.headers, password=password).status_code == 204
