"""GET /trends/chart and the counselor's chart: flagged days, series and the SVG's words."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from tests.charts import SVG, get_svg, markers, texts

RANGE = "from=2026-11-02&to=2026-12-01"
CALM = {"nausea": 3, "aches": 3, "anxiety": 3, "insomnia": 3, "used_opioids": False}
# First check-in on 10 Nov; opioid use after three days without on 14 Nov (overdose risk);
# vomiting 8 on 20 and 21 Nov (dehydration risk on the second day); crisis on 25 Nov.
DAYS = {
    date(2026, 11, 10): CALM,
    date(2026, 11, 11): CALM,
    date(2026, 11, 12): CALM,
    date(2026, 11, 13): CALM,
    date(2026, 11, 14): {**CALM, "used_opioids": True},
    date(2026, 11, 20): {**CALM, "vomiting": 8},
    date(2026, 11, 21): {**CALM, "vomiting": 8},
    date(2026, 11, 25): {**CALM, "crisis": True},
    date(2026, 12, 1): CALM,
}


@pytest.fixture(autouse=True)
def fixed_clock():
    """The range ends on the patient's today; pin it."""
    with time_machine.travel(datetime(2026, 12, 1, 12, 0, tzinfo=UTC), tick=True):
        yield


@pytest.fixture
def patient(factory):
    """A patient who logged DAYS."""
    person = factory.patient()
    for day, body in DAYS.items():
        factory.checkin(person, day, **body)
    return person


def test_flagged_days_come_from_the_judgement(client, patient):
    root = get_svg(client, f"/api/v1/trends/chart?format=svg&{RANGE}", patient.headers)
    assert markers(root, "flag-crisis") == 1
    assert markers(root, "flag-overdose_risk") == 1
    assert markers(root, "flag-dehydration_risk") == 1
    assert markers(root, "flag-used_opioids") == 1
    words = texts(root)
    for entry in ("Crisis day", "Overdose risk day", "Dehydration risk day", "Opioid use day"):
        assert entry in words
    assert " No check-ins before 10 Nov 2026" in words
    assert "Symptom scores, 2 Nov – 1 Dec 2026" in words
    assert root.find(f"{SVG}title").text == "Symptom scores, 2 Nov – 1 Dec 2026"
    desc = root.find(f"{SVG}desc").text
    assert "9 of 30 days logged" in desc
    assert "Latest check-in 1 Dec 2026: total 12 of 40, level stable." in desc


def test_default_series_are_unchanged_and_vomiting_is_asked_for(client, patient):
    default = texts(get_svg(client, f"/api/v1/trends/chart?format=svg&{RANGE}", patient.headers))
    assert {"Nausea", "Aches", "Anxiety", "Insomnia", "Total"} <= set(default)
    assert "Vomiting" not in default
    root = get_svg(
        client,
        f"/api/v1/trends/chart?format=svg&{RANGE}&series=total,vomiting,diarrhea",
        patient.headers,
    )
    words = texts(root)
    assert {"Total", "Vomiting", "Diarrhoea"} <= set(words)
    assert "Nausea" not in words
    # Vomiting was answered on two days; the other days leave gaps, never zeros.
    assert markers(root, "series-vomiting") == 2


@pytest.mark.parametrize("series", ["cravings", "nausea,bogus", "", "Total"])
def test_unknown_series_is_422_naming_series(client, patient, series):
    response = client.get(f"/api/v1/trends/chart?series={series}", headers=patient.headers)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert "series" in response.json["errors"]


def test_counselor_chart_takes_series_and_shows_the_same_flags(client, factory, patient):
    counselor = factory.counselor()
    factory.share(patient, counselor)
    path = f"/api/v1/patients/{patient.id}/trends/chart?format=svg&{RANGE}"
    root = get_svg(client, f"{path}&series=vomiting", counselor.headers)
    assert "Vomiting" in texts(root)
    assert markers(root, "flag-dehydration_risk") == 1
    assert markers(root, "flag-crisis") == 1
    bad = client.get(f"{path}&series=weight", headers=counselor.headers)
    assert bad.status_code == 422
    assert "series" in bad.json["errors"]
