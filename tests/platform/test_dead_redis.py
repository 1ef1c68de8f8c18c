"""Redis is never required: with it unreachable the limits count per process, nothing fails."""

from datetime import date, timedelta

from tests.factories import PASSWORD, Factory

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused


def test_limited_endpoints_answer_and_still_limit_without_redis(app_factory):
    setup = app_factory()
    people = Factory(setup, setup.test_client())
    patient, counselor = people.patient(), people.counselor()
    # A fresh app whose first storage access is the re-authentication itself.
    app = app_factory(REDIS_URL=DEAD_REDIS, LOGIN_FAILURES_PER_ACCOUNT="2 per minute")
    client = app.test_client()
    wrong = {"new_password": "a brand new password", "current_password": "wrong guess"}

    statuses = [
        client.patch("/api/v1/me", json=wrong, headers=patient.headers).status_code
        for _ in range(2)
    ]
    assert statuses == [403, 429]
    assert client.get("/api/v1/me", headers=patient.headers).status_code == 401
    locked = client.post("/api/v1/auth/login", json={"email": patient.email, "password": PASSWORD})
    assert locked.status_code == 429

    treatment = client.get("/api/v1/resources/treatment?postal_code=62701")
    assert (treatment.status_code, treatment.json["source"]) == (200, "fallback")
    fresh = Factory(app, client).patient()
    share = client.post(
        "/api/v1/shares",
        json={
            "counselor_email": counselor.email,
            "purpose": "Review at appointments",
            "expires_on": (date.today() + timedelta(days=30)).isoformat(),
            "scope": ["status"],
        },
        headers=fresh.headers,
    )
    assert share.status_code == 201
