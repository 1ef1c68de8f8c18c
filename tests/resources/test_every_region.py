"""Every ISO 3166-1 region gets help: emergency help (or the fallback) first, and a directory."""

import re
from datetime import date, timedelta

import pytest

from server.common.validation import REGION_CODES
from server.resources.service import FALLBACK_EMERGENCY_NAME, FALLBACK_EMERGENCY_TEXT

CRISIS_DAY = {"nausea": 3, "aches": 3, "anxiety": 8, "insomnia": 6, "crisis": True}
DIRECTORY = "Find A Helpline: crisis lines in your country"


def crisis_resources(client, patient, region: str) -> list[dict]:
    """Move the patient to `region`, log a crisis day and return the assessment's resources."""
    moved = client.patch("/api/v1/me", json={"region": region}, headers=patient.headers)
    assert moved.status_code == 200, moved.json
    day = date.today() - timedelta(days=1)
    saved = client.put(f"/api/v1/checkins/{day}", json=CRISIS_DAY, headers=patient.headers)
    assert saved.status_code in (200, 201), saved.json
    assessment = saved.json["assessment"]
    assert assessment["level"] == "crisis"
    return assessment["resources"]


def assert_emergency_first(resources: list[dict], region: str) -> None:
    assert resources, region
    first = resources[0]
    assert first["kind"] == "emergency", (region, first)
    assert first["region"] == region
    if first["name"] == FALLBACK_EMERGENCY_NAME:
        assert first["description"] == FALLBACK_EMERGENCY_TEXT
        assert first["phone"] is None  # never a number nobody confirmed
    else:
        assert first["source_url"].startswith(("https://", "http://")), first
        assert first["verified_on"], first
        assert first["phone"], first


def test_a_crisis_in_every_region_puts_emergency_help_first(client, factory):
    patient = factory.patient()
    seen = {"fallback": 0, "numbered": 0}
    for region in REGION_CODES:
        resources = crisis_resources(client, patient, region)
        assert_emergency_first(resources, region)
        seen["fallback" if resources[0]["name"] == FALLBACK_EMERGENCY_NAME else "numbered"] += 1
        directories = [r for r in resources if r["kind"] == "directory"]
        assert [d["url"] for d in directories] == [f"https://findahelpline.com/{region}"]
        for resource in resources:
            if resource["name"] != FALLBACK_EMERGENCY_NAME:
                assert resource["source_url"] and resource["verified_on"], resource
    # The research: 185 regions where both tables agree, plus curated ones.
    assert seen["numbered"] >= 185 and seen["fallback"] >= 8, seen


@pytest.mark.parametrize(
    ("region", "number"),
    [("FR", "15"), ("DE", "112"), ("JP", "119"), ("IE", "112"), ("AT", "112"), ("US", "911")],
)
def test_the_emergency_number_is_the_curated_or_agreed_one(client, factory, region, number):
    resources = crisis_resources(client, factory.patient(), region)
    assert resources[0]["phone"] == number


@pytest.mark.parametrize("region", ["CM", "MA", "RS", "AQ", "GQ"])  # tables disagree or absent
def test_where_no_number_is_confirmed_the_fallback_comes_first(client, factory, region):
    resources = crisis_resources(client, factory.patient(), region)
    assert resources[0]["name"] == FALLBACK_EMERGENCY_NAME
    assert [r["name"] for r in resources] == [FALLBACK_EMERGENCY_NAME, DIRECTORY]


@pytest.mark.parametrize(
    "body",
    [
        # overdose risk: use after three calm check-ins
        {"nausea": 2, "aches": 2, "anxiety": 2, "insomnia": 2, "used_opioids": True},
        # dehydration: vomiting 7+ today and yesterday
        {"nausea": 2, "aches": 2, "anxiety": 2, "insomnia": 2, "vomiting": 8},
    ],
)
def test_overdose_and_dehydration_reasons_also_put_emergency_first(client, factory, body):
    patient = factory.patient(region="CM")
    today = date.today()
    calm = {"nausea": 2, "aches": 2, "anxiety": 2, "insomnia": 2, "used_opioids": False}
    for back in (4, 3, 2):
        factory.checkin(patient, today - timedelta(days=back), **calm)
    yesterday = {**calm, "vomiting": 8} if "vomiting" in body else calm
    factory.checkin(patient, today - timedelta(days=1), **yesterday)
    saved = client.put(f"/api/v1/checkins/{today}", json=body, headers=patient.headers)
    assert saved.status_code in (200, 201), saved.json
    assessment = saved.json["assessment"]
    assert {"overdose_risk", "dehydration_risk"} & {r["code"] for r in assessment["reasons"]}
    assert_emergency_first(assessment["resources"], "CM")


def test_the_fallback_text_promises_no_number():
    # 112 and 911 appear only as something to try, never as "the" number.
    assert set(re.findall(r"\d+", FALLBACK_EMERGENCY_TEXT)) == {"112", "911"}
    assert "isn't guaranteed" in FALLBACK_EMERGENCY_TEXT


def test_the_regions_list_says_what_each_region_gets(client):
    response = client.get("/api/v1/resources/regions")
    assert response.status_code == 200
    body = response.json
    assert body["default"] == "US"
    by_code = {item["code"]: item for item in body["items"]}
    assert sorted(by_code) == sorted(REGION_CODES)
    assert by_code["FR"] == {
        "code": "FR",
        "curated": True,
        "emergency": "curated",
        "treatment_finder_url": "https://findahelpline.com/FR",
    }
    assert by_code["IE"]["curated"] and by_code["IE"]["emergency"] == "derived"
    assert by_code["AT"] == {
        "code": "AT",
        "curated": False,
        "emergency": "derived",
        "treatment_finder_url": "https://findahelpline.com/AT",
    }
    assert by_code["CM"]["emergency"] == "fallback"
    assert by_code["US"]["treatment_finder_url"] == "https://findtreatment.gov/locator"
    assert by_code["GB"]["treatment_finder_url"].startswith("https://www.talktofrank.com/")


def test_registration_without_a_region_is_the_documented_default(client, factory):
    patient = factory.patient()
    assert client.get("/api/v1/me", headers=patient.headers).json["region"] == "US"
