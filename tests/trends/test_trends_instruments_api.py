"""Instrument totals in GET /trends and a counselor's trends, through the HTTP API."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from tests.factories import MODERATE_SCORES
from tests.instruments.recording import record_observation, record_response

FIXED_NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
RANGE = "?from=2026-06-08&to=2026-06-14"


@pytest.fixture(autouse=True)
def fixed_clock():
    with time_machine.travel(FIXED_NOW, tick=True):
        yield


@pytest.fixture
def recorded(app, factory):
    """A patient sharing with a counselor, with check-ins and results around 8-14 June."""
    patient, counselor = factory.patient(), factory.counselor()
    factory.share(patient, counselor)
    factory.checkin(patient, date(2026, 6, 10), **MODERATE_SCORES)  # total 18
    for day, total in (("2026-06-03", 16), ("2026-06-10", 12), ("2026-06-13", 9)):
        record_response(app, patient, date.fromisoformat(day), total)
    record_response(app, patient, date(2026, 6, 11), 40, instrument_id="sows-handelsman-16")
    for total in (20, 27):
        record_observation(app, patient, date(2026, 6, 10), total, observer=counselor)
    return patient, counselor


def series_of(body: dict) -> dict[str, dict]:
    return {entry["instrument_id"]: entry for entry in body["instruments"]}


def test_trends_carry_each_instruments_totals_apart_from_the_scores(client, recorded):
    patient, _ = recorded
    response = client.get(f"/api/v1/trends{RANGE}", headers=patient.headers)
    assert response.status_code == 200
    body = response.json
    series = series_of(body)
    assert list(series) == ["sows-gossop-10", "sows-handelsman-16", "cows-11"]
    gossop = series["sows-gossop-10"]
    assert (gossop["total_min"], gossop["total_max"]) == (0, 30)
    assert gossop["days"] == [
        {"date": "2026-06-10", "total": 12, "band": None, "results": 1},
        {"date": "2026-06-13", "total": 9, "band": None, "results": 1},
    ]
    # 12 and 9 -> 10.5; the week before (1-7 June) has 16; change -5.5.
    assert gossop["summary"] == {
        "mean": 10.5,
        "min": 9,
        "max": 12,
        "latest": 9,
        "previous_mean": 16.0,
        "change": -5.5,
        "days_recorded": 2,
    }
    assert series["sows-handelsman-16"]["days"] == [
        {"date": "2026-06-11", "total": 40, "band": None, "results": 1}
    ]
    # Two observations on the 10th: the day shows the higher one and counts both.
    assert series["cows-11"]["days"] == [
        {"date": "2026-06-10", "total": 27, "band": "moderately_severe", "results": 2}
    ]
    # The check-in's scores and 0-40 total are untouched by any instrument.
    [day] = [d for d in body["days"] if d["date"] == "2026-06-10"]
    assert (day["total"], "instruments" in day) == (18, False)
    assert body["summary"]["total"]["mean"] == 18.0
    assert body["days_logged"] == 1


def test_a_counselors_trends_carry_cows_only_with_assess(client, factory, recorded):
    """COWS totals are `assess` data: without it the counselor's trends leave COWS out."""
    patient, counselor = recorded
    own = client.get(f"/api/v1/trends{RANGE}", headers=patient.headers).json
    theirs = client.get(f"/api/v1/patients/{patient.id}/trends{RANGE}", headers=counselor.headers)
    assert theirs.status_code == 200
    assert theirs.json["instruments"] == [
        s for s in own["instruments"] if s["instrument_id"] != "cows-11"
    ]
    assessor = factory.counselor()
    factory.share(patient, assessor, scope=("trends", "assess"))
    full = client.get(f"/api/v1/patients/{patient.id}/trends{RANGE}", headers=assessor.headers)
    assert full.status_code == 200
    assert full.json["instruments"] == own["instruments"]


def test_trends_without_results_list_every_instrument_empty(client, factory):
    patient = factory.patient()
    body = client.get(f"/api/v1/trends{RANGE}", headers=patient.headers).json
    assert [
        (s["instrument_id"], s["days"], s["summary"]["days_recorded"]) for s in body["instruments"]
    ] == [
        ("sows-gossop-10", [], 0),
        ("sows-handelsman-16", [], 0),
        ("cows-11", [], 0),
    ]


def test_a_new_result_changes_the_trends_etag(app, client, recorded):
    patient, _ = recorded
    first = client.get(f"/api/v1/trends{RANGE}", headers=patient.headers)
    etag = first.headers["ETag"]
    unchanged = client.get(
        f"/api/v1/trends{RANGE}", headers={**patient.headers, "If-None-Match": etag}
    )
    assert unchanged.status_code == 304
    record_response(app, patient, date(2026, 6, 14), 5)
    changed = client.get(
        f"/api/v1/trends{RANGE}", headers={**patient.headers, "If-None-Match": etag}
    )
    assert changed.status_code == 200
    assert series_of(changed.json)["sows-gossop-10"]["summary"]["latest"] == 5
