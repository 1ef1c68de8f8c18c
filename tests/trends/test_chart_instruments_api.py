"""Instrument panels in the patient's and a counselor's chart, results made through the API."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from server.vocabulary import SCOPES
from tests.charts import SVG, get_svg, group, markers, texts

RANGE = "from=2026-11-02&to=2026-12-01"
GOSSOP = "sows-gossop-10"
CHECKIN = {"nausea": 3, "aches": 3, "anxiety": 3, "insomnia": 3, "used_opioids": False}
NO_ASSESS = ("checkins", "trends", "status", "export")


@pytest.fixture(autouse=True)
def fixed_clock():
    """The range ends on the patient's today; pin it (COWS are observed 'now')."""
    with time_machine.travel(datetime(2026, 12, 1, 12, 0, tzinfo=UTC), tick=True):
        yield


@pytest.fixture
def recorded(factory):
    """A patient with SOWS-Gossop on 20, 21 and 25 Nov and COWS on 30 Nov and 1 Dec."""
    patient, assessor = factory.patient(), factory.counselor()
    factory.checkin(patient, date(2026, 11, 20), **CHECKIN)
    factory.share(patient, assessor, scope=SCOPES)
    for day, value in ((date(2026, 11, 20), 1), (date(2026, 11, 21), 2), (date(2026, 11, 25), 3)):
        factory.instrument_response(patient, GOSSOP, day, value)  # totals 10, 20, 30
    factory.cows_observation(assessor, patient, hours_ago=24, gooseflesh_skin=5)  # 30 Nov: 5
    factory.cows_observation(
        assessor, patient, resting_pulse=4, sweating=4, restlessness=5, pupil_size=5
    )  # 1 Dec: 18, moderate
    return patient, assessor


def test_patient_chart_draws_each_instrument_on_its_own_axis(client, recorded):
    patient, _ = recorded
    root = get_svg(
        client,
        f"/api/v1/trends/chart?format=svg&{RANGE}&series=total,{GOSSOP},cows-11",
        patient.headers,
    )
    words = texts(root)
    assert {"SOWS-Gossop", "(0–30)", "COWS", "(0–48)", "Total (0–40)"} <= set(words)
    assert "Short Opiate Withdrawal Scale (SOWS-Gossop)" in words
    assert "Clinical Opiate Withdrawal Scale (COWS)" in words
    assert {"mild", "moderate", "severe"} <= set(words)
    assert markers(root, f"series-{GOSSOP}") == 3
    assert markers(root, "series-cows-11") == 2
    assert group(root, "band-cows-11-mild") is not None
    assert group(root, f"band-{GOSSOP}-mild") is None
    desc = root.find(f"{SVG}desc").text
    assert "Latest SOWS-Gossop 25 Nov 2026: total 30 of 30." in desc
    assert "Latest COWS 1 Dec 2026: total 18 of 48, moderate." in desc


def test_an_instrument_without_results_is_an_empty_panel_not_an_error(client, recorded):
    patient, _ = recorded
    root = get_svg(
        client,
        f"/api/v1/trends/chart?format=svg&{RANGE}&series=sows-handelsman-16",
        patient.headers,
    )
    assert "No SOWS-Handelsman results in this range" in texts(root)
    assert markers(root, "series-sows-handelsman-16") == 0
    assert "No SOWS-Handelsman results in this range." in root.find(f"{SVG}desc").text
    png = client.get(f"/api/v1/trends/chart?{RANGE}&series={GOSSOP}", headers=patient.headers)
    assert png.status_code == 200
    assert png.mimetype == "image/png"


@pytest.mark.parametrize("series", ["sows-gossop-11", "COWS-11", "cows", f"nausea,{GOSSOP}x"])
def test_unknown_instrument_series_is_422_naming_series(client, recorded, series):
    patient, assessor = recorded
    for path, headers in (
        ("/api/v1/trends/chart", patient.headers),
        (f"/api/v1/patients/{patient.id}/trends/chart", assessor.headers),
    ):
        response = client.get(f"{path}?series={series}", headers=headers)
        assert response.status_code == 422
        assert response.content_type == "application/problem+json"
        assert "series" in response.json["errors"]


def test_counselor_chart_shows_cows_only_with_assess(client, factory, recorded):
    patient, assessor = recorded
    reader = factory.counselor()
    factory.share(patient, reader, scope=NO_ASSESS)
    path = f"/api/v1/patients/{patient.id}/trends/chart?format=svg&{RANGE}"
    # Patient-reported SOWS are trends data: the trends scope is enough.
    root = get_svg(client, f"{path}&series={GOSSOP}", reader.headers)
    assert markers(root, f"series-{GOSSOP}") == 3
    # COWS is assess data: 404, as the observations themselves, and nothing logged for it.
    refused = client.get(f"{path}&series=total,cows-11", headers=reader.headers)
    assert refused.status_code == 404
    assert refused.content_type == "application/problem+json"
    log = client.get("/api/v1/me/access-log?page_size=100", headers=patient.headers).json
    viewed = [e for e in log["items"] if e["action"] == "chart_viewed"]
    assert [e["actor"]["id"] for e in viewed] == [reader.id]
    # With assess the same request draws it, as the patient sees it.
    root = get_svg(client, f"{path}&series=total,cows-11", assessor.headers)
    assert markers(root, "series-cows-11") == 2
    assert "Latest COWS 1 Dec 2026: total 18 of 48, moderate." in root.find(f"{SVG}desc").text


def test_counselor_trends_and_chart_agree_on_cows(client, factory, recorded):
    """Without assess neither the trends nor the chart show COWS; with it both do."""
    patient, assessor = recorded
    reader = factory.counselor()
    factory.share(patient, reader, scope=NO_ASSESS)
    trends = f"/api/v1/patients/{patient.id}/trends?{RANGE}"
    chart = f"/api/v1/patients/{patient.id}/trends/chart?format=svg&{RANGE}&series=cows-11"
    without = client.get(trends, headers=reader.headers).json["instruments"]
    assert "cows-11" not in [s["instrument_id"] for s in without]
    assert client.get(chart, headers=reader.headers).status_code == 404
    with_assess = client.get(trends, headers=assessor.headers).json["instruments"]
    [cows] = [s for s in with_assess if s["instrument_id"] == "cows-11"]
    root = get_svg(client, chart, assessor.headers)
    assert markers(root, "series-cows-11") == len(cows["days"]) == 2
