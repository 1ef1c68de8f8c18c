"""Consent: creating, listing and ending shares."""

from datetime import date, timedelta

import pytest
import time_machine


def share_body(counselor_email, **overrides):
    body = {
        "counselor_email": counselor_email,
        "purpose": "Review at appointments",
        "expires_on": (date.today() + timedelta(days=30)).isoformat(),
        "scope": ["checkins", "status"],
    }
    body.update(overrides)
    return body


def test_patient_shares_with_a_counselor(client, factory):
    patient, counselor = factory.patient(), factory.counselor(display_name="Dr Ada")
    response = client.post(
        "/api/v1/shares", json=share_body(counselor.email.upper()), headers=patient.headers
    )
    assert response.status_code == 201
    share = response.json
    assert share["status"] == "active"
    assert share["include_notes"] is False
    assert share["scope"] == ["checkins", "status"]
    assert share["patient"] == {"id": patient.id, "display_name": patient.display_name}
    assert share["counselor"] == {
        "id": counselor.id,
        "display_name": "Dr Ada",
        "email": counselor.email,
    }
    assert share["revoked_at"] is None


def test_unknown_and_non_counselor_emails_get_the_same_422(client, factory):
    patient, other_patient = factory.patient(), factory.patient()
    unknown = client.post(
        "/api/v1/shares", json=share_body("nobody@example.org"), headers=patient.headers
    )
    not_counselor = client.post(
        "/api/v1/shares", json=share_body(other_patient.email), headers=patient.headers
    )
    assert unknown.status_code == not_counselor.status_code == 422
    assert unknown.json["errors"] == not_counselor.json["errors"]
    assert unknown.json["detail"] == not_counselor.json["detail"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"expires_on": date.today().isoformat()}, "expires_on"),
        ({"expires_on": (date.today() + timedelta(days=366)).isoformat()}, "expires_on"),
        ({"scope": []}, "scope"),
        ({"scope": ["everything"]}, "scope"),
        ({"purpose": ""}, "purpose"),
        ({"include_notes": "yes"}, "include_notes"),
        ({"patient_id": "x"}, "patient_id"),
    ],
)
def test_bad_share_requests_are_422(client, factory, overrides, field):
    patient, counselor = factory.patient(), factory.counselor()
    response = client.post(
        "/api/v1/shares", json=share_body(counselor.email, **overrides), headers=patient.headers
    )
    assert response.status_code == 422
    assert list(response.json["errors"]) == [field]


def test_a_year_away_is_the_limit(client, factory):
    patient, counselor = factory.patient(), factory.counselor()
    body = share_body(counselor.email, expires_on=(date.today() + timedelta(days=365)).isoformat())
    assert client.post("/api/v1/shares", json=body, headers=patient.headers).status_code == 201


def test_counselors_cannot_create_shares(client, factory):
    counselor, other = factory.counselor(), factory.counselor()
    response = client.post(
        "/api/v1/shares", json=share_body(other.email), headers=counselor.headers
    )
    assert response.status_code == 403


def test_a_new_share_replaces_the_active_one_and_history_stays(client, factory):
    patient, counselor = factory.patient(), factory.counselor()
    first = factory.share(patient, counselor, scope=["checkins"])
    second = factory.share(patient, counselor, scope=["status"], include_notes=True)
    shares = client.get("/api/v1/shares", headers=patient.headers).json["items"]
    by_id = {share["id"]: share for share in shares}
    assert by_id[first["id"]]["status"] == "revoked"
    assert by_id[second["id"]]["status"] == "active"
    counselor_view = client.get("/api/v1/shares", headers=counselor.headers).json["items"]
    assert {share["id"] for share in counselor_view} == {first["id"], second["id"]}


def test_lists_only_show_ones_own_shares(client, factory):
    alice, bob, counselor, stranger = (
        factory.patient(),
        factory.patient(),
        factory.counselor(),
        factory.counselor(),
    )
    alices = factory.share(alice, counselor)
    factory.share(bob, stranger)
    assert [
        s["id"] for s in client.get("/api/v1/shares", headers=alice.headers).json["items"]
    ] == [alices["id"]]
    assert [
        s["id"] for s in client.get("/api/v1/shares", headers=counselor.headers).json["items"]
    ] == [alices["id"]]


def test_patient_revokes_and_counselor_steps_back(client, factory):
    patient, counselor, other = factory.patient(), factory.counselor(), factory.counselor()
    revoked = factory.share(patient, counselor)
    stepped_back = factory.share(patient, other)
    assert (
        client.delete(f"/api/v1/shares/{revoked['id']}", headers=patient.headers).status_code
        == 204
    )
    assert (
        client.delete(f"/api/v1/shares/{stepped_back['id']}", headers=other.headers).status_code
        == 204
    )
    # Repeating is harmless; history stays.
    assert (
        client.delete(f"/api/v1/shares/{revoked['id']}", headers=patient.headers).status_code
        == 204
    )
    statuses = {
        s["id"]: s["status"]
        for s in client.get("/api/v1/shares", headers=patient.headers).json["items"]
    }
    assert statuses == {revoked["id"]: "revoked", stepped_back["id"]: "revoked"}


def test_strangers_cannot_end_a_share(client, factory):
    patient, counselor = factory.patient(), factory.counselor()
    share = factory.share(patient, counselor)
    for intruder in (factory.patient(), factory.counselor()):
        response = client.delete(f"/api/v1/shares/{share['id']}", headers=intruder.headers)
        assert response.status_code == 404
    assert (
        client.get("/api/v1/shares", headers=patient.headers).json["items"][0]["status"]
        == "active"
    )


def test_expiry_shows_in_status_without_any_job(client, factory):
    patient, counselor = factory.patient(), factory.counselor()
    factory.share(patient, counselor, days=2)
    with time_machine.travel(date.today() + timedelta(days=3)):
        factory.relogin(patient)
        statuses = [
            s["status"]
            for s in client.get("/api/v1/shares", headers=patient.headers).json["items"]
        ]
    assert statuses == ["expired"]


def test_consent_history_outlives_a_departing_counselor(client, factory):
    from tests.factories import PASSWORD

    patient, counselor = factory.patient(), factory.counselor(display_name="Dr Leaving")
    share = factory.share(patient, counselor)
    assert (
        client.delete(
            "/api/v1/me", json={"password": PASSWORD}, headers=counselor.headers
        ).status_code
        == 204
    )
    [kept] = client.get("/api/v1/shares", headers=patient.headers).json["items"]
    assert kept["id"] == share["id"]
    assert kept["status"] == "revoked"
    assert kept["counselor"] == {"id": None, "display_name": "Dr Leaving", "email": None}
    actions = [
        e["action"]
        for e in client.get("/api/v1/me/access-log", headers=patient.headers).json["items"]
    ]
    assert actions[0] == "share_revoked"


def test_share_creation_is_limited_per_patient(app_factory):
    from tests.factories import Factory

    app = app_factory(SHARE_LIMIT_PER_PATIENT="3 per day")
    client = app.test_client()
    factory = Factory(app, client)
    patient, other, counselor = factory.patient(), factory.patient(), factory.counselor()

    def create(person, email=counselor.email):
        return client.post("/api/v1/shares", json=share_body(email), headers=person.headers)

    # A refused attempt counts too, so counselors' emails cannot be probed without end.
    assert create(patient, "nobody@example.org").status_code == 422
    assert [create(patient).status_code for _ in range(3)] == [201, 201, 429]
    limited = create(patient)
    assert limited.status_code == 429
    assert limited.content_type == "application/problem+json"
    assert int(limited.headers["Retry-After"]) > 0
    # Only one row was added per allowed attempt, and another patient is not affected.
    assert len(client.get("/api/v1/shares", headers=patient.headers).json["items"]) == 2
    assert create(other).status_code == 201
    assert len(client.get("/api/v1/shares", headers=counselor.headers).json["items"]) == 3
