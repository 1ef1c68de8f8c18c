"""Tests for the FHIR R4 Bundle export builder."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from server.checkins.schemas import CheckinInputSchema
from server.exports.fhir_bundle import build_bundle, iter_bundle
from tests.factories import MODERATE_SCORES, CheckinRecord

START = date(2025, 3, 1)
END = date(2025, 3, 7)
PRODUCED = datetime(2025, 3, 8, 9, 30, tzinfo=UTC)
STAMP = datetime(2025, 3, 1, 21, 0, tzinfo=UTC)
BASE = "https://steady.example/fhir"
STEADY_CS = f"{BASE}/CodeSystem/steady-checkin"
PATIENT_ID = "5b0e7c1e-8f2d-4c1a-9d39-0a1b2c3d4e5f"
CANARY = "CANARY-note-7f3a"
REFERENCE_FIELDS = ("subject", "author", "source", "derivedFrom", "performer")


# This file's check-ins default to moderate scores, stamped the evening of the 1st.
Checkin = functools.partial(CheckinRecord, **MODERATE_SCORES, created_at=STAMP, updated_at=STAMP)


CHECKINS = [
    Checkin(
        date=date(2025, 3, 1),
        diarrhea=2,
        vomiting=0,
        cravings=8,
        sleep_hours=6.5,
        used_opioids=False,
        crisis=False,
        note=CANARY,
        updated_at=datetime(2025, 3, 1, 22, 15, tzinfo=timezone(timedelta(hours=-5))),
    ),
    Checkin(date=date(2025, 3, 3), nausea=9, note="   "),
    Checkin(date=date(2025, 3, 6), sleep_hours=8, crisis=True),
]


def _bundle(checkins=CHECKINS, *, include_notes: bool = True, **kwargs: Any) -> dict[str, Any]:
    """Build a bundle over the default range."""
    args: dict[str, Any] = {
        "patient_id": PATIENT_ID,
        "display_name": "Róisín K.",
        "checkins": checkins,
        "start": START,
        "end": END,
        "produced_at": PRODUCED,
        "include_notes": include_notes,
    }
    args.update(kwargs)
    return build_bundle(**args)


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """Resources of one type, in bundle order."""
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _dicts(node: Any) -> Iterator[dict[str, Any]]:
    """Yield every JSON object in a tree, the root included."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _dicts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _dicts(item)


def _references(resource: dict[str, Any]) -> list[str]:
    """Every Reference.reference held in the reference fields under test."""
    refs = []
    for field in REFERENCE_FIELDS:
        value = resource.get(field)
        for ref in value if isinstance(value, list) else [value] if value else []:
            refs.append(ref["reference"])
    return refs


def test_validates_against_r4b_models() -> None:
    """The whole bundle parses as an R4B Bundle with typed resources."""
    bundle = _bundle()
    model = Bundle.model_validate(bundle)
    kinds = [entry.resource.__class__.__name__ for entry in model.entry]
    assert kinds[:3] == ["Patient", "Questionnaire", "CodeSystem"]
    assert kinds.count("QuestionnaireResponse") == 3
    assert kinds.count("Observation") == 3
    # JSON-ready: survives a strict round trip unchanged.
    assert json.loads(json.dumps(bundle)) == bundle


def test_validator_is_not_a_no_op() -> None:
    """A broken status is rejected, so the positive checks mean something."""
    bundle = copy.deepcopy(_bundle())
    _resources(bundle, "QuestionnaireResponse")[0]["status"] = 42
    with pytest.raises(ValidationError):
        Bundle.model_validate(bundle)


def test_bundle_header_states_range_time_and_sensitivity() -> None:
    """Collection type, production time, range identifier and labels."""
    bundle = _bundle()
    assert bundle["type"] == "collection"
    assert bundle["timestamp"] == "2025-03-08T09:30:00Z"
    assert bundle["identifier"]["value"] == f"steady-export-{PATIENT_ID}-2025-03-01-2025-03-07"
    tags = bundle["meta"]["tag"]
    assert {"system": STEADY_CS, "code": "self-reported"}.items() <= tags[0].items()


def test_every_resource_has_the_eth_label() -> None:
    """ETH (substance abuse information sensitivity) is on the Bundle and all resources."""
    bundle = _bundle()
    for meta in [bundle["meta"], *(e["resource"]["meta"] for e in bundle["entry"])]:
        assert {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "ETH",
            "display": "substance abuse information sensitivity",
        } in meta["security"]


def test_references_resolve_inside_the_bundle() -> None:
    """subject/author/source/derivedFrom/performer all point at a fullUrl here."""
    bundle = _bundle()
    full_urls = {entry["fullUrl"] for entry in bundle["entry"]}
    assert len(full_urls) == len(bundle["entry"])
    patient_url = bundle["entry"][0]["fullUrl"]
    seen = 0
    for entry in bundle["entry"]:
        resource = entry["resource"]
        for ref in _references(resource):
            assert ref in full_urls
            seen += 1
        if resource["resourceType"] in ("QuestionnaireResponse", "Observation"):
            assert resource["subject"]["reference"] == patient_url
    for obs in _resources(bundle, "Observation"):
        target = next(
            e for e in bundle["entry"] if e["fullUrl"] == obs["derivedFrom"][0]["reference"]
        )
        assert target["resource"]["resourceType"] == "QuestionnaireResponse"
        assert obs["performer"] == [{"reference": patient_url}]
    assert seen == 3 * 3 + 3 * 3


def test_patient_is_pseudonymous() -> None:
    """Only the Steady id and display name: no email, birth date or telecom."""
    patient = _resources(_bundle(), "Patient")[0]
    assert patient["id"] == PATIENT_ID
    assert patient["identifier"] == [{"system": f"{BASE}/sid/steady-user", "value": PATIENT_ID}]
    assert patient["name"] == [{"text": "Róisín K."}]
    assert set(patient) == {"resourceType", "id", "meta", "identifier", "name"}


def test_questionnaire_definition() -> None:
    """Canonical URL, version, item types and Steady codes on every item."""
    questionnaire = _resources(_bundle(), "Questionnaire")[0]
    assert questionnaire["url"] == f"{BASE}/Questionnaire/steady-daily-checkin"
    assert questionnaire["version"] == "1.0.0"
    assert questionnaire["status"] == "active"
    assert questionnaire["name"] == "SteadyDailyCheckin"
    assert questionnaire["subjectType"] == ["Patient"]
    types = {item["linkId"]: item["type"] for item in questionnaire["item"]}
    assert types == {
        "day": "date",
        "nausea": "integer",
        "aches": "integer",
        "anxiety": "integer",
        "insomnia": "integer",
        "diarrhea": "integer",
        "vomiting": "integer",
        "cravings": "integer",
        "sleep_hours": "decimal",
        "used_opioids": "boolean",
        "crisis": "boolean",
        "taken": "string",
        "note": "string",
    }
    required = {item["linkId"] for item in questionnaire["item"] if item["required"]}
    assert required == {"day", "nausea", "aches", "anxiety", "insomnia"}
    for item in questionnaire["item"]:
        assert item["code"][0]["system"] == STEADY_CS
        assert item["code"][0]["code"] == item["linkId"]


def test_codes_resolve_in_the_included_codesystem() -> None:
    """Every Steady code used anywhere is defined by the bundled CodeSystem."""
    bundle = _bundle()
    codesystem = _resources(bundle, "CodeSystem")[0]
    assert codesystem["url"] == STEADY_CS
    assert codesystem["status"] == "active"
    assert codesystem["content"] == "complete"
    defined = {concept["code"] for concept in codesystem["concept"]}
    used = {
        node["code"]
        for node in _dicts(bundle)
        if node.get("system") == STEADY_CS and "code" in node
    }
    assert {"total", "self-reported", "nausea", "note"} <= used
    assert used <= defined


def test_no_loinc_anywhere() -> None:
    """No invented LOINC codes: no coding system mentions loinc."""
    systems = [node["system"] for node in _dicts(_bundle()) if "system" in node]
    assert len(systems) > 10
    for system in systems:
        assert "loinc" not in system.lower()


def test_questionnaire_responses() -> None:
    """One completed QR per day, canonical link, answers only for given values."""
    bundle = _bundle()
    questionnaire = _resources(bundle, "Questionnaire")[0]
    link_ids = {item["linkId"] for item in questionnaire["item"]}
    responses = _resources(bundle, "QuestionnaireResponse")
    assert len(responses) == len(CHECKINS)
    for response in responses:
        assert response["status"] == "completed"
        assert response["questionnaire"] == f"{BASE}/Questionnaire/steady-daily-checkin|1.0.0"
        assert {item["linkId"] for item in response["item"]} <= link_ids
    first = {item["linkId"]: item["answer"][0] for item in responses[0]["item"]}
    assert first["nausea"] == {"valueInteger": 3}
    assert first["sleep_hours"] == {"valueDecimal": 6.5}
    assert first["used_opioids"] == {"valueBoolean": False}
    assert first["note"] == {"valueString": CANARY}
    # Authored keeps the real instant, normalised to UTC.
    assert responses[0]["authored"] == "2025-03-02T03:15:00Z"
    second = {item["linkId"] for item in responses[1]["item"]}
    assert second == {"day", "nausea", "aches", "anxiety", "insomnia"}
    third = {item["linkId"]: item["answer"][0] for item in responses[2]["item"]}
    assert third["crisis"] == {"valueBoolean": True}
    assert third["sleep_hours"] == {"valueDecimal": 8.0}


def test_total_observations() -> None:
    """One final survey Observation per day carrying the total."""
    observations = _resources(_bundle(), "Observation")
    assert len(observations) == len(CHECKINS)
    for obs, checkin in zip(observations, CHECKINS, strict=True):
        assert obs["status"] == "final"
        category = obs["category"][0]["coding"][0]
        assert category["system"] == "http://terminology.hl7.org/CodeSystem/observation-category"
        assert category["code"] == "survey"
        assert obs["code"]["coding"][0] == {
            "system": STEADY_CS,
            "code": "total",
            "display": "Steady daily check-in total (0-40)",
        }
        assert obs["effectiveDateTime"] == checkin.date.isoformat()
        assert obs["valueInteger"] == checkin.total


def test_notes_only_when_included() -> None:
    """Without include_notes no note answer or text appears anywhere."""
    without = _bundle(include_notes=False)
    assert CANARY not in json.dumps(without)
    for response in _resources(without, "QuestionnaireResponse"):
        assert "note" not in {item["linkId"] for item in response["item"]}
    with_notes = _bundle(include_notes=True)
    notes = [
        item
        for response in _resources(with_notes, "QuestionnaireResponse")
        for item in response["item"]
        if item["linkId"] == "note"
    ]
    # The whitespace-only note is not an answer (FHIR strings cannot be blank).
    assert len(notes) == 1
    Bundle.model_validate(without)


def test_empty_range_is_a_valid_bundle() -> None:
    """No check-ins: Patient, Questionnaire and CodeSystem only, still valid."""
    bundle = _bundle([])
    Bundle.model_validate(bundle)
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == [
        "Patient",
        "Questionnaire",
        "CodeSystem",
    ]


def test_checkins_outside_the_range_are_left_out() -> None:
    """The bundle holds only days inside its stated range, in date order."""
    checkins = [
        Checkin(date=END),
        Checkin(date=START - timedelta(days=1)),
        Checkin(date=START),
        Checkin(date=END + timedelta(days=1)),
    ]
    observations = _resources(_bundle(checkins), "Observation")
    assert [o["effectiveDateTime"] for o in observations] == ["2025-03-01", "2025-03-07"]


def test_reproducible_full_urls() -> None:
    """Same input gives the same document; another patient gets other ids."""
    assert _bundle() == _bundle()
    other = _bundle(patient_id="another-patient")
    assert {e["fullUrl"] for e in other["entry"]}.isdisjoint(
        {e["fullUrl"] for e in _bundle()["entry"]}
    )
    for entry in _bundle()["entry"]:
        assert entry["fullUrl"].startswith("urn:uuid:")


def test_custom_base_url() -> None:
    """Canonical URLs follow the configured base."""
    bundle = _bundle(base_url="https://fhir.clinic.example/steady/")
    questionnaire = _resources(bundle, "Questionnaire")[0]
    assert (
        questionnaire["url"]
        == "https://fhir.clinic.example/steady/Questionnaire/steady-daily-checkin"
    )
    Bundle.model_validate(bundle)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start": END, "end": START},
        {"patient_id": "not a valid id!"},
        {"produced_at": datetime(2025, 3, 8, 9, 30)},
    ],
)
def test_bad_arguments_are_rejected(kwargs: dict[str, Any]) -> None:
    """Inverted ranges, invalid FHIR ids and naive datetimes raise ValueError."""
    with pytest.raises(ValueError):
        _bundle(**kwargs)


def test_the_bundle_streams_one_day_at_a_time() -> None:
    """Each day is encoded as it arrives, so a long range never sits in memory at once."""
    read: list[date] = []

    def lazily():
        for checkin in CHECKINS:
            read.append(checkin.date)
            yield checkin

    chunks = iter_bundle(
        patient_id=PATIENT_ID,
        display_name="Róisín K.",
        checkins=lazily(),
        start=START,
        end=END,
        produced_at=PRODUCED,
        include_notes=True,
    )
    opening = next(chunks)
    assert read == []  # the head, Patient, Questionnaire and CodeSystem need no day
    first_day = next(chunks)
    assert read == [date(2025, 3, 1)]
    assert first_day.count('"resourceType":"QuestionnaireResponse"') == 1
    text = opening + first_day + "".join(chunks)
    assert json.loads(text) == _bundle()


def test_a_bad_range_fails_before_streaming_starts() -> None:
    with pytest.raises(ValueError, match="start"):
        iter_bundle(
            patient_id=PATIENT_ID,
            display_name="x",
            checkins=[],
            start=END,
            end=START,
            produced_at=PRODUCED,
            include_notes=True,
        )


def test_each_response_states_the_day_it_describes() -> None:
    """A back-filled day: `authored` is when it was typed, the `day` answer is the day itself."""
    typed_later = datetime(2025, 3, 7, 8, 0, tzinfo=UTC)
    checkins = [
        Checkin(date=date(2025, 3, 2), updated_at=typed_later),
        Checkin(date=date(2025, 3, 4), updated_at=typed_later),
    ]
    bundle = _bundle(checkins)
    questionnaire = _resources(bundle, "Questionnaire")[0]
    day_question = next(item for item in questionnaire["item"] if item["linkId"] == "day")
    assert day_question["type"] == "date"
    responses = _resources(bundle, "QuestionnaireResponse")
    observations = _resources(bundle, "Observation")
    for checkin, response, observation in zip(checkins, responses, observations, strict=True):
        answers = {item["linkId"]: item["answer"][0] for item in response["item"]}
        assert answers["day"] == {"valueDate": checkin.date.isoformat()}
        assert response["authored"] == "2025-03-07T08:00:00Z"
        assert observation["effectiveDateTime"] == answers["day"]["valueDate"]
        assert observation["derivedFrom"] == [{"reference": f"urn:uuid:{response['id']}"}]


def test_question_texts_mean_what_the_api_means() -> None:
    """Each question reads as the check-in API describes its field (opioids: since last)."""
    api = CheckinInputSchema().fields
    questionnaire = _resources(_bundle(), "Questionnaire")[0]
    texts = {item["linkId"]: item["text"] for item in questionnaire["item"]}
    for link_id, text in texts.items():
        if link_id in ("day", "note"):
            continue
        assert text == api[link_id].metadata["description"]
    assert "since the last check-in" in texts["used_opioids"]
    assert "today" not in texts["used_opioids"].lower()
    response = _resources(_bundle(), "QuestionnaireResponse")[0]
    for item in response["item"]:
        assert item["text"] == texts[item["linkId"]]
