"""Counselor views: revocation and expiry bite at once; rows are ordered by urgency."""

from datetime import date, timedelta

import time_machine

from server.vocabulary import SCOPES

TODAY = date.today()


def test_revocation_takes_effect_on_the_next_request(client, factory):
    patient, counselor = factory.patient(), factory.counselor()
    factory.log(patient, TODAY, [{}])
    share = factory.share(patient, counselor)
    path = f"/api/v1/patients/{patient.id}/checkins"
    assert client.get(path, headers=counselor.headers).status_code == 200
    client.delete(f"/api/v1/shares/{share['id']}", headers=patient.headers)
    # Same, still-valid counselor token.
    assert client.get(path, headers=counselor.headers).status_code == 404
    assert client.get("/api/v1/patients", headers=counselor.headers).json["items"] == []


def test_expiry_takes_effect_without_any_job(client, factory):
    patient, counselor = factory.patient(timezone="UTC"), factory.counselor()
    factory.log(patient, TODAY, [{}])
    factory.share(patient, counselor, days=1)
    path = f"/api/v1/patients/{patient.id}/status"
    last_moment = date.today() + timedelta(days=1)
    with time_machine.travel(f"{last_moment.isoformat()}T23:55:00Z"):
        factory.relogin(counselor)
        assert client.get(path, headers=counselor.headers).status_code == 200
        with time_machine.travel(f"{(last_moment + timedelta(days=1)).isoformat()}T00:05:00Z"):
            # The same token, ten minutes later, after the last day ended.
            assert client.get(path, headers=counselor.headers).status_code == 404


def test_expiry_follows_the_patients_time_zone(client, factory):
    # On the last day, 11:00 UTC is already the next day in Kiritimati (UTC+14).
    patient, counselor = factory.patient(timezone="Pacific/Kiritimati"), factory.counselor()
    factory.share(patient, counselor, days=2)
    last_day = date.today() + timedelta(days=1)
    with time_machine.travel(f"{last_day.isoformat()}T11:00:00Z"):
        factory.relogin(counselor)
        path = f"/api/v1/patients/{patient.id}/status"
        assert client.get(path, headers=counselor.headers).status_code == 200
    with time_machine.travel(f"{(last_day + timedelta(days=1)).isoformat()}T11:00:00Z"):
        factory.relogin(counselor)
        assert client.get(path, headers=counselor.headers).status_code == 404


def test_patient_rows_are_most_urgent_first_and_scoped(client, factory):
    counselor = factory.counselor()
    calm, crisis, severe, unseen = (factory.patient(display_name=n) for n in "ABCD")
    factory.log(calm, TODAY, [{}])
    factory.log(crisis, TODAY - timedelta(days=2), [{"crisis": True}])
    factory.log(severe, TODAY, [{}, {"nausea": 10}])
    for patient in (calm, crisis, severe):
        factory.share(patient, counselor)
    factory.share(unseen, counselor, scope=["trends"])
    rows = client.get("/api/v1/patients", headers=counselor.headers).json["items"]
    assert [row["display_name"] for row in rows] == ["B", "C", "A", "D"]
    by_name = {row["display_name"]: row for row in rows}
    assert by_name["B"]["latest_assessment"]["level"] == "crisis"
    assert by_name["B"]["latest_checkin_date"] == (TODAY - timedelta(days=2)).isoformat()
    assert by_name["A"]["days_logged_last_7"] == 1
    assert by_name["C"]["days_logged_last_7"] == 2
    # A share without checkins/status scope shows only who and the share.
    assert by_name["D"]["latest_assessment"] is None
    assert by_name["D"]["latest_checkin_date"] is None
    assert by_name["D"]["share"]["scope"] == ["trends"]


def test_counselor_sees_the_same_shapes_as_the_patient(client, factory):
    patient, counselor = factory.patient(), factory.counselor()
    factory.log(patient, TODAY, [{}, {"anxiety": 9}])
    # With `assess`, so the trends carry every instrument's series, as the patient's do.
    factory.share(patient, counselor, include_notes=True, scope=SCOPES)
    for path in ("/checkins", "/trends", "/status"):
        own = client.get(f"/api/v1{path}", headers=patient.headers).json
        seen = client.get(f"/api/v1/patients/{patient.id}{path}", headers=counselor.headers).json
        if path == "/status":
            # The same reasons, worded for the counselor (see test_counselor_wording.py).
            assert [r["code"] for r in seen.pop("reasons")] == [
                r["code"] for r in own.pop("reasons")
            ]
        assert own == seen, path
    chart = client.get(
        f"/api/v1/patients/{patient.id}/trends/chart?format=svg", headers=counselor.headers
    )
    assert chart.status_code == 200
    assert chart.mimetype == "image/svg+xml"
