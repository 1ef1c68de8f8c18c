"""Exports through the HTTP API: CSV, PDF and FHIR, for the patient and a sharing counselor."""

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader

from server.exports import service

FIXED_NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
TODAY = date(2026, 6, 15)
DEFAULT_START = TODAY - timedelta(days=29)
TEN_YEARS_START = TODAY - timedelta(days=service.MAX_RANGE_DAYS - 1)
CANARY = "CANARY-note-5d1e"
STEADY_CS = "https://steady.example/fhir/CodeSystem/steady-checkin"
SCORE_COLUMNS = {
    "nausea": "nausea_0_10",
    "aches": "aches_0_10",
    "anxiety": "anxiety_0_10",
    "insomnia": "insomnia_0_10",
    "total": "total_0_40",
    "diarrhea": "diarrhea_0_10",
    "vomiting": "vomiting_0_10",
    "cravings": "cravings_0_10",
    "sleep_hours": "sleep_hours_0_24",
    "used_opioids": "used_opioids",
    "crisis": "crisis",
}
# Days relative to TODAY and what was logged; the first lies outside the default range.
LOG = {
    -40: {"nausea": 9, "note": "before the range"},
    -29: {
        "nausea": 1,
        "aches": 2,
        "anxiety": 3,
        "insomnia": 4,
        "sleep_hours": 7.5,
        "note": "=1+1",
    },
    -10: {
        "nausea": 6,
        "diarrhea": 1,
        "vomiting": 2,
        "cravings": 7,
        "used_opioids": False,
        "crisis": False,
        "note": f'{CANARY} =HYPERLINK("http://x")',
    },
    0: {"nausea": 2, "aches": 2, "anxiety": 2, "insomnia": 2, "note": "Тошнота; tá mé tuirseach"},
}


@pytest.fixture(autouse=True)
def fixed_clock():
    """Default ranges and share expiry depend on 'today'; pin it."""
    with time_machine.travel(FIXED_NOW, tick=True):
        yield


@pytest.fixture
def patient(factory):
    patient = factory.patient(display_name="Sam Ó Briain")
    for offset, overrides in LOG.items():
        factory.checkin(patient, TODAY + timedelta(days=offset), **overrides)
    return patient


def export(client, person, **params):
    return client.get("/api/v1/export", query_string=params, headers=person.headers)


def patient_export(client, counselor, patient_id, **params):
    return client.get(
        f"/api/v1/patients/{patient_id}/export", query_string=params, headers=counselor.headers
    )


def share(client, patient, counselor, *, scope=("export",), include_notes=False, days=30):
    response = client.post(
        "/api/v1/shares",
        json={
            "counselor_email": counselor.email,
            "purpose": "Review before my appointment",
            "expires_on": (TODAY + timedelta(days=days)).isoformat(),
            "include_notes": include_notes,
            "scope": list(scope),
        },
        headers=patient.headers,
    )
    assert response.status_code == 201, response.json
    return response.json


def checkins_in(client, patient, start, end) -> list[dict]:
    """The check-ins the API itself reports for a range (the source of truth)."""
    items, page = [], 1
    while True:
        response = client.get(
            "/api/v1/checkins",
            query_string={"from": start, "to": end, "page": page, "page_size": 100},
            headers=patient.headers,
        )
        items += response.json["items"]
        if page >= response.json["total_pages"]:
            return items
        page += 1


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))


def expected_csv_row(item: dict, *, with_note: bool) -> dict:
    row = {"date": item["date"]}
    for field, column in SCORE_COLUMNS.items():
        value = item[field]
        if value is None:
            row[column] = ""
        elif isinstance(value, bool):
            row[column] = "true" if value else "false"
        else:
            row[column] = str(value)
    if with_note:
        note = item["note"] or ""
        row["note"] = "'" + note if note.startswith(("=", "+", "-", "@")) else note
    return row


def pdf_text(response) -> str:
    reader = PdfReader(io.BytesIO(response.data))
    return "\n".join(page.extract_text() for page in reader.pages)


def fhir_bundle(response) -> dict:
    body = json.loads(response.data)
    Bundle.model_validate(body)  # raises if the bundle is not valid R4B
    return body


def resources_of(body: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in body["entry"] if e["resource"]["resourceType"] == kind]


def assert_download(response, media_type: str, filename: str):
    assert response.status_code == 200, response.data[:500]
    assert response.headers["Content-Type"] == media_type
    assert response.headers["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert response.headers["Cache-Control"] == "no-store"


# --- CSV ---------------------------------------------------------------------------------


def test_csv_default_range_matches_the_checkins(client, patient):
    response = export(client, patient)  # csv is the default format
    assert_download(response, "text/csv; charset=utf-8", f"steady-{DEFAULT_START}-{TODAY}.csv")
    assert response.is_streamed
    rows = csv_rows(response)
    expected = checkins_in(client, patient, DEFAULT_START, TODAY)
    assert [r["date"] for r in rows] == [str(TODAY + timedelta(days=d)) for d in (-29, -10, 0)]
    for row, item in zip(rows, expected, strict=True):
        assert {k: row[k] for k in expected_csv_row(item, with_note=True)} == expected_csv_row(
            item, with_note=True
        )
        assert row["range_from"] == str(DEFAULT_START)
        assert row["range_to"] == str(TODAY)
        assert row["produced_at"].startswith("2026-06-15T12:")
        assert row["source"] == "self-reported"
    # A note a spreadsheet would run as a formula is neutralised; the others are verbatim.
    assert rows[0]["note"] == "'=1+1"
    assert rows[1]["note"].startswith(CANARY)
    assert rows[2]["note"] == "Тошнота; tá mé tuirseach"


def test_csv_default_range_is_in_the_patients_time_zone(client, factory):
    # 12:00 UTC is already the next day on Kiritimati (UTC+14).
    patient = factory.patient(timezone="Pacific/Kiritimati")
    response = export(client, patient)
    local_today = TODAY + timedelta(days=1)
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="steady-{local_today - timedelta(days=29)}-{local_today}.csv"'
    )


def test_csv_empty_range_has_only_the_header(client, patient):
    response = export(client, patient, **{"from": "2026-01-01", "to": "2026-01-31"})
    assert_download(response, "text/csv; charset=utf-8", "steady-2026-01-01-2026-01-31.csv")
    lines = response.get_data(as_text=True).split("\r\n")
    assert lines[0].startswith("date,nausea_0_10,")
    assert lines[1:] == [""]


def test_csv_pages_through_long_logs_without_losing_or_repeating_a_day(
    client, patient, monkeypatch
):
    # Pages of 2 over 4 logged days (-40 included) end exactly on a page boundary.
    monkeypatch.setattr(service, "EXPORT_PAGE_ROWS", 2)
    start = TODAY - timedelta(days=40)
    rows = csv_rows(export(client, patient, **{"from": start, "to": TODAY}))
    assert [r["date"] for r in rows] == [
        item["date"] for item in checkins_in(client, patient, start, TODAY)
    ]
    assert len(rows) == 4


# --- ten-year range (all formats) --------------------------------------------------------


@pytest.fixture
def decade_patient(factory):
    patient = factory.patient()
    for day, nausea in (
        (TEN_YEARS_START - timedelta(days=1), 9),  # outside the range
        (TEN_YEARS_START, 1),
        (date(2020, 2, 29), 5),
        (TODAY - timedelta(days=400), 7),
        (TODAY, 3),
    ):
        factory.checkin(patient, day, nausea=nausea, note=f"day {day}")
    return patient


def test_ten_year_range_as_csv_and_fhir(client, decade_patient):
    window = {"from": TEN_YEARS_START, "to": TODAY}
    expected = checkins_in(client, decade_patient, TEN_YEARS_START, TODAY)
    assert len(expected) == 4
    stem = f"steady-{TEN_YEARS_START}-{TODAY}"

    response = export(client, decade_patient, format="csv", **window)
    assert_download(response, "text/csv; charset=utf-8", f"{stem}.csv")
    rows = csv_rows(response)
    assert [r["date"] for r in rows] == [item["date"] for item in expected]
    assert [r["nausea_0_10"] for r in rows] == ["1", "5", "7", "3"]

    response = export(client, decade_patient, format="fhir", **window)
    assert_download(response, "application/fhir+json", f"{stem}.json")
    assert response.is_streamed
    body = fhir_bundle(response)
    observations = resources_of(body, "Observation")
    assert [o["effectiveDateTime"][:10] for o in observations] == [i["date"] for i in expected]
    assert str(TEN_YEARS_START - timedelta(days=1)) not in response.get_data(as_text=True)


def test_fhir_pages_through_long_logs_without_losing_or_repeating_a_day(
    client, decade_patient, monkeypatch
):
    monkeypatch.setattr(service, "EXPORT_PAGE_ROWS", 2)
    window = {"from": TEN_YEARS_START, "to": TODAY}
    body = fhir_bundle(export(client, decade_patient, format="fhir", **window))
    days = [o["effectiveDateTime"] for o in resources_of(body, "Observation")]
    assert days == [i["date"] for i in checkins_in(client, decade_patient, *window.values())]


@pytest.mark.parametrize("days", [366, 367, service.MAX_RANGE_DAYS])
def test_a_pdf_covers_at_most_366_days(client, decade_patient, days):
    window = {"from": TODAY - timedelta(days=days - 1), "to": TODAY}
    response = export(client, decade_patient, format="pdf", **window)
    if days <= service.MAX_PDF_DAYS:
        assert_download(response, "application/pdf", f"steady-{window['from']}-{TODAY}.pdf")
        text = pdf_text(response)
        assert f"Days logged: 1 of {days}" in text
        assert str(TODAY - timedelta(days=400)) not in text
        return
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert set(response.json["errors"]) == {"from", "to"}
    for messages in response.json["errors"].values():
        assert "at most 366 days" in messages[0]
        assert "format=csv" in messages[0] and "format=fhir" in messages[0]
    # The same range is fine as CSV or FHIR.
    for fmt in ("csv", "fhir"):
        assert export(client, decade_patient, format=fmt, **window).status_code == 200


def test_a_counselors_pdf_has_the_same_cap(client, factory, decade_patient):
    counselor = factory.counselor()
    share(client, decade_patient, counselor)
    window = {"from": TODAY - timedelta(days=366), "to": TODAY, "format": "pdf"}
    response = patient_export(client, counselor, decade_patient.id, **window)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"from", "to"}
    log = client.get("/api/v1/me/access-log", headers=decade_patient.headers).json
    assert [e for e in log["items"] if e["action"] == "export"] == []


def test_a_range_over_ten_years_is_refused_naming_from(client, decade_patient):
    start = TEN_YEARS_START - timedelta(days=1)
    for fmt in ("csv", "pdf", "fhir"):
        response = export(client, decade_patient, format=fmt, **{"from": start, "to": TODAY})
        assert response.status_code == 422
        assert response.content_type == "application/problem+json"
        assert list(response.json["errors"]) == ["from"]


# --- PDF -----------------------------------------------------------------------------------


def test_pdf_report_shows_who_range_summary_and_every_day(client, patient):
    response = export(client, patient, format="pdf")
    assert_download(response, "application/pdf", f"steady-{DEFAULT_START}-{TODAY}.pdf")
    text = pdf_text(response)
    trends = client.get(
        "/api/v1/trends",
        query_string={"from": DEFAULT_START, "to": TODAY},
        headers=patient.headers,
    ).json
    assert "For: Sam Ó Briain" in text
    assert f"Range: {DEFAULT_START} to {TODAY}" in text
    assert "Produced: 2026-06-15 12:" in text
    assert f"Days logged: {trends['days_logged']} of {trends['days_in_range']}" in text
    assert "Days logged: 3 of 30" in text
    nausea = trends["summary"]["nausea"]
    assert nausea["mean"] == 3.0  # (1 + 6 + 2) / 3
    assert (
        f"Nausea {nausea['mean']:.2f} {nausea['min']} {nausea['max']} {nausea['latest']}" in text
    )
    total = trends["summary"]["total"]
    assert f"Total (0–40) {total['mean']:.2f} {total['min']} {total['max']}" in text
    assert "Latest assessment" in text
    for item in checkins_in(client, patient, DEFAULT_START, TODAY):
        assert item["date"] in text
    assert str(TODAY - timedelta(days=40)) not in text
    # The patient's own report includes their notes, in their own script.
    assert CANARY in text
    assert "Тошнота;" in text and "tuirseach" in text  # the note column may wrap
    assert "Where to get help (US)" in text
    assert "Self-reported data — not a diagnosis" in text
    pages = len(PdfReader(io.BytesIO(response.data)).pages)
    assert f"Page {pages} of {pages}" in text


def test_pdf_of_an_empty_range(client, patient):
    response = export(client, patient, format="pdf", **{"from": "2026-01-01", "to": "2026-01-31"})
    assert_download(response, "application/pdf", "steady-2026-01-01-2026-01-31.pdf")
    text = pdf_text(response)
    assert "Days logged: 0 of 31" in text
    assert "No check-ins in this range." in text


# --- FHIR ----------------------------------------------------------------------------------


def test_fhir_bundle_matches_the_checkins(client, patient):
    response = export(client, patient, format="fhir")
    assert_download(response, "application/fhir+json", f"steady-{DEFAULT_START}-{TODAY}.json")
    body = fhir_bundle(response)
    expected = checkins_in(client, patient, DEFAULT_START, TODAY)
    assert body["type"] == "collection"
    assert body["identifier"]["value"].endswith(f"{DEFAULT_START}-{TODAY}")
    assert body["meta"]["security"][0]["code"] == "ETH"

    (fhir_patient,) = resources_of(body, "Patient")
    assert fhir_patient["id"] == patient.id
    assert fhir_patient["name"] == [{"text": "Sam Ó Briain"}]
    assert set(fhir_patient) <= {"resourceType", "id", "meta", "identifier", "name"}

    full_urls = {e["resource"]["resourceType"]: e["fullUrl"] for e in body["entry"]}
    responses = resources_of(body, "QuestionnaireResponse")
    observations = resources_of(body, "Observation")
    assert len(responses) == len(observations) == len(expected) == 3
    by_url = {e["fullUrl"]: e["resource"] for e in body["entry"]}
    for qr, obs, item in zip(responses, observations, expected, strict=True):
        assert qr["status"] == "completed"
        assert qr["subject"]["reference"] == full_urls["Patient"]
        answers = {i["linkId"]: next(iter(i["answer"][0].values())) for i in qr["item"]}
        for field in ("nausea", "aches", "anxiety", "insomnia", "diarrhea", "vomiting"):
            assert answers.get(field) == item[field]
        assert answers.get("note") == item["note"]
        assert obs["valueInteger"] == item["total"]
        assert obs["effectiveDateTime"][:10] == item["date"]
        assert obs["code"]["coding"][0]["system"] == STEADY_CS
        assert obs["category"][0]["coding"][0]["code"] == "survey"
        (derived,) = obs["derivedFrom"]
        assert by_url[derived["reference"]] is qr
        assert obs["subject"]["reference"] == full_urls["Patient"]


def test_fhir_bundle_of_an_empty_range(client, patient):
    response = export(client, patient, format="fhir", **{"from": "2026-01-01", "to": "2026-01-31"})
    body = fhir_bundle(response)
    kinds = sorted(e["resource"]["resourceType"] for e in body["entry"])
    assert kinds == ["CodeSystem", "Patient", "Questionnaire"]


# --- validation and roles ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "xlsx"}, "format"),
        ({"from": "2026-06-10", "to": "2026-06-01"}, "from"),
        ({"from": "1999-12-31", "to": "2000-01-05"}, "from"),
        ({"to": "2027-07-01"}, "to"),
        ({"from": "not-a-date"}, "from"),
        ({"pages": "3"}, "pages"),
    ],
)
def test_bad_parameters_are_422_naming_the_field(client, factory, params, field):
    response = export(client, factory.patient(), **params)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert field in response.json["errors"]


def test_patient_export_is_for_patients_and_needs_a_session(client, factory, patient):
    counselor = factory.counselor()
    assert export(client, counselor).status_code == 403
    assert client.get("/api/v1/export").status_code == 401
    assert client.get(f"/api/v1/patients/{patient.id}/export").status_code == 401
    assert patient_export(client, patient, patient.id).status_code == 403


def test_own_export_needs_no_share_and_is_not_a_disclosure(client, patient):
    assert export(client, patient).status_code == 200
    log = client.get("/api/v1/me/access-log", headers=patient.headers).json
    assert [e for e in log["items"] if e["action"] == "export"] == []


# --- counselor -----------------------------------------------------------------------------


def test_counselor_export_without_notes_leaves_them_out_everywhere(client, factory, patient):
    counselor = factory.counselor()
    share(client, patient, counselor, scope=("export",), include_notes=False)

    response = patient_export(client, counselor, patient.id, format="csv")
    assert_download(response, "text/csv; charset=utf-8", f"steady-{DEFAULT_START}-{TODAY}.csv")
    rows = csv_rows(response)
    assert "note" not in rows[0]
    expected = checkins_in(client, patient, DEFAULT_START, TODAY)
    for row, item in zip(rows, expected, strict=True):
        wanted = expected_csv_row(item, with_note=False)
        assert {k: row[k] for k in wanted} == wanted
    assert CANARY not in response.get_data(as_text=True)

    response = patient_export(client, counselor, patient.id, format="pdf")
    assert_download(response, "application/pdf", f"steady-{DEFAULT_START}-{TODAY}.pdf")
    text = pdf_text(response)
    assert "Days logged: 3 of 30" in text
    assert CANARY not in text and "Тошнота" not in text
    # The Part 2 notice and the consent it relies on travel with the disclosure.
    flat = " ".join(text.split())
    assert "protected by Federal confidentiality rules (42 CFR part 2)" in flat
    assert f"Disclosed to {counselor.display_name}" in flat
    assert "scope export, without notes" in flat

    response = patient_export(client, counselor, patient.id, format="fhir")
    body = fhir_bundle(response)
    responses = resources_of(body, "QuestionnaireResponse")
    assert len(responses) == 3
    assert all(item["linkId"] != "note" for qr in responses for item in qr["item"])
    assert CANARY not in response.get_data(as_text=True)


def test_counselor_export_with_notes_includes_them(client, factory, patient):
    counselor = factory.counselor()
    share(client, patient, counselor, scope=("export",), include_notes=True)
    rows = csv_rows(patient_export(client, counselor, patient.id))
    assert rows[1]["note"].startswith(CANARY)
    assert CANARY in pdf_text(patient_export(client, counselor, patient.id, format="pdf"))
    fhir = patient_export(client, counselor, patient.id, format="fhir")
    assert CANARY in fhir.get_data(as_text=True)


def test_own_export_carries_no_disclosure_notice(client, patient):
    text = pdf_text(export(client, patient, format="pdf"))
    assert "42 CFR part 2" not in " ".join(text.split())


def test_counselor_export_is_in_the_patients_access_log(client, factory, patient):
    counselor = factory.counselor()
    shared = share(client, patient, counselor, include_notes=True)
    window = {"from": "2026-06-01", "to": "2026-06-15"}
    assert patient_export(client, counselor, patient.id, format="pdf", **window).status_code == 200

    log = client.get("/api/v1/me/access-log", headers=patient.headers).json
    exports = [e for e in log["items"] if e["action"] == "export"]
    assert len(exports) == 1
    (event,) = exports
    assert event["actor"]["id"] == counselor.id
    assert event["actor"]["role"] == "counselor"
    assert event["patient"] == patient.id
    assert event["detail"] == {
        "share_id": shared["id"],
        "format": "pdf",
        "start": "2026-06-01",
        "end": "2026-06-15",
        "notes_included": True,
    }
    dumped = json.dumps(log)
    assert CANARY not in dumped and "Тошнота" not in dumped
    # Counselors cannot read the log.
    assert client.get("/api/v1/me/access-log", headers=counselor.headers).status_code == 403


def test_counselor_needs_an_active_share_with_export(client, factory, patient):
    counselor, stranger = factory.counselor(), factory.counselor()
    other_patient = factory.patient()
    shared = share(client, patient, counselor, scope=("checkins", "trends", "status"))
    assert patient_export(client, counselor, patient.id).status_code == 404
    assert patient_export(client, stranger, patient.id).status_code == 404
    assert patient_export(client, counselor, other_patient.id).status_code == 404
    missing = "00000000-0000-4000-8000-000000000000"
    assert patient_export(client, counselor, missing).status_code == 404
    # Refusals disclose nothing, so they are not logged as exports.
    log = client.get("/api/v1/me/access-log", headers=patient.headers).json
    assert [e for e in log["items"] if e["action"] == "export"] == []
    assert shared["status"] == "active"


def test_revocation_bites_on_the_next_request(client, factory, patient):
    counselor = factory.counselor()
    shared = share(client, patient, counselor)
    assert patient_export(client, counselor, patient.id).status_code == 200
    revoked = client.delete(f"/api/v1/shares/{shared['id']}", headers=patient.headers)
    assert revoked.status_code == 204
    response = patient_export(client, counselor, patient.id, format="fhir")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


def test_expired_share_gives_404(client, factory, patient):
    counselor = factory.counselor()
    share(client, patient, counselor, days=1)
    assert patient_export(client, counselor, patient.id).status_code == 200
    with time_machine.travel(FIXED_NOW + timedelta(days=2), tick=True):
        counselor.tokens = factory.login(counselor.email)  # the old token expired meanwhile
        assert patient_export(client, counselor, patient.id, format="pdf").status_code == 404


def test_counselor_range_rules_match_the_patients(client, factory, patient):
    counselor = factory.counselor()
    share(client, patient, counselor)
    too_long = {"from": TEN_YEARS_START - timedelta(days=1), "to": TODAY}
    response = patient_export(client, counselor, patient.id, **too_long)
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["from"]
    assert patient_export(client, counselor, patient.id, format="doc").status_code == 422


def test_exports_are_limited_per_person(app_factory):
    from tests.factories import Factory

    app = app_factory(EXPORT_LIMIT_PER_USER="2 per hour")
    client = app.test_client()
    factory = Factory(app, client)
    first, second = factory.patient(), factory.patient()
    statuses = [client.get("/api/v1/export", headers=first.headers).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = client.get("/api/v1/export", headers=first.headers)
    assert limited.content_type == "application/problem+json"
    assert int(limited.headers["Retry-After"]) > 0
    # Someone else's exports are counted separately.
    assert client.get("/api/v1/export", headers=second.headers).status_code == 200
