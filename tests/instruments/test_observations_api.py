"""Counselors' COWS observations and counselor reads of instruments, through HTTP."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from server.instruments.definitions import COWS, SOWS_GOSSOP
from tests.factories import PASSWORD

FIXED_NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
ALL_SCOPES = ["checkins", "trends", "status", "export", "assess"]


@pytest.fixture(autouse=True)
def fixed_clock():
    with time_machine.travel(FIXED_NOW, tick=True):
        yield


def cows(**values) -> dict:
    """A complete COWS: every item 0 unless given."""
    return {item_id: values.get(item_id, 0) for item_id in COWS.item_ids}


def post(client, counselor, patient_id, items, observed_at="2026-06-15T10:30:00+02:00"):
    return client.post(
        f"/api/v1/patients/{patient_id}/observations/cows-11",
        json={"items": items, "observed_at": observed_at},
        headers=counselor.headers,
    )


def access_log(client, patient) -> list[dict]:
    return client.get("/api/v1/me/access-log?page_size=100", headers=patient.headers).json["items"]


@pytest.fixture
def shared(factory):
    patient = factory.patient(timezone="America/New_York")
    counselor = factory.counselor()
    factory.share(patient, counselor, scope=ALL_SCOPES)
    return patient, counselor


def test_a_counselor_records_a_cows_observation_scored_and_banded(client, shared):
    patient, counselor = shared
    items = cows(resting_pulse=2, sweating=2, restlessness=3, gooseflesh_skin=3, yawning=2)
    response = post(client, counselor, patient.id, items)
    assert response.status_code == 201
    body = response.json
    assert (body["total"], body["band"]) == (12, "mild")
    assert body["items"] == items
    assert body["observed_at"] == "2026-06-15T08:30:00+00:00"
    assert body["date"] == "2026-06-15"
    assert (body["instrument_id"], body["instrument_version"]) == ("cows-11", "1")
    assert body["observer"] == {"id": counselor.id, "display_name": counselor.display_name}
    # The patient sees it, and who recorded it is in their access log (ids, never scores).
    mine = client.get("/api/v1/observations", headers=patient.headers).json
    assert mine["items"] == [body]
    (event,) = [e for e in access_log(client, patient) if e["action"] == "observation_recorded"]
    assert event["actor"]["id"] == counselor.id
    assert event["detail"]["observation_id"] == body["id"]
    assert "total" not in event["detail"] and "items" not in event["detail"]


def test_the_date_is_the_patients_local_day(client, shared):
    patient, counselor = shared
    # 01:30 UTC on the 15th is still the 14th in New York.
    body = post(client, counselor, patient.id, cows(), "2026-06-15T01:30:00Z").json
    assert (body["date"], body["total"], body["band"]) == ("2026-06-14", 0, None)


@pytest.mark.parametrize(
    ("values", "total", "band"),
    [
        ({"sweating": 4}, 4, None),
        ({"sweating": 4, "tremor": 1}, 5, "mild"),
        ({"restlessness": 5, "pupil_size": 5, "gi_upset": 3}, 13, "moderate"),
        (
            {"restlessness": 5, "pupil_size": 5, "gi_upset": 5, "gooseflesh_skin": 5, "tremor": 4},
            24,
            "moderate",
        ),
        (
            {
                "restlessness": 5,
                "pupil_size": 5,
                "gi_upset": 5,
                "gooseflesh_skin": 5,
                "tremor": 4,
                "yawning": 1,
            },
            25,
            "moderately_severe",
        ),
        (
            dict.fromkeys(("restlessness", "pupil_size", "gi_upset", "gooseflesh_skin"), 5)
            | dict.fromkeys(("resting_pulse", "sweating", "tremor", "yawning"), 4),
            36,
            "moderately_severe",
        ),
        (
            dict.fromkeys(("restlessness", "pupil_size", "gi_upset", "gooseflesh_skin"), 5)
            | dict.fromkeys(("resting_pulse", "sweating", "tremor", "yawning"), 4)
            | {"anxiety_or_irritability": 1},
            37,
            "severe",
        ),
        ({item.item_id: max(item.values) for item in COWS.items}, 48, "severe"),
    ],
)
def test_band_edges_through_http(client, shared, values, total, band):
    patient, counselor = shared
    body = post(client, counselor, patient.id, cows(**values)).json
    assert (body["total"], body["band"]) == (total, band)


def test_invalid_items_are_422_naming_each_and_nothing_is_recorded(client, shared):
    patient, counselor = shared
    for items, named in (
        (cows(gooseflesh_skin=1), {"items.gooseflesh_skin"}),
        (cows(resting_pulse=3), {"items.resting_pulse"}),
        ({**cows(), "craving": 1}, {"items.craving"}),
        ({k: v for k, v in cows().items() if k != "tremor"}, {"items.tremor"}),
        (
            dict.fromkeys(SOWS_GOSSOP.item_ids, 0),
            {f"items.{i}" for i in (*COWS.item_ids, *SOWS_GOSSOP.item_ids) if i != "yawning"},
        ),
    ):
        response = post(client, counselor, patient.id, items)
        assert response.status_code == 422, items
        assert set(response.json["errors"]) == named
    assert client.get("/api/v1/observations", headers=patient.headers).json["items"] == []
    actions = [e["action"] for e in access_log(client, patient)]
    assert "observation_recorded" not in actions


@pytest.mark.parametrize(
    ("observed_at", "rule"),
    [
        ("2026-06-15T12:06:00Z", "Must not be in the future (5 minutes of clock skew)."),
        ("1999-12-31T23:59:59Z", "Must be 2000-01-01T00:00:00Z or later."),
    ],
)
def test_observed_at_is_neither_in_the_future_nor_before_2000(client, shared, observed_at, rule):
    patient, counselor = shared
    response = post(client, counselor, patient.id, cows(), observed_at)
    assert response.status_code == 422
    assert response.json["errors"] == {"observed_at": [rule]}


def test_observed_at_needs_an_offset(client, shared):
    patient, counselor = shared
    for value in ("2026-06-15T10:00:00", "yesterday", None):
        response = post(client, counselor, patient.id, cows(), value)
        assert response.status_code == 422
        assert list(response.json["errors"]) == ["observed_at"]
    # A small clock skew ahead is fine.
    assert post(client, counselor, patient.id, cows(), "2026-06-15T12:04:00Z").status_code == 201


def test_a_retried_post_answers_the_stored_observation(client, shared):
    patient, counselor = shared
    first = post(client, counselor, patient.id, cows(tremor=2))
    retry = post(client, counselor, patient.id, cows(tremor=2), "2026-06-15T08:30:00Z")
    assert retry.status_code == 200
    assert retry.json == first.json
    other = post(client, counselor, patient.id, cows(tremor=4))
    assert other.status_code == 409
    assert list(other.json["errors"]) == ["observed_at"]
    later = post(client, counselor, patient.id, cows(tremor=4), "2026-06-15T11:00:00Z")
    assert later.status_code == 201
    listed = client.get("/api/v1/observations", headers=patient.headers).json["items"]
    assert [o["id"] for o in listed] == [first.json["id"], later.json["id"]]


def test_recording_needs_an_active_share_with_assess(client, factory):
    patient, other_patient = factory.patient(), factory.patient()
    without_assess, with_assess, stranger = (factory.counselor() for _ in range(3))
    factory.share(patient, without_assess)
    factory.share(patient, with_assess, scope=["assess"])
    factory.share(other_patient, stranger, scope=ALL_SCOPES)
    assert post(client, with_assess, patient.id, cows()).status_code == 201
    for counselor in (without_assess, stranger):
        refused = post(client, counselor, patient.id, cows())
        assert refused.status_code == 404
        assert refused.content_type == "application/problem+json"
        reads = client.get(
            f"/api/v1/patients/{patient.id}/observations", headers=counselor.headers
        )
        assert reads.status_code == 404
    assert post(client, patient, patient.id, cows()).status_code == 403
    ghost = "00000000-0000-4000-8000-000000000000"
    assert post(client, with_assess, ghost, cows()).status_code == 404


def test_revoking_the_share_stops_recording_at_once(client, factory):
    patient, counselor = factory.patient(), factory.counselor()
    share = factory.share(patient, counselor, scope=["assess"])
    assert post(client, counselor, patient.id, cows()).status_code == 201
    client.delete(f"/api/v1/shares/{share['id']}", headers=patient.headers)
    assert post(client, counselor, patient.id, cows(), "2026-06-15T11:00:00Z").status_code == 404
    # The patient's record stays theirs.
    assert len(client.get("/api/v1/observations", headers=patient.headers).json["items"]) == 1


def test_counselors_read_observations_with_assess_and_it_is_logged(client, shared, factory):
    patient, counselor = shared
    post(client, counselor, patient.id, cows(sweating=3))
    colleague = factory.counselor()
    factory.share(patient, colleague, scope=["assess"])
    read = client.get(
        f"/api/v1/patients/{patient.id}/observations?from=2026-06-01", headers=colleague.headers
    )
    assert read.status_code == 200
    assert [o["total"] for o in read.json["items"]] == [3]
    assert read.json["items"][0]["observer"]["id"] == counselor.id
    events = [e for e in access_log(client, patient) if e["action"] == "observations_viewed"]
    assert [e["actor"]["id"] for e in events] == [colleague.id]
    assert events[0]["detail"]["start"] == "2026-06-01"


def test_counselors_read_sows_responses_with_checkins_and_it_is_logged(client, factory):
    patient = factory.patient()
    reader, no_checkins = factory.counselor(), factory.counselor()
    factory.share(patient, reader, scope=["checkins"])
    factory.share(patient, no_checkins, scope=["trends", "status", "export", "assess"])
    items = dict.fromkeys(SOWS_GOSSOP.item_ids, 2)
    client.put(
        "/api/v1/instruments/sows-gossop-10/responses/2026-06-15",
        json={"items": items},
        headers=patient.headers,
    )
    path = f"/api/v1/patients/{patient.id}/instruments/sows-gossop-10/responses"
    read = client.get(path, headers=reader.headers)
    assert read.status_code == 200
    assert [(r["date"], r["total"]) for r in read.json["items"]] == [("2026-06-15", 20)]
    assert client.get(path, headers=no_checkins.headers).status_code == 404
    cows_path = f"/api/v1/patients/{patient.id}/instruments/cows-11/responses"
    assert client.get(cows_path, headers=reader.headers).status_code == 404
    events = [
        e for e in access_log(client, patient) if e["action"] == "instrument_responses_viewed"
    ]
    assert [(e["actor"]["id"], e["detail"]["instrument_id"]) for e in events] == [
        (reader.id, "sows-gossop-10")
    ]


def test_patients_list_observations_by_range_and_page(client, shared):
    patient, counselor = shared
    for hours in (1, 30, 60):
        moment = (FIXED_NOW - timedelta(hours=hours)).isoformat()
        post(client, counselor, patient.id, cows(yawning=1), moment)
    page = client.get("/api/v1/observations?page_size=2", headers=patient.headers)
    assert (page.json["total_items"], len(page.json["items"])) == (3, 2)
    assert 'rel="next"' in page.headers["Link"]
    observed = [o["observed_at"] for o in page.json["items"]]
    assert observed == sorted(observed)
    one_day = client.get(
        "/api/v1/observations?from=2026-06-15&to=2026-06-15", headers=patient.headers
    ).json
    assert [o["date"] for o in one_day["items"]] == ["2026-06-15"]
    assert client.get("/api/v1/observations", headers=counselor.headers).status_code == 403


def test_account_deletion_takes_responses_and_observations_with_it(client, shared, factory):
    patient, counselor = shared
    post(client, counselor, patient.id, cows(tremor=1))
    client.put(
        "/api/v1/instruments/sows-gossop-10/responses/2026-06-15",
        json={"items": dict.fromkeys(SOWS_GOSSOP.item_ids, 1)},
        headers=patient.headers,
    )
    deleted = client.delete("/api/v1/me", json={"password": PASSWORD}, headers=patient.headers)
    assert deleted.status_code == 204
    from server.extensions import db
    from server.instruments.models import InstrumentObservation, InstrumentResponse

    with factory.app.app_context():
        for model in (InstrumentResponse, InstrumentObservation):
            assert db.session.query(model).filter_by(patient_id=patient.id).count() == 0


def test_the_observation_stays_when_the_observer_deletes_their_account(client, shared):
    patient, counselor = shared
    recorded = post(client, counselor, patient.id, cows(tremor=1)).json
    deleted = client.delete("/api/v1/me", json={"password": PASSWORD}, headers=counselor.headers)
    assert deleted.status_code == 204
    (kept,) = client.get("/api/v1/observations", headers=patient.headers).json["items"]
    assert kept == {**recorded, "observer": None}
