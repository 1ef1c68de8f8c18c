"""Reasons read by a counselor are written for the counselor; the patient's stay the patient's.

Every counselor view (alerts, the patient list, a patient's status, the counselor's PDF)
carries the counselor's wording of the same facts the patient reads about themselves.
"""

import datetime as dt
import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from server.assessments.judgement import RULES, assess
from tests.assessments.test_status_api import DOSING_RE, JUDGEMENTAL_RE
from tests.factories import CheckinRecord
from tests.instruments.recording import record_observation, record_response

TODAY = dt.date.today()
SECOND_PERSON_RE = re.compile(r"\b(you|your|yours|yourself|you're|you've)\b", re.I)

# Days logged (oldest first, ending today) that make each rule fire.
SCENARIOS = {
    "crisis": [{"crisis": True}],
    "severe_symptoms": [{"nausea": 9, "aches": 9}],
    "dehydration_risk": [{"vomiting": 7}, {"diarrhea": 8}],
    "overdose_risk": [{"used_opioids": False}] * 3 + [{"used_opioids": True}],
    "worsening_total": [{}, {}, {}, {"nausea": 8, "aches": 7}],
    "worsening_symptom": [{}, {}, {}, {"insomnia": 6}],
    "improving": [{"nausea": 8, "aches": 8}] * 3 + [{}],
    "no_baseline": [{}],
    "cows_severe": [{}],
    "sows_worsening": [{}] * 4,
}
# Instrument results recorded once the days are logged: (how, days before today, total).
RESULTS = {
    "cows_severe": [(record_observation, 0, 27)],
    # SOWS-Gossop 8, 9, 10 before: mean 9, so 13 is 4 above.
    "sows_worsening": [(record_response, 3, 8), (record_response, 2, 9)]
    + [(record_response, 1, 10), (record_response, 0, 13)],
}
ALERTING = {"crisis", "severe_symptoms", "dehydration_risk", "overdose_risk"} | {
    "worsening_total",
    "worsening_symptom",
    "cows_severe",
    "sows_worsening",
}


def assert_for_counselor(message: str) -> None:
    assert message.startswith("The patient"), message
    assert not SECOND_PERSON_RE.search(message), message
    assert not DOSING_RE.search(message), message
    assert not JUDGEMENTAL_RE.search(message), message


def assert_for_patient(message: str) -> None:
    assert "the patient" not in message.lower(), message
    assert not DOSING_RE.search(message), message
    assert not JUDGEMENTAL_RE.search(message), message


def messages(reasons: list[dict], code: str) -> list[str]:
    return [reason["message"] for reason in reasons if reason["code"] == code]


def test_every_rule_has_a_scenario():
    assert set(SCENARIOS) == {rule.code for rule in RULES}


@pytest.fixture
def sharing(app, factory):
    def build(code: str):
        patient, counselor = factory.patient(), factory.counselor()
        factory.share(patient, counselor)
        factory.log(patient, TODAY, SCENARIOS[code])
        for record, days_before, total in RESULTS.get(code, ()):
            record(app, patient, TODAY - dt.timedelta(days=days_before), total)
        return patient, counselor

    return build


@pytest.mark.parametrize("code", sorted(SCENARIOS))
def test_counselor_views_carry_the_counselors_wording(client, sharing, code):
    patient, counselor = sharing(code)
    own = client.get("/api/v1/status", headers=patient.headers).json["reasons"]
    status = client.get(f"/api/v1/patients/{patient.id}/status", headers=counselor.headers)
    [row] = client.get("/api/v1/patients", headers=counselor.headers).json["items"]
    for_patient = messages(own, code)
    for_counselor = messages(status.json["reasons"], code)
    assert for_patient and len(for_counselor) == len(for_patient)
    for message in for_patient:
        assert_for_patient(message)
    for message in for_counselor:
        assert_for_counselor(message)
    # The same reasons in the same order, only worded for the reader.
    assert [r["code"] for r in status.json["reasons"]] == [r["code"] for r in own]
    assert row["latest_assessment"]["reasons"] == status.json["reasons"]
    alerts = client.get("/api/v1/alerts", headers=counselor.headers).json["items"]
    if code in ALERTING:
        [alert] = alerts
        assert alert["reasons"] == status.json["reasons"]
    else:
        assert alerts == []


def test_severe_symptoms_read_as_a_report_about_the_patient(client, sharing):
    patient, counselor = sharing("severe_symptoms")
    [alert] = client.get("/api/v1/alerts", headers=counselor.headers).json["items"]
    assert messages(alert["reasons"], "severe_symptoms") == [
        "The patient reported nausea 9 and aches 9 (severe, 9 or more). They were asked to "
        "consider contacting their care team or a clinician that day."
    ]
    own = client.get("/api/v1/status", headers=patient.headers).json["reasons"]
    assert messages(own, "severe_symptoms") == [
        "Nausea 9 and aches 9 are severe (9 or more). Please consider contacting your care "
        "team or a clinician today."
    ]


def pdf_text(response) -> str:
    """The PDF's text with line wraps undone."""
    reader = PdfReader(io.BytesIO(response.data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@pytest.mark.parametrize("code", ["crisis", "overdose_risk"])
def test_the_counselors_pdf_has_the_counselors_wording_and_the_patients_their_own(
    client, sharing, code
):
    patient, counselor = sharing(code)
    own_reasons = client.get("/api/v1/status", headers=patient.headers).json["reasons"]
    status = client.get(f"/api/v1/patients/{patient.id}/status", headers=counselor.headers)
    [for_counselor] = messages(status.json["reasons"], code)
    [for_patient] = messages(own_reasons, code)
    theirs = client.get(
        f"/api/v1/patients/{patient.id}/export?format=pdf", headers=counselor.headers
    )
    own = client.get("/api/v1/export?format=pdf", headers=patient.headers)
    assert theirs.status_code == own.status_code == 200
    assert for_counselor in pdf_text(theirs)
    assert for_patient not in pdf_text(theirs)
    assert for_patient in pdf_text(own)
    assert for_counselor not in pdf_text(own)


core = st.integers(0, 10)
optional = st.one_of(st.none(), st.integers(0, 10))
answer = st.one_of(st.none(), st.booleans())


@st.composite
def days(draw):
    """A check-in and some earlier ones, with gaps, as the rules may see them."""
    offsets = draw(st.lists(st.integers(1, 12), unique=True, max_size=8))

    def day(offset: int) -> CheckinRecord:
        return CheckinRecord(
            date=TODAY - dt.timedelta(days=offset),
            nausea=draw(core),
            aches=draw(core),
            anxiety=draw(core),
            insomnia=draw(core),
            vomiting=draw(optional),
            diarrhea=draw(optional),
            used_opioids=draw(answer),
            crisis=draw(answer),
        )

    return day(0), [day(offset) for offset in offsets]


@settings(max_examples=300, deadline=None)
@given(days())
def test_every_reason_has_both_wordings_of_the_same_numbers(judged_days):
    current, history = judged_days
    for reason in assess(current, history).reasons:
        assert_for_patient(reason.message)
        assert_for_counselor(reason.counselor_message)
        # One set of facts: both wordings quote exactly the same numbers.
        numbers = re.compile(r"\d+(?:\.\d+)?")
        assert sorted(numbers.findall(reason.message)) == sorted(
            numbers.findall(reason.counselor_message)
        ), (reason.message, reason.counselor_message)
