"""A check-in's `taken` list: stored as written, part of the day, shown and exported."""

import csv
import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from tests.factories import checkin_body

TODAY = date.today()
TAKEN = [
    {"substance": "kratom", "amount": "2 scoops"},
    {"substance": "buprenorphine", "amount": None},
    {"substance": "kratom", "amount": "=1+1 later"},
]


def put(client, patient, day: date, headers=None, **fields):
    """PUT a day with the given fields."""
    return client.put(
        f"/api/v1/checkins/{day}",
        json=checkin_body(**fields),
        headers={**patient.headers, **(headers or {})},
    )


def test_taken_round_trips_and_a_retry_changes_nothing(client, factory):
    patient = factory.patient()
    sent = [{"substance": "kratom", "amount": "2 scoops"}, {"substance": "buprenorphine"}]
    created = put(client, patient, TODAY, taken=sent)
    assert created.status_code == 201, created.json
    expected = [sent[0], {"substance": "buprenorphine", "amount": None}]
    assert created.json["taken"] == expected
    got = client.get(f"/api/v1/checkins/{TODAY}", headers=patient.headers)
    assert got.json["taken"] == expected
    # The same day again (amount left out or null alike) is a retry: same version.
    retried = put(client, patient, TODAY, taken=expected, headers={"If-Match": '"stale"'})
    assert retried.status_code == 200
    assert retried.headers["ETag"] == created.headers["ETag"]
    changed = put(client, patient, TODAY, taken=[sent[0]])
    assert changed.headers["ETag"] != created.headers["ETag"]
    assert changed.json["taken"] == [sent[0]]


def test_a_put_without_taken_clears_it(client, factory):
    patient = factory.patient()
    put(client, patient, TODAY, taken=TAKEN)
    for body in ({}, {"taken": []}, {"taken": None}):
        response = put(client, patient, TODAY, **body)
        assert response.json["taken"] is None


@pytest.mark.parametrize(
    ("taken", "where"),
    [
        ([{"substance": "fentanyl"}], "substance"),
        ([{"substance": "none"}], "substance"),  # "none" is no medicine taken
        ([{"amount": "1"}], "substance"),
        ([{"substance": "kratom", "amount": "x" * 201}], "amount"),
        ([{"substance": "kratom", "amount": 3}], "amount"),
        ([{"substance": "kratom", "dose": "3"}], "dose"),
    ],
)
def test_a_bad_item_is_422_naming_the_item_and_its_field(client, factory, taken, where):
    patient = factory.patient()
    response = put(client, patient, TODAY, taken=taken)
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["taken"]
    (by_index,) = response.json["errors"]["taken"]
    assert list(by_index) == ["0"] and list(by_index["0"]) == [where]
    assert client.get(f"/api/v1/checkins/{TODAY}", headers=patient.headers).status_code == 404


@pytest.mark.parametrize("taken", ["kratom", [["kratom"]], [{"substance": "kratom"}] * 21])
def test_a_bad_list_is_422_naming_taken(client, factory, taken):
    patient = factory.patient()
    response = put(client, patient, TODAY, taken=taken)
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["taken"]


def test_twenty_items_are_accepted(client, factory):
    patient = factory.patient()
    taken = [{"substance": "other", "amount": str(n)} for n in range(20)]
    assert put(client, patient, TODAY, taken=taken).json["taken"] == taken


def test_batch_and_changes_feed_carry_taken(client, factory):
    patient = factory.patient()
    items = [
        {"date": str(TODAY), **checkin_body(taken=TAKEN[:1])},
        {"date": str(TODAY - timedelta(days=1)), **checkin_body(taken=[{"substance": "x"}])},
    ]
    response = client.post(
        "/api/v1/checkins/batch", json={"items": items}, headers=patient.headers
    )
    first, second = response.json["items"]
    assert first["status"] == 201 and first["checkin"]["taken"] == TAKEN[:1]
    assert second["status"] == 422 and list(second["problem"]["errors"]) == ["taken"]
    again = client.post(
        "/api/v1/checkins/batch", json={"items": items[:1]}, headers=patient.headers
    )
    assert again.json["items"][0]["status"] == 200
    assert again.json["items"][0]["etag"] == first["etag"]
    feed = client.get("/api/v1/checkins/changes", headers=patient.headers).json["items"]
    assert [item["checkin"]["taken"] for item in feed] == [TAKEN[:1]]


def test_counselors_see_taken_with_the_checkins_scope(client, factory):
    patient, counselor = factory.patient(), factory.counselor()
    put(client, patient, TODAY, taken=TAKEN)
    factory.share(patient, counselor, scope=["checkins"], include_notes=True)
    items = client.get(f"/api/v1/patients/{patient.id}/checkins", headers=counselor.headers)
    assert items.json["items"][0]["taken"] == TAKEN


def test_amounts_are_the_persons_own_words_and_follow_the_notes_consent(client, factory):
    """Without consent to notes a counselor sees what was taken, never the amounts written."""
    patient, counselor = factory.patient(), factory.counselor()
    put(client, patient, TODAY, taken=TAKEN, note="private")
    factory.share(patient, counselor, scope=["checkins", "export"], include_notes=False)
    items = client.get(f"/api/v1/patients/{patient.id}/checkins", headers=counselor.headers)
    assert items.json["items"][0]["taken"] == [
        {"substance": "kratom", "amount": None},
        {"substance": "buprenorphine", "amount": None},
        {"substance": "kratom", "amount": None},
    ]
    exported = {}
    for fmt in ("csv", "fhir", "pdf"):
        response = client.get(
            f"/api/v1/patients/{patient.id}/export?format={fmt}&from={TODAY}&to={TODAY}",
            headers=counselor.headers,
        )
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        exported[fmt] = response.get_data()
    rows = list(csv.DictReader(io.StringIO(exported["csv"].decode())))
    assert [row["taken"] for row in rows] == ["kratom; buprenorphine; kratom"]
    for fmt in ("csv", "fhir"):
        assert b"scoops" not in exported[fmt] and b"=1+1" not in exported[fmt]
    pdf = "".join(page.extract_text() for page in PdfReader(io.BytesIO(exported["pdf"])).pages)
    assert "kratom" in pdf and "scoops" not in pdf


def test_exports_show_taken_as_written(client, factory):
    patient = factory.patient()
    put(client, patient, TODAY, taken=TAKEN)
    put(client, patient, TODAY - timedelta(days=1))
    query = f"from={TODAY - timedelta(days=1)}&to={TODAY}"
    text = client.get(f"/api/v1/export?format=csv&{query}", headers=patient.headers)
    rows = list(csv.DictReader(io.StringIO(text.get_data(as_text=True))))
    assert [row["taken"] for row in rows] == [
        "",
        "kratom (2 scoops); buprenorphine; kratom (=1+1 later)",
    ]
    bundle = client.get(f"/api/v1/export?format=fhir&{query}", headers=patient.headers).json
    resources = [entry["resource"] for entry in bundle["entry"]]
    (questionnaire,) = [r for r in resources if r["resourceType"] == "Questionnaire"]
    (question,) = [item for item in questionnaire["item"] if item["linkId"] == "taken"]
    assert question["repeats"] is True and question["type"] == "string"
    answered = [
        item["answer"]
        for r in resources
        if r["resourceType"] == "QuestionnaireResponse"
        for item in r["item"]
        if item["linkId"] == "taken"
    ]
    assert answered == [
        [
            {"valueString": "kratom (2 scoops)"},
            {"valueString": "buprenorphine"},
            {"valueString": "kratom (=1+1 later)"},
        ]
    ]
