"""The patient's access log: every counselor read and consent change, nothing sensitive."""

import json
from datetime import date

from sqlalchemy import text

from server.extensions import db

TODAY = date.today()
NOTE = "canary-note-91c2"


def access_log(client, patient):
    response = client.get("/api/v1/me/access-log?page_size=100", headers=patient.headers)
    assert response.status_code == 200
    return response.json["items"]


def test_every_counselor_read_and_consent_change_is_recorded(client, factory):
    patient, counselor = factory.patient(), factory.counselor(display_name="Dr Grey")
    share = factory.share(patient, counselor, include_notes=True)
    factory.log(patient, TODAY, [{"note": NOTE, "nausea": 9}])  # raises an alert
    base = f"/api/v1/patients/{patient.id}"
    for path in (
        "/api/v1/patients",
        f"{base}/checkins",
        f"{base}/trends",
        f"{base}/trends/chart",
        f"{base}/status",
        "/api/v1/alerts",
    ):
        assert client.get(path, headers=counselor.headers).status_code == 200, path
    client.delete(f"/api/v1/shares/{share['id']}", headers=patient.headers)

    events = access_log(client, patient)
    actions = [event["action"] for event in events]
    assert actions == [
        "share_revoked",
        "alerts_viewed",
        "status_viewed",
        "chart_viewed",
        "trends_viewed",
        "checkins_viewed",
        "patient_listed",
        "share_created",
    ]
    reads = [event for event in events if event["action"].endswith(("viewed", "listed"))]
    assert {event["actor"]["display_name"] for event in reads} == {"Dr Grey"}
    assert {event["actor"]["id"] for event in reads} == {counselor.id}
    assert {event["patient"] for event in events} == {patient.id}
    assert events[-1]["actor"]["id"] == patient.id
    times = [event["at"] for event in events]
    assert times == sorted(times, reverse=True)


def test_nothing_sensitive_is_stored_in_the_log(app, client, factory):
    patient, counselor = factory.patient(), factory.counselor()
    factory.log(patient, TODAY, [{"note": NOTE, "nausea": 7, "aches": 6}])
    factory.share(patient, counselor, include_notes=True)
    client.get(f"/api/v1/patients/{patient.id}/checkins", headers=counselor.headers)
    with app.app_context():
        rows = db.session.execute(text("SELECT action, detail FROM audit_events")).all()
    dumped = json.dumps([list(row) for row in rows], default=str)
    assert NOTE not in dumped
    for key in ("nausea", "aches", "total", 'note"', "score"):
        assert key not in dumped


def test_denied_and_unrelated_reads_do_not_touch_the_log(client, factory):
    patient, stranger = factory.patient(), factory.counselor()
    client.get(f"/api/v1/patients/{patient.id}/checkins", headers=stranger.headers)
    assert access_log(client, patient) == []


def test_access_log_is_for_patients_and_only_their_own(client, factory):
    alice, bob, counselor = factory.patient(), factory.patient(), factory.counselor()
    factory.share(alice, counselor)
    assert access_log(client, bob) == []
    assert client.get("/api/v1/me/access-log", headers=counselor.headers).status_code == 403


def test_access_log_paginates(client, factory):
    patient, counselor = factory.patient(), factory.counselor()
    factory.share(patient, counselor)
    for _ in range(4):
        client.get(f"/api/v1/patients/{patient.id}/status", headers=counselor.headers)
    page = client.get("/api/v1/me/access-log?page=2&page_size=2", headers=patient.headers).json
    assert (page["total_items"], page["total_pages"], len(page["items"])) == (5, 3, 2)


def test_log_survives_the_counselor_deleting_their_account(client, factory):
    patient, counselor = factory.patient(), factory.counselor(display_name="Dr Gone")
    factory.share(patient, counselor)
    client.get(f"/api/v1/patients/{patient.id}/status", headers=counselor.headers)
    from tests.factories import PASSWORD

    client.delete("/api/v1/me", json={"password": PASSWORD}, headers=counselor.headers)
    events = access_log(client, patient)
    read = next(event for event in events if event["action"] == "status_viewed")
    assert read["actor"] == {"id": None, "display_name": "Dr Gone", "role": "counselor"}
