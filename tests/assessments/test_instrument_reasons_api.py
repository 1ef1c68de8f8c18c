"""Instrument results in the judgement of days, through the HTTP API and the dashboard.

Days are judged where they always were, on the days with a check-in; a SOWS response or
a COWS observation of a logged day re-judges it (and the days whose baseline it is), so
status, the caseload, the dashboard's day levels and the alerts all agree.
"""

from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
import time_machine

from tests.dashboard.helpers import Dashboard, text_of
from tests.factories import MODERATE_SCORES
from tests.instruments.recording import record_observation, record_response
from tests.platform.test_statement_counts import statements  # noqa: F401 (fixture)

FIXED_NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
TODAY = date(2026, 6, 15)


@pytest.fixture(autouse=True)
def fixed_clock():
    with time_machine.travel(FIXED_NOW, tick=True):
        yield


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


@pytest.fixture
def shared(factory):
    """A patient with a calm week logged up to today, sharing everything with a counselor."""
    patient, counselor = factory.patient(), factory.counselor()
    factory.share(patient, counselor)
    factory.log(patient, TODAY, [dict(MODERATE_SCORES)] * 4)
    return patient, counselor


def status_of(client, person, patient=None):
    path = f"/api/v1/patients/{patient.id}/status" if patient else "/api/v1/status"
    response = client.get(path, headers=person.headers)
    assert response.status_code == 200, response.json
    return response.json


def codes(assessment) -> list[str]:
    return [reason["code"] for reason in assessment["reasons"]]


def alerts_of(client, counselor) -> list[dict]:
    return client.get("/api/v1/alerts", headers=counselor.headers).json["items"]


def test_a_moderately_severe_cows_makes_the_logged_day_severe_everywhere(app, client, shared):
    patient, counselor = shared
    assert status_of(client, patient)["level"] == "stable"
    assert alerts_of(client, counselor) == []

    record_observation(app, patient, TODAY, 27, observer=counselor)

    own = status_of(client, patient)
    assert (own["level"], codes(own)) == ("severe", ["cows_severe"])
    assert (
        "COWS (Clinical Opiate Withdrawal Scale) observation today totalled 27, in the "
        in (own["reasons"][0]["message"])
    )
    assert "moderately severe band" in own["reasons"][0]["message"]
    # A severe day lists the crisis and medical help a severe check-in lists.
    assert {"crisis", "medical"} <= {resource["kind"] for resource in own["resources"]}
    theirs = status_of(client, counselor, patient)
    assert theirs["reasons"][0]["message"].startswith("The patient's COWS")
    [row] = client.get("/api/v1/patients", headers=counselor.headers).json["items"]
    assert row["latest_assessment"] == {"level": "severe", "reasons": theirs["reasons"]}
    [alert] = alerts_of(client, counselor)
    assert (alert["checkin_date"], alert["level"]) == (str(TODAY), "severe")
    assert alert["reasons"] == theirs["reasons"]


@pytest.mark.parametrize(("total", "level"), [(24, "stable"), (25, "severe"), (37, "severe")])
def test_the_cows_band_edges_through_status(app, client, shared, total, level):
    patient, counselor = shared
    record_observation(app, patient, TODAY, total, observer=counselor)
    assert status_of(client, patient)["level"] == level
    assert len(alerts_of(client, counselor)) == (level == "severe")


def test_results_of_a_day_without_a_check_in_judge_nothing(app, client, factory):
    patient, counselor = factory.patient(), factory.counselor()
    factory.share(patient, counselor)
    factory.log(patient, days_ago(1), [dict(MODERATE_SCORES)] * 3)
    record_observation(app, patient, TODAY, 40, observer=counselor)
    record_response(app, patient, TODAY, 30)
    # The latest logged day is yesterday; today's results are no check-in of their own.
    latest = status_of(client, patient)
    assert (latest["checkin_date"], latest["level"]) == (str(days_ago(1)), "stable")
    assert alerts_of(client, counselor) == []


def test_a_check_in_saved_after_its_results_is_judged_with_them(app, client, factory):
    patient, counselor = factory.patient(), factory.counselor()
    factory.share(patient, counselor)
    factory.log(patient, days_ago(1), [dict(MODERATE_SCORES)] * 3)
    # SOWS-Gossop 8 and 9 before: mean 8.5; 13 is 4.5 above it.
    for days_before, total in ((2, 8), (1, 9), (0, 13)):
        record_response(app, patient, days_ago(days_before), total)
    response = factory.checkin(patient, TODAY, **MODERATE_SCORES)
    assessment = response.json["assessment"]
    assert (assessment["level"], codes(assessment)) == ("worsening", ["sows_worsening"])
    assert assessment["reasons"][0]["message"] == (
        "Your SOWS-Gossop (Short Opiate Withdrawal Scale) total is 13, 4 or more points above "
        "your 7-day average of 8.5."
    )
    [alert] = alerts_of(client, counselor)
    assert alert["reasons"][0]["message"] == (
        "The patient's SOWS-Gossop (Short Opiate Withdrawal Scale) total was 13, 4 or more "
        "points above their 7-day average of 8.5."
    )


def test_a_baseline_filled_in_later_rejudges_the_days_after_it(app, client, shared):
    patient, counselor = shared
    record_response(app, patient, TODAY, 13)
    record_response(app, patient, days_ago(2), 8)
    # One earlier response is too few for a baseline (two are needed).
    assert codes(status_of(client, patient)) == []
    record_response(app, patient, days_ago(1), 9)
    assert codes(status_of(client, patient)) == ["sows_worsening"]
    [alert] = alerts_of(client, counselor)
    assert (alert["checkin_date"], alert["level"]) == (str(TODAY), "worsening")


def test_a_corrected_response_drops_the_alert_no_one_acknowledged(app, client, shared):
    patient, counselor = shared
    for days_before, total in ((2, 8), (1, 9), (0, 13)):
        record_response(app, patient, days_ago(days_before), total)
    assert len(alerts_of(client, counselor)) == 1
    record_response(app, patient, TODAY, 10)
    assert status_of(client, patient)["level"] == "stable"
    assert alerts_of(client, counselor) == []


def test_an_acknowledged_alert_stays_when_the_day_calms(app, client, shared):
    patient, counselor = shared
    for days_before, total in ((2, 8), (1, 9), (0, 13)):
        record_response(app, patient, days_ago(days_before), total)
    [alert] = alerts_of(client, counselor)
    acknowledged = client.post(
        f"/api/v1/alerts/{alert['id']}/acknowledge", headers=counselor.headers
    )
    assert acknowledged.status_code == 200
    record_response(app, patient, TODAY, 10)
    [kept] = client.get("/api/v1/alerts?status=all", headers=counselor.headers).json["items"]
    assert kept["id"] == alert["id"]


def test_the_dashboard_shows_each_logged_days_instrument_reasons(app, client, shared):
    patient, counselor = shared
    record_observation(app, patient, days_ago(2), 30, observer=counselor)
    record_observation(app, patient, days_ago(1), 12, observer=counselor)
    dashboard = Dashboard(app.test_client())
    dashboard.sign_in(counselor)
    page = unescape(text_of(dashboard.get(f"/dashboard/patients/{patient.id}")))
    assert "observation on this day totalled 30, in the moderately severe band" in page
    assert "totalled 12" not in page


def test_status_reads_the_results_in_one_statement_however_many(
    app,
    client,
    shared,
    statements,  # noqa: F811
):
    patient, counselor = shared
    counts = []
    for day in (3, 2, 1):
        record_observation(app, patient, days_ago(day), 10, observer=counselor)
        record_response(app, patient, days_ago(day), 5)
        with statements() as log:
            assert status_of(client, patient)["level"] == "stable"
        counts.append(log.count())
    # Session check, the latest day with its history, its instrument results.
    assert counts == [3, 3, 3], log.data


def test_the_caseload_reads_everyones_results_in_one_statement(
    app,
    client,
    factory,
    statements,  # noqa: F811
):
    counselor = factory.counselor()
    counts = []
    for size in (1, 4):
        while len(client.get("/api/v1/patients", headers=counselor.headers).json["items"]) < size:
            patient = factory.patient()
            factory.share(patient, counselor)
            factory.log(patient, TODAY, [dict(MODERATE_SCORES)] * 2)
            record_observation(app, patient, TODAY, 30, observer=counselor)
        with statements() as log:
            rows = client.get("/api/v1/patients", headers=counselor.headers).json["items"]
        assert [row["latest_assessment"]["level"] for row in rows] == ["severe"] * size
        counts.append(log.count())
    # Session check, shares, everyone's recent days, everyone's results, the audit insert.
    assert counts == [5, 5], log.data


def test_the_dashboards_day_levels_read_the_results_once_for_the_whole_range(
    app,
    factory,
    statements,  # noqa: F811
):
    counselor = factory.counselor()
    dashboard = Dashboard(app.test_client())
    dashboard.sign_in(counselor)
    counts = []
    for logged in (2, 8):
        patient = factory.patient()
        factory.share(patient, counselor)
        factory.log(patient, TODAY, [dict(MODERATE_SCORES)] * logged)
        for day in range(logged):
            record_observation(app, patient, days_ago(day), 30, observer=counselor)
        with statements() as log:
            page = text_of(dashboard.get(f"/dashboard/patients/{patient.id}"))
        assert page.count("in the moderately severe band") == logged
        counts.append(log.count())
    assert counts[0] == counts[1], log.data


# --- through the instruments API's own writes ----------------------------------------------

GOSSOP = "/api/v1/instruments/sows-gossop-10"
COWS_27 = {
    "resting_pulse": 4,
    "sweating": 4,
    "restlessness": 5,
    "pupil_size": 5,
    "bone_or_joint_aches": 4,
    "runny_nose_or_tearing": 4,
    "gi_upset": 1,
}


def test_the_apis_writes_rejudge_the_day_and_its_alerts(client, factory):
    patient, counselor = factory.patient(), factory.counselor()
    factory.share(patient, counselor, scope=("checkins", "trends", "status", "export", "assess"))
    factory.log(patient, TODAY, [dict(MODERATE_SCORES)] * 4)
    # Every item 0 on the two days before (total 0), every item 1 today (total 10).
    for days_before, value in ((2, 0), (1, 0), (0, 1)):
        factory.instrument_response(patient, "sows-gossop-10", days_ago(days_before), value)
    assert codes(status_of(client, patient)) == ["sows_worsening"]
    assert [alert["level"] for alert in alerts_of(client, counselor)] == ["worsening"]
    # Deleting today's response takes the reason, and the alert no one acknowledged, away.
    deleted = client.delete(f"{GOSSOP}/responses/{TODAY}", headers=patient.headers)
    assert deleted.status_code == 204
    assert codes(status_of(client, patient)) == []
    assert alerts_of(client, counselor) == []

    observed = factory.cows_observation(counselor, patient, **COWS_27)
    assert (observed.json["total"], observed.json["band"]) == (27, "moderately_severe")
    assert codes(status_of(client, patient)) == ["cows_severe"]
    [alert] = alerts_of(client, counselor)
    assert (alert["checkin_date"], alert["level"]) == (str(TODAY), "severe")
