"""Instrument results (SOWS responses, COWS observations) in the CSV, PDF and FHIR exports."""

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from fhir.resources.R4B.bundle import Bundle
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import event

from server.exports.instrument_csv import csv_days
from server.extensions import db
from server.instruments.definitions import INSTRUMENTS, Recorded
from tests.exports.test_csv_export import BASE_COLUMNS, META_COLUMNS
from tests.instruments.recording import items_totalling, record_observation, record_response

FIXED_NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
RANGE = {"from": "2026-06-01", "to": "2026-06-15"}
ZONE = "America/Chicago"  # UTC-5 in June
BASE = "https://steady.example/fhir"
INSTRUMENTS_CS = f"{BASE}/CodeSystem/steady-instruments"
CHECKIN_CS = f"{BASE}/CodeSystem/steady-checkin"
CHECKIN_COLUMNS = BASE_COLUMNS  # the CSV contract, pinned once in test_csv_export
NOTE_COLUMN = ["note"]  # in the patient's own export
INSTRUMENT_COLUMNS = [
    "sows_gossop_10_total",
    "sows_handelsman_16_total",
    "cows_11_total",
    "cows_11_band",
    "cows_11_observed_at",
    "cows_11_observations",
]


@pytest.fixture(autouse=True)
def fixed_clock():
    """Default ranges and share expiry depend on 'today'; pin it."""
    with time_machine.travel(FIXED_NOW, tick=True):
        yield


@pytest.fixture
def people(app, factory):
    """A patient with check-ins on the 10th and 12th and instrument results around them."""
    patient = factory.patient(display_name="Sam", timezone=ZONE)
    counselor = factory.counselor(display_name="Dr Lee")
    factory.checkin(patient, date(2026, 6, 10), nausea=6)
    factory.checkin(patient, date(2026, 6, 12), nausea=2)
    at = datetime(2026, 6, 10, 23, 30, tzinfo=UTC)
    ids = {
        "gossop_10": record_response(app, patient, date(2026, 6, 10), 7, "sows-gossop-10", at=at),
        # A day with a result and no check-in.
        "gossop_11": record_response(
            app, patient, date(2026, 6, 11), 12, "sows-gossop-10", at=at + timedelta(days=1)
        ),
        "handelsman_12": record_response(
            app, patient, date(2026, 6, 12), 20, "sows-handelsman-16", at=at + timedelta(days=2)
        ),
        # Two observations on the 12th (08:00 and 14:00 in Chicago), one on the 14th.
        "cows_12_am": record_observation(
            app,
            patient,
            date(2026, 6, 12),
            14,
            counselor,
            observed_at=datetime(2026, 6, 12, 13, 0, tzinfo=UTC),
        ),
        "cows_12_pm": record_observation(
            app,
            patient,
            date(2026, 6, 12),
            3,
            counselor,
            observed_at=datetime(2026, 6, 12, 19, 0, tzinfo=UTC),
        ),
        "cows_14": record_observation(
            app,
            patient,
            date(2026, 6, 14),
            26,
            counselor,
            observed_at=datetime(2026, 6, 14, 15, 30, tzinfo=UTC),
        ),
    }
    # Outside the range, and someone else's: neither may appear.
    record_response(app, patient, date(2026, 5, 20), 30, "sows-gossop-10", at=at)
    other = factory.patient(timezone=ZONE)
    record_response(app, other, date(2026, 6, 10), 29, "sows-gossop-10", at=at)
    return SimpleNamespace(patient=patient, counselor=counselor, ids=ids)


def export(client, person, fmt, **params):
    response = client.get(
        "/api/v1/export", query_string={"format": fmt, **RANGE, **params}, headers=person.headers
    )
    response.get_data()  # the whole body: this also hands the person's export lease back
    assert response.status_code == 200, response.data[:500]
    return response


def counselor_export(client, counselor, patient_id, fmt):
    response = client.get(
        f"/api/v1/patients/{patient_id}/export",
        query_string={"format": fmt, **RANGE},
        headers=counselor.headers,
    )
    response.get_data()  # the whole body: this also hands the counselor's export lease back
    assert response.status_code == 200, response.data[:500]
    return response


def csv_table(response) -> tuple[list[str], list[dict]]:
    reader = csv.DictReader(io.StringIO(response.get_data(as_text=True), newline=""))
    rows = list(reader)
    return list(reader.fieldnames), rows


def pdf_text(response) -> str:
    reader = PdfReader(io.BytesIO(response.data))
    return "\n".join(page.extract_text() for page in reader.pages)


def fhir(response) -> dict:
    body = json.loads(response.data)
    Bundle.model_validate(body)  # raises if the bundle is not valid R4B
    return body


def resources_of(body: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in body["entry"] if e["resource"]["resourceType"] == kind]


def defined_codes(codesystem: dict) -> set[str]:
    """Every code a CodeSystem defines, nested ones included."""
    codes, stack = set(), list(codesystem["concept"])
    while stack:
        concept = stack.pop()
        codes.add(concept["code"])
        stack += concept.get("concept", [])
    return codes


def share(client, patient, counselor, scope=("export", "assess")):
    response = client.post(
        "/api/v1/shares",
        json={
            "counselor_email": counselor.email,
            "purpose": "Review before my appointment",
            "expires_on": "2026-07-15",
            "include_notes": False,
            "scope": list(scope),
        },
        headers=patient.headers,
    )
    assert response.status_code == 201, response.json


# --- CSV ---------------------------------------------------------------------------------


def test_csv_appends_one_column_set_per_instrument_and_a_row_per_day(client, people):
    columns, rows = csv_table(export(client, people.patient, "csv"))
    assert columns == [*CHECKIN_COLUMNS, *NOTE_COLUMN, *META_COLUMNS, *INSTRUMENT_COLUMNS]
    by_day = {row["date"]: row for row in rows}
    assert list(by_day) == ["2026-06-10", "2026-06-11", "2026-06-12", "2026-06-14"]
    blank = dict.fromkeys(INSTRUMENT_COLUMNS, "")
    assert {c: by_day["2026-06-10"][c] for c in INSTRUMENT_COLUMNS} == {
        **blank,
        "sows_gossop_10_total": "7",
    }
    assert by_day["2026-06-10"]["nausea_0_10"] == "6"
    # No check-in on the 11th: its check-in cells are empty, the range columns are not.
    assert all(by_day["2026-06-11"][c] == "" for c in CHECKIN_COLUMNS[1:])
    assert by_day["2026-06-11"]["range_from"] == "2026-06-01"
    assert by_day["2026-06-11"]["sows_gossop_10_total"] == "12"
    # Two observations on the 12th: the row shows the higher one and counts both.
    assert {c: by_day["2026-06-12"][c] for c in INSTRUMENT_COLUMNS} == {
        "sows_gossop_10_total": "",
        "sows_handelsman_16_total": "20",
        "cows_11_total": "14",
        "cows_11_band": "moderate",
        "cows_11_observed_at": "2026-06-12T13:00:00Z",
        "cows_11_observations": "2",
    }
    assert by_day["2026-06-12"]["nausea_0_10"] == "2"
    assert by_day["2026-06-14"]["cows_11_band"] == "moderately_severe"
    assert by_day["2026-06-14"]["cows_11_observations"] == "1"


def test_csv_shows_no_band_below_the_cows_bands(app, client, factory):
    patient = factory.patient(timezone=ZONE)
    record_observation(
        app,
        patient,
        date(2026, 6, 3),
        4,
        None,
        observed_at=datetime(2026, 6, 3, 15, 0, tzinfo=UTC),
    )
    _, (row,) = csv_table(export(client, patient, "csv"))
    assert (row["cows_11_total"], row["cows_11_band"]) == ("4", "")


def test_counselor_csv_carries_the_results_too(client, people):
    share(client, people.patient, people.counselor)
    _, rows = csv_table(counselor_export(client, people.counselor, people.patient.id, "csv"))
    assert [row["cows_11_total"] for row in rows] == ["", "", "14", "26"]


def test_a_counselor_without_assess_gets_no_clinicians_observations(client, people):
    """COWS is `assess` data wherever it shows: the export carries only the self-reports."""
    share(client, people.patient, people.counselor, scope=["export"])
    patient_id = people.patient.id
    columns, rows = csv_table(counselor_export(client, people.counselor, patient_id, "csv"))
    cows_columns = [column for column in columns if column.startswith("cows_11")]
    assert cows_columns and all(row[c] == "" for row in rows for c in cows_columns)
    # The 14th held only a COWS: no row for it.
    assert [row["date"] for row in rows] == ["2026-06-10", "2026-06-11", "2026-06-12"]
    assert [row["sows_gossop_10_total"] for row in rows] == ["7", "12", ""]
    body = fhir(counselor_export(client, people.counselor, patient_id, "fhir"))
    forms = [q["url"].rsplit("/", 1)[-1] for q in resources_of(body, "Questionnaire")]
    assert "cows-11" not in forms and "sows-gossop-10" in forms
    text = pdf_text(counselor_export(client, people.counselor, patient_id, "pdf"))
    assert "SOWS-Gossop" in text and "COWS" not in text


def _day(number: int) -> date:
    return date(2026, 1, 1) + timedelta(days=number)


@given(
    checkin_days=st.sets(st.integers(0, 30)),
    result_days=st.lists(st.integers(0, 30), max_size=12),
)
def test_csv_days_merges_checkin_and_result_days_once_each_in_order(checkin_days, result_days):
    checkins = [SimpleNamespace(date=_day(n), nausea=1) for n in sorted(checkin_days)]
    results = [
        Recorded(
            id=str(index),
            instrument_id="sows-gossop-10",
            instrument_version="1",
            day=_day(n),
            recorded_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=index),
            observed_at=None,
            items={},
            total=index,
            band=None,
        )
        for index, n in enumerate(sorted(result_days))
    ]
    merged = list(csv_days(checkins, results))
    days = [checkin.date for checkin, _ in merged]
    assert days == sorted({*map(_day, checkin_days), *map(_day, result_days)})
    for checkin, cells in merged:
        assert (checkin.nausea is not None) == (checkin.date in {c.date for c in checkins})
        assert len(cells) == (len(INSTRUMENT_COLUMNS) if results else 0)
        totals = [r.total for r in results if r.day == checkin.date]
        # One SOWS-Gossop a day is what the table allows; the highest is shown if ever more.
        assert (cells[0] if cells else None) == (max(totals) if totals else None)


# --- PDF ---------------------------------------------------------------------------------


def test_pdf_has_a_table_of_results_with_names_and_citations(client, people):
    text = pdf_text(export(client, people.patient, "pdf"))
    section = text[text.index("Withdrawal scales") :]
    lines = section.splitlines()
    assert "Date Instrument Total Band Recorded as" in section
    expected_rows = [
        "2026-06-10 SOWS-Gossop 7 of 30 no published band self-report",
        "2026-06-11 SOWS-Gossop 12 of 30 no published band self-report",
        # Within a day in time order: observed at 13:00 and 19:00 UTC, entered at 23:30.
        "2026-06-12 COWS 14 of 48 moderate observed by clinician, 08:00",
        "2026-06-12 COWS 3 of 48 no band (below 5) observed by clinician, 14:00",
        "2026-06-12 SOWS-Handelsman 20 of 64 no published band self-report",
        "2026-06-14 COWS 26 of 48 moderately severe observed by clinician, 10:30",
    ]
    found = [line for line in lines if re.match(r"^2026-\d\d-\d\d ", line)]
    assert found == expected_rows
    assert f"Times are in {ZONE}." in section
    flat = " ".join(section.split())
    for instrument in INSTRUMENTS.values():
        assert instrument.name in flat
        assert " ".join(instrument.citation.split()) in flat
    assert "2026-05-20" not in text


def test_counselor_pdf_has_the_table(client, people):
    share(client, people.patient, people.counselor)
    text = pdf_text(counselor_export(client, people.counselor, people.patient.id, "pdf"))
    assert "2026-06-14 COWS 26 of 48 moderately severe" in text


# --- FHIR --------------------------------------------------------------------------------


def test_fhir_has_a_questionnaire_per_instrument_and_a_response_and_total_per_result(
    client, people
):
    body = fhir(export(client, people.patient, "fhir"))
    by_url = {entry["fullUrl"]: entry["resource"] for entry in body["entry"]}
    (patient_url,) = [u for u, r in by_url.items() if r["resourceType"] == "Patient"]
    codesystems = {cs["url"]: cs for cs in resources_of(body, "CodeSystem")}
    assert set(codesystems) == {CHECKIN_CS, INSTRUMENTS_CS}
    codes = defined_codes(codesystems[INSTRUMENTS_CS])
    assert codesystems[INSTRUMENTS_CS]["count"] == len(codes)

    forms = {
        f"{q['url']}|{q['version']}": q
        for q in resources_of(body, "Questionnaire")
        if q["url"] != f"{BASE}/Questionnaire/steady-daily-checkin"
    }
    for instrument in INSTRUMENTS.values():
        form = forms[f"{BASE}/Questionnaire/{instrument.id}|{instrument.version}"]
        assert form["code"][0] == {
            "system": INSTRUMENTS_CS,
            "code": instrument.id,
            "display": instrument.name,
        }
        questions = {item["linkId"]: item for item in form["item"]}
        assert form["item"][0]["linkId"] == "day"
        assert form["item"][0]["type"] == "date"
        assert ("observed-at" in questions) == (instrument.id == "cows-11")
        for item in instrument.items:
            question = questions[item.item_id]
            assert question["type"] == "integer"
            assert question["required"] is True
            assert [o["valueInteger"] for o in question["answerOption"]] == list(item.values)
            (coding,) = question["code"]
            assert coding["system"] == INSTRUMENTS_CS
            assert coding["code"] == f"{instrument.id}.{item.item_id}"
        assert {f"{instrument.id}.{i.item_id}" for i in instrument.items} <= codes

    responses = [
        r for r in resources_of(body, "QuestionnaireResponse") if r["questionnaire"] in forms
    ]
    observations = [
        o
        for o in resources_of(body, "Observation")
        if o["code"]["coding"][0]["system"] == INSTRUMENTS_CS
    ]
    assert len(responses) == len(observations) == 6
    totals = []
    for observation in observations:
        (derived,) = observation["derivedFrom"]
        response = by_url[derived["reference"]]
        assert response["resourceType"] == "QuestionnaireResponse"
        instrument_id = response["questionnaire"].split("/")[-1].split("|")[0]
        instrument = INSTRUMENTS[instrument_id]
        answers = {i["linkId"]: i["answer"][0] for i in response["item"]}
        points = sum(answers[item.item_id]["valueInteger"] for item in instrument.items)
        assert observation["valueInteger"] == points
        (coding,) = observation["code"]["coding"]
        assert coding["code"] == f"{instrument_id}.total"
        assert coding["code"] in codes
        assert observation["category"][0]["coding"][0]["code"] == "survey"
        assert response["subject"]["reference"] == observation["subject"]["reference"]
        assert response["subject"]["reference"] == patient_url
        day = answers["day"]["valueDate"]
        if instrument.completed_by == "patient":
            assert observation["effectiveDateTime"] == day
            assert observation["performer"] == [{"reference": patient_url}]
            assert response["author"] == {"reference": patient_url}
            assert "interpretation" not in observation
        else:
            assert observation["effectiveDateTime"] == answers["observed-at"]["valueDateTime"]
            assert "reference" not in observation["performer"][0]
        for interpretation in observation.get("interpretation", []):
            assert interpretation["coding"][0]["code"] in codes
        totals.append(
            (day, instrument_id, observation["valueInteger"], observation.get("interpretation"))
        )
    assert sorted(totals, key=lambda t: (t[0], t[1], t[2])) == [
        ("2026-06-10", "sows-gossop-10", 7, None),
        ("2026-06-11", "sows-gossop-10", 12, None),
        ("2026-06-12", "cows-11", 3, None),
        (
            "2026-06-12",
            "cows-11",
            14,
            [
                {
                    "coding": [
                        {
                            "system": INSTRUMENTS_CS,
                            "code": "cows-11.band.moderate",
                            "display": "COWS moderate (13-24)",
                        }
                    ],
                    "text": "moderate",
                }
            ],
        ),
        ("2026-06-12", "sows-handelsman-16", 20, None),
        ("2026-06-14", "cows-11", 26, [_band("moderately_severe", "moderately severe", 25, 36)]),
    ]
    # Authored is when the result was entered.
    first = next(r for r in responses if r["item"][0]["answer"][0]["valueDate"] == "2026-06-10")
    assert first["authored"] == "2026-06-10T23:30:00Z"
    # Steady's own codes only: no LOINC (or any other) code is claimed for these scales.
    systems = {c["system"] for c in _codings(body)}
    assert systems <= {INSTRUMENTS_CS, CHECKIN_CS, *OUTSIDE_SYSTEMS}


OUTSIDE_SYSTEMS = {
    "http://terminology.hl7.org/CodeSystem/v3-ActCode",
    "http://terminology.hl7.org/CodeSystem/observation-category",
}


def _codings(node):
    """Every Coding-shaped object in a JSON tree."""
    if isinstance(node, dict):
        if "system" in node and "code" in node:
            yield node
        for value in node.values():
            yield from _codings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _codings(item)


def _band(code, label, low, high):
    return {
        "coding": [
            {
                "system": INSTRUMENTS_CS,
                "code": f"cows-11.band.{code}",
                "display": f"COWS {label} ({low}-{high})",
            }
        ],
        "text": label,
    }


def test_fhir_responses_are_the_stored_items(app, client, people):
    body = fhir(export(client, people.patient, "fhir"))
    responses = {
        r["item"][0]["answer"][0]["valueDate"] + r["questionnaire"]: r
        for r in resources_of(body, "QuestionnaireResponse")
        if "steady-daily-checkin" not in r["questionnaire"]
    }
    gossop = responses[f"2026-06-11{BASE}/Questionnaire/sows-gossop-10|1"]
    answers = {i["linkId"]: i["answer"][0]["valueInteger"] for i in gossop["item"][1:]}
    assert answers == items_totalling("sows-gossop-10", 12)


def test_counselor_fhir_carries_the_results(client, people):
    share(client, people.patient, people.counselor)
    body = fhir(counselor_export(client, people.counselor, people.patient.id, "fhir"))
    observations = [
        o
        for o in resources_of(body, "Observation")
        if o["code"]["coding"][0]["system"] == INSTRUMENTS_CS
    ]
    assert len(observations) == 6


# --- none --------------------------------------------------------------------------------


def test_nothing_about_instruments_without_results(client, factory):
    patient = factory.patient(timezone=ZONE)
    factory.checkin(patient, date(2026, 6, 10))
    columns, rows = csv_table(export(client, patient, "csv"))
    assert columns == [*CHECKIN_COLUMNS, *NOTE_COLUMN, *META_COLUMNS]
    assert len(rows) == 1
    text = pdf_text(export(client, patient, "pdf"))
    assert "Withdrawal scales" not in text
    assert "COWS" not in text and "SOWS" not in text
    raw = export(client, patient, "fhir").get_data(as_text=True)
    fhir(export(client, patient, "fhir"))
    assert "steady-instruments" not in raw
    assert "sows" not in raw.lower() and "cows" not in raw.lower()


# --- reads -------------------------------------------------------------------------------


@pytest.fixture
def instrument_reads(app):
    """Count the statements that read the instrument tables while recording."""
    seen: list[str] = []

    def on_execute(_conn, _cursor, statement, _params, _context, _executemany):
        if "instrument_" in statement:
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", on_execute)
    yield seen
    event.remove(engine, "before_cursor_execute", on_execute)


@pytest.mark.parametrize("fmt", ["csv", "pdf", "fhir"])
def test_one_read_per_table_per_export_whatever_the_number_of_days(
    app, client, people, instrument_reads, fmt
):
    export(client, people.patient, fmt)
    short = len(instrument_reads)
    for offset in range(10):
        record_response(
            app,
            people.patient,
            date(2026, 5, 21) + timedelta(days=offset),
            offset,
            "sows-handelsman-16",
            at=FIXED_NOW,
        )
    instrument_reads.clear()
    export(client, people.patient, fmt, **{"from": "2026-05-20"})
    # The PDF also reads its trends, its assessment and its days' judgements: one read of
    # both tables each.
    assert short == len(instrument_reads) == (5 if fmt == "pdf" else 2)
