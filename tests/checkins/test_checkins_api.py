"""Check-ins through the HTTP API, as the phone uses them."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from tests.factories import checkin_body

FIXED_NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
TODAY = date(2026, 6, 15)


@pytest.fixture(autouse=True)
def fixed_clock():
    """Check-in rules depend on 'today'; pin it."""
    with time_machine.travel(FIXED_NOW, tick=True):
        yield


def put(client, person, day, body, **headers):
    return client.put(f"/api/v1/checkins/{day}", json=body, headers={**person.headers, **headers})


def test_put_creates_then_replaces_with_etag(client, factory):
    patient = factory.patient()
    created = put(client, patient, "2026-06-14", checkin_body(note="rough night"))
    assert created.status_code == 201
    assert created.json["date"] == "2026-06-14"
    assert created.json["total"] == 3 + 4 + 5 + 2
    assert created.json["note"] == "rough night"
    assert created.headers["ETag"].startswith('"')

    replaced = put(client, patient, "2026-06-14", checkin_body(nausea=9))
    assert replaced.status_code == 200
    assert replaced.json["nausea"] == 9
    assert replaced.json["note"] is None  # PUT replaces the whole day
    assert replaced.headers["ETag"] != created.headers["ETag"]
    assert replaced.json["created_at"] == created.json["created_at"]


def test_repeated_put_is_harmless(client, factory):
    patient = factory.patient()
    first = put(client, patient, "2026-06-14", checkin_body(vomiting=2))
    retry = put(client, patient, "2026-06-14", checkin_body(vomiting=2))
    # A retry carrying the original If-Match still succeeds: nothing would be overwritten.
    retry_with_old_tag = put(
        client,
        patient,
        "2026-06-14",
        checkin_body(vomiting=2),
        **{"If-Match": first.headers["ETag"]},
    )
    assert retry.status_code == retry_with_old_tag.status_code == 200
    assert retry.headers["ETag"] == first.headers["ETag"]
    listing = client.get("/api/v1/checkins", headers=patient.headers).json
    assert listing["total_items"] == 1


def test_a_put_of_the_four_scores_clears_every_optional_field(client, factory):
    patient = factory.patient()
    full = checkin_body(
        diarrhea=1, vomiting=2, cravings=3, sleep_hours=6.5, used_opioids=True, crisis=False
    )
    put(client, patient, "2026-06-14", {**full, "note": "all of it"})
    four_scores = checkin_body()
    replaced = put(client, patient, "2026-06-14", four_scores)
    assert replaced.status_code == 200
    optional = ["diarrhea", "vomiting", "cravings", "sleep_hours", "used_opioids", "crisis"]
    stored = client.get("/api/v1/checkins/2026-06-14", headers=patient.headers).json
    assert {name: stored[name] for name in [*optional, "note"]} == dict.fromkeys(
        [*optional, "note"]
    )
    # Sending the same four scores again changes nothing: absent and null are one.
    retry = put(client, patient, "2026-06-14", four_scores)
    explicit_nulls = put(client, patient, "2026-06-14", {**four_scores, "cravings": None})
    assert retry.status_code == explicit_nulls.status_code == 200
    assert retry.headers["ETag"] == explicit_nulls.headers["ETag"] == replaced.headers["ETag"]


def test_stale_if_match_is_refused_and_nothing_is_overwritten(client, factory):
    patient = factory.patient()
    original = put(client, patient, "2026-06-14", checkin_body())
    tag = original.headers["ETag"]
    phone_a = put(client, patient, "2026-06-14", checkin_body(anxiety=8), **{"If-Match": tag})
    assert phone_a.status_code == 200
    phone_b = put(client, patient, "2026-06-14", checkin_body(anxiety=1), **{"If-Match": tag})
    assert phone_b.status_code == 412
    assert phone_b.content_type == "application/problem+json"
    assert phone_b.headers["ETag"] == phone_a.headers["ETag"]
    stored = client.get("/api/v1/checkins/2026-06-14", headers=patient.headers)
    assert stored.json["anxiety"] == 8
    assert stored.headers["ETag"] == phone_a.headers["ETag"]


def test_if_match_on_a_missing_day_is_412(client, factory):
    patient = factory.patient()
    response = put(client, patient, "2026-06-14", checkin_body(), **{"If-Match": '"nope"'})
    assert response.status_code == 412


def test_optional_fields_round_trip(client, factory):
    patient = factory.patient()
    body = checkin_body(
        diarrhea=7,
        vomiting=0,
        cravings=10,
        sleep_hours=4.5,
        used_opioids=False,
        crisis=True,
        note="Тошнота 😣",
    )
    response = put(client, patient, "2026-06-14", body)
    assert response.status_code == 201
    for key, value in body.items():
        assert response.json[key] == value


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("nausea", 2.5, "Not a valid integer."),
        ("nausea", "4", "Not a valid integer."),
        ("nausea", True, "Not a valid integer."),
        ("aches", 11, "Must be greater than or equal to 0 and less than or equal to 10."),
        ("anxiety", -1, "Must be greater than or equal to 0 and less than or equal to 10."),
        ("insomnia", None, "Field may not be null."),
        ("cravings", 3.0, "Not a valid integer."),
        ("sleep_hours", 24.5, "Must be greater than or equal to 0 and less than or equal to 24."),
        ("used_opioids", "yes", "Not a valid boolean."),
        ("crisis", 1, "Not a valid boolean."),
        ("note", "x" * 2001, "Longer than maximum length 2000."),
        ("patient_id", "someone-else", "Unknown field."),
    ],
)
def test_bad_fields_are_422_naming_field_and_rule(client, factory, field, value, message):
    patient = factory.patient()
    response = put(client, patient, "2026-06-14", checkin_body(**{field: value}))
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.json["errors"] == {field: [message]}
    assert client.get("/api/v1/checkins/2026-06-14", headers=patient.headers).status_code == 404


def test_missing_required_score_is_422(client, factory):
    patient = factory.patient()
    body = checkin_body()
    del body["aches"]
    response = put(client, patient, "2026-06-14", body)
    assert response.status_code == 422
    assert response.json["errors"] == {"aches": ["Missing data for required field."]}


@pytest.mark.parametrize("day", ["2026-06-16", "1999-12-31"])
def test_day_outside_allowed_range_is_422(client, factory, day):
    patient = factory.patient()
    response = put(client, patient, day, checkin_body())
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["date"]


@pytest.mark.parametrize("day", ["2026-6-1", "2026-02-30", "yesterday", "20260614"])
def test_malformed_day_is_422(client, factory, day):
    patient = factory.patient()
    for response in (
        put(client, patient, day, checkin_body()),
        client.get(f"/api/v1/checkins/{day}", headers=patient.headers),
        client.delete(f"/api/v1/checkins/{day}", headers=patient.headers),
    ):
        assert response.status_code == 422
        assert list(response.json["errors"]) == ["date"]


def test_today_follows_the_patients_time_zone(client, factory):
    # 12:00 UTC on 15 June is already 16 June in Kiritimati (UTC+14)...
    ahead = factory.patient(timezone="Pacific/Kiritimati")
    assert put(client, ahead, "2026-06-16", checkin_body()).status_code == 201
    # ...and 01:00 on 15 June in Pago Pago (UTC-11), where the 16th is the future.
    behind = factory.patient(timezone="Pacific/Pago_Pago")
    assert put(client, behind, "2026-06-16", checkin_body()).status_code == 422
    assert put(client, behind, "2026-06-15", checkin_body()).status_code == 201


def test_get_and_delete(client, factory):
    patient = factory.patient()
    put(client, patient, "2026-06-10", checkin_body())
    got = client.get("/api/v1/checkins/2026-06-10", headers=patient.headers)
    assert got.status_code == 200
    assert got.json["total"] == 14
    assert client.get("/api/v1/checkins/2026-06-11", headers=patient.headers).status_code == 404
    assert client.delete("/api/v1/checkins/2026-06-10", headers=patient.headers).status_code == 204
    assert client.get("/api/v1/checkins/2026-06-10", headers=patient.headers).status_code == 404
    assert client.delete("/api/v1/checkins/2026-06-10", headers=patient.headers).status_code == 404


def test_list_is_in_date_order_ranged_and_paginated(client, factory):
    patient = factory.patient()
    days = [TODAY - timedelta(days=n) for n in (0, 3, 1, 120, 2)]
    for day in days:
        put(client, patient, day.isoformat(), checkin_body())

    default = client.get("/api/v1/checkins", headers=patient.headers).json
    assert default["from"] == (TODAY - timedelta(days=89)).isoformat()
    assert default["to"] == TODAY.isoformat()
    assert [item["date"] for item in default["items"]] == [
        "2026-06-12",
        "2026-06-13",
        "2026-06-14",
        "2026-06-15",
    ]

    page = client.get(
        "/api/v1/checkins?from=2026-01-01&to=2026-06-15&page=2&page_size=2",
        headers=patient.headers,
    ).json
    assert [item["date"] for item in page["items"]] == ["2026-06-13", "2026-06-14"]
    assert (page["total_items"], page["total_pages"], page["page"]) == (5, 3, 2)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page_size=101", "page_size"),
        ("page_size=0", "page_size"),
        ("page=0", "page"),
        ("from=2026-06-10&to=2026-06-01", "from"),
        ("from=junk", "from"),
    ],
)
def test_bad_list_queries_are_422(client, factory, query, field):
    patient = factory.patient()
    response = client.get(f"/api/v1/checkins?{query}", headers=patient.headers)
    assert response.status_code == 422
    assert field in response.json["errors"]


def test_patients_only_ever_see_their_own(client, factory):
    alice, bob = factory.patient(), factory.patient()
    put(client, alice, "2026-06-14", checkin_body(note="alice's secret"))
    assert client.get("/api/v1/checkins/2026-06-14", headers=bob.headers).status_code == 404
    assert client.get("/api/v1/checkins", headers=bob.headers).json["items"] == []
    assert client.delete("/api/v1/checkins/2026-06-14", headers=bob.headers).status_code == 404
    # Bob writing the same day creates his own, leaving Alice's untouched.
    assert put(client, bob, "2026-06-14", checkin_body(nausea=0)).status_code == 201
    assert client.get("/api/v1/checkins/2026-06-14", headers=alice.headers).json["note"] == (
        "alice's secret"
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/checkins"),
        ("get", "/api/v1/checkins/2026-06-14"),
        ("put", "/api/v1/checkins/2026-06-14"),
        ("delete", "/api/v1/checkins/2026-06-14"),
    ],
)
def test_counselors_get_403_and_anonymous_401(client, factory, method, path):
    counselor = factory.counselor()
    as_counselor = getattr(client, method)(path, json=checkin_body(), headers=counselor.headers)
    assert as_counselor.status_code == 403
    anonymous = getattr(client, method)(path, json={"nausea": "bad"})
    assert anonymous.status_code == 401
    assert anonymous.content_type == "application/problem+json"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("to=9999-12-31", "to"),
        ("from=0001-01-01&to=0001-01-05", "from"),
        ("from=1999-12-31", "from"),
        ("from=2027-06-17", "from"),
    ],
)
@pytest.mark.parametrize(
    "path", ["/api/v1/checkins", "/api/v1/trends", "/api/v1/trends/chart", "/api/v1/export"]
)
def test_ranges_stay_between_2000_and_a_year_ahead(client, factory, path, query, field):
    patient = factory.patient()
    response = client.get(f"{path}?{query}", headers=patient.headers)
    assert response.status_code == 422
    assert list(response.json["errors"]) == [field]


def test_if_match_star_replaces_an_existing_day_and_refuses_a_missing_one(client, factory):
    patient = factory.patient()
    day = date.today().isoformat()
    body = {"nausea": 4, "aches": 1, "anxiety": 1, "insomnia": 1}
    star = {**patient.headers, "If-Match": "*"}
    missing = client.put(f"/api/v1/checkins/{day}", json=body, headers=star)
    assert missing.status_code == 412
    assert client.get(f"/api/v1/checkins/{day}", headers=patient.headers).status_code == 404
    factory.checkin(patient, date.today())
    replaced = client.put(f"/api/v1/checkins/{day}", json=body, headers=star)
    assert replaced.status_code == 200, replaced.json
    assert replaced.json["nausea"] == 4
    assert replaced.headers["ETag"] != missing.headers.get("ETag")
