"""Instruments and patients' SOWS responses through HTTP: scoring, days, conditions, lists."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.instruments.definitions import SOWS_GOSSOP, SOWS_HANDELSMAN
from tests.assessments.test_status_api import DOSING_RE

FIXED_NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
DAY = "2026-06-14"
GOSSOP = "/api/v1/instruments/sows-gossop-10"
HANDELSMAN = "/api/v1/instruments/sows-handelsman-16"


@pytest.fixture(autouse=True)
def fixed_clock():
    with time_machine.travel(FIXED_NOW, tick=True):
        yield


def gossop(**values) -> dict:
    """A complete SOWS-Gossop response: every item 1 unless given."""
    return {item_id: values.get(item_id, 1) for item_id in SOWS_GOSSOP.item_ids}


def put(client, person, items, day=DAY, path=GOSSOP, **headers):
    return client.put(
        f"{path}/responses/{day}", json={"items": items}, headers={**person.headers, **headers}
    )


def get(client, person, day=DAY, path=GOSSOP, **headers):
    return client.get(f"{path}/responses/{day}", headers={**person.headers, **headers})


# --- The instruments ---------------------------------------------------------------------


def test_instruments_are_listed_for_anyone_signed_in(client, factory):
    patient, counselor = factory.patient(), factory.counselor()
    for person in (patient, counselor):
        listed = client.get("/api/v1/instruments", headers=person.headers)
        assert listed.status_code == 200
        ids = [instrument["id"] for instrument in listed.json["items"]]
        assert ids == ["sows-gossop-10", "sows-handelsman-16", "cows-11"]
    assert client.get("/api/v1/instruments").status_code == 401


def test_one_instrument_has_its_items_anchors_range_and_no_invented_bands(client, factory):
    patient = factory.patient()
    body = client.get(GOSSOP, headers=patient.headers).json
    assert (body["version"], body["completed_by"], body["timing"]) == ("1", "patient", "daily")
    assert body["total_range"] == {"min": 0, "max": 30}
    assert body["bands"] == []
    assert len(body["items"]) == 10
    assert body["items"][0]["item_id"] == "feeling_sick"
    assert [o["anchor"] for o in body["items"][0]["options"]] == [
        "none",
        "mild",
        "moderate",
        "severe",
    ]
    assert "Gossop" in body["citation"]
    assert "2 to 4 points" in body["interpretation"]
    assert "second-hand" in body["interpretation"]
    handelsman = client.get(HANDELSMAN, headers=patient.headers).json
    assert handelsman["total_range"] == {"min": 0, "max": 64}
    assert handelsman["bands"] == []
    cows = client.get("/api/v1/instruments/cows-11", headers=patient.headers).json
    assert cows["completed_by"] == "clinician"
    assert cows["total_range"] == {"min": 0, "max": 48}
    assert [(b["code"], b["min"], b["max"]) for b in cows["bands"]] == [
        ("mild", 5, 12),
        ("moderate", 13, 24),
        ("moderately_severe", 25, 36),
        ("severe", 37, 48),
    ]
    gooseflesh = next(i for i in cows["items"] if i["item_id"] == "gooseflesh_skin")
    assert [o["value"] for o in gooseflesh["options"]] == [0, 3, 5]


def test_an_unknown_instrument_is_a_404_problem(client, factory):
    patient = factory.patient()
    for path in ("/api/v1/instruments/sows-8", f"/api/v1/instruments/x/responses/{DAY}"):
        response = client.get(path, headers=patient.headers)
        assert response.status_code == 404
        assert response.content_type == "application/problem+json"


def test_instruments_answer_304_to_their_own_etag(client, factory):
    patient = factory.patient()
    first = client.get(GOSSOP, headers=patient.headers)
    again = client.get(GOSSOP, headers={**patient.headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    other = client.get(HANDELSMAN, headers=patient.headers)
    assert other.headers["ETag"] != first.headers["ETag"]


# --- Writing a response ------------------------------------------------------------------


def test_a_response_is_created_scored_then_replaced(client, factory):
    patient = factory.patient()
    created = put(client, patient, gossop(insomnia=3))
    assert created.status_code == 201
    body = created.json
    assert body["instrument_id"] == "sows-gossop-10"
    assert body["instrument_version"] == "1"
    assert body["date"] == DAY
    assert body["items"] == gossop(insomnia=3)
    assert (body["total"], body["band"]) == (12, None)
    assert body["created_at"] == body["updated_at"]
    replaced = put(client, patient, gossop(insomnia=0, yawning=0))
    assert replaced.status_code == 200
    assert replaced.json["total"] == 8
    assert replaced.json["created_at"] == body["created_at"]
    assert replaced.headers["ETag"] != created.headers["ETag"]
    fetched = get(client, patient)
    assert fetched.json == replaced.json
    assert fetched.headers["ETag"] == replaced.headers["ETag"]


@pytest.mark.parametrize(
    ("instrument", "path", "maximum"),
    [(SOWS_GOSSOP, GOSSOP, 30), (SOWS_HANDELSMAN, HANDELSMAN, 64)],
)
def test_totals_at_zero_and_at_the_maximum_through_http(
    client, factory, instrument, path, maximum
):
    patient = factory.patient()
    zero = put(client, patient, dict.fromkeys(instrument.item_ids, 0), path=path)
    assert (zero.status_code, zero.json["total"], zero.json["band"]) == (201, 0, None)
    top = max(instrument.items[0].values)
    full = put(client, patient, dict.fromkeys(instrument.item_ids, top), path=path)
    assert (full.status_code, full.json["total"], full.json["band"]) == (200, maximum, None)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(st.integers(0, 4), min_size=16, max_size=16))
def test_any_valid_handelsman_response_scores_to_its_sum(client, factory, values):
    patient = factory.patient()
    items = dict(zip(SOWS_HANDELSMAN.item_ids, values, strict=True))
    response = put(client, patient, items, path=HANDELSMAN)
    assert response.status_code == 201
    assert (response.json["total"], response.json["band"]) == (sum(values), None)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    item_id=st.sampled_from(SOWS_GOSSOP.item_ids),
    bad=st.one_of(
        # JSON numbers as the phone's encoder writes them (64-bit integers).
        st.integers(-(2**63), 2**63 - 1).filter(lambda v: v not in range(4)),
        st.booleans(),
        st.text(),
    ),
)
def test_a_value_outside_the_items_set_is_a_422_naming_it(client, factory, item_id, bad):
    patient = factory.patient()
    response = put(client, patient, {**gossop(), item_id: bad})
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.json["errors"] == {f"items.{item_id}": ["Must be one of: 0, 1, 2, 3."]}
    assert get(client, patient).status_code == 404


def test_missing_and_extra_items_are_each_named_and_nothing_is_stored(client, factory):
    patient = factory.patient()
    items = gossop()
    del items["yawning"], items["runny_eyes"]
    items["headache"] = 2
    response = put(client, patient, items)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {
        "items.yawning",
        "items.runny_eyes",
        "items.headache",
    }
    assert "total" not in response.json
    assert get(client, patient).status_code == 404
    # Another instrument's items are not this one's.
    handelsman = dict.fromkeys(SOWS_HANDELSMAN.item_ids, 1)
    assert put(client, patient, handelsman).status_code == 422
    for body in ({}, {"items": []}, {"items": gossop(), "total": 10}):
        response = client.put(f"{GOSSOP}/responses/{DAY}", json=body, headers=patient.headers)
        assert response.status_code == 422, body


def test_a_clinician_instrument_has_no_patient_responses(client, factory):
    patient = factory.patient()
    cows = "/api/v1/instruments/cows-11"
    response = put(client, patient, {"resting_pulse": 0}, path=cows)
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert "clinician" in response.json["detail"]
    assert client.get(f"{cows}/responses", headers=patient.headers).status_code == 404
    assert client.delete(f"{cows}/responses/{DAY}", headers=patient.headers).status_code == 404


def test_the_day_follows_the_check_in_rules(client, factory):
    patient = factory.patient(timezone="Pacific/Kiritimati")  # UTC+14: already the 16th
    assert put(client, patient, gossop(), day="2026-06-16").status_code == 201
    future = put(client, patient, gossop(), day="2026-06-17")
    assert future.status_code == 422
    assert future.json["errors"] == {"date": ["Must not be after today in your time zone."]}
    early = put(client, patient, gossop(), day="1999-12-31")
    assert early.json["errors"] == {"date": ["Must be 2000-01-01 or later."]}
    assert put(client, patient, gossop(), day="2000-01-01").status_code == 201
    assert put(client, patient, gossop(), day="2026-02-30").status_code == 422


def test_counselors_cannot_write_or_read_responses_as_their_own(client, factory):
    counselor = factory.counselor()
    assert put(client, counselor, gossop()).status_code == 403
    assert client.get(f"{GOSSOP}/responses", headers=counselor.headers).status_code == 403


def test_someone_elses_response_is_not_found(client, factory):
    owner, other = factory.patient(), factory.patient()
    put(client, owner, gossop())
    assert get(client, other).status_code == 404
    assert client.delete(f"{GOSSOP}/responses/{DAY}", headers=other.headers).status_code == 404
    assert client.get(f"{GOSSOP}/responses", headers=other.headers).json["items"] == []
    assert get(client, owner).status_code == 200


# --- Conditions and retries (as check-ins) -------------------------------------------------


def test_if_match_replaces_only_the_version_it_names(client, factory):
    patient = factory.patient()
    first = put(client, patient, gossop())
    second = put(client, patient, gossop(yawning=3), **{"If-Match": first.headers["ETag"]})
    assert second.status_code == 200
    stale = put(client, patient, gossop(yawning=0), **{"If-Match": first.headers["ETag"]})
    assert stale.status_code == 412
    assert stale.json["errors"] == {"If-Match": ["Does not match the current ETag."]}
    assert "The response changed since you last fetched it" in stale.json["detail"]
    assert stale.headers["ETag"] == second.headers["ETag"]
    assert get(client, patient).json["items"]["yawning"] == 3
    star = put(client, patient, gossop(yawning=2), **{"If-Match": "*"})
    assert star.status_code == 200


def test_if_match_on_a_missing_day_is_412(client, factory):
    patient = factory.patient()
    for tag in ('"abc"', "*"):
        refused = put(client, patient, gossop(), **{"If-Match": tag})
        assert refused.status_code == 412
        assert refused.json["errors"] == {"If-Match": ["There is no response for this day yet."]}
    assert get(client, patient).status_code == 404


def test_if_none_match_star_creates_only(client, factory):
    patient = factory.patient()
    created = put(client, patient, gossop(), **{"If-None-Match": "*"})
    assert created.status_code == 201
    refused = put(client, patient, gossop(yawning=3), **{"If-None-Match": "*"})
    assert refused.status_code == 412
    assert refused.json["errors"] == {"If-None-Match": ["A response for this day exists already."]}
    assert refused.headers["ETag"] == created.headers["ETag"]


def test_an_identical_retry_is_a_no_op_200_whatever_its_conditions(client, factory):
    patient = factory.patient()
    first = put(client, patient, gossop(), **{"If-None-Match": "*"})
    for headers in ({"If-None-Match": "*"}, {"If-Match": '"stale"'}, {}):
        retry = put(client, patient, gossop(), **headers)
        assert retry.status_code == 200, headers
        assert retry.headers["ETag"] == first.headers["ETag"]
        assert retry.json["updated_at"] == first.json["updated_at"]


def test_a_malformed_condition_is_a_400_naming_the_header(client, factory):
    patient = factory.patient()
    response = put(client, patient, gossop(), **{"If-Match": "unquoted"})
    assert response.status_code == 400
    assert list(response.json["errors"]) == ["If-Match"]


def test_get_answers_304_and_honours_if_match(client, factory):
    patient = factory.patient()
    etag = put(client, patient, gossop()).headers["ETag"]
    not_modified = get(client, patient, **{"If-None-Match": etag})
    assert (not_modified.status_code, not_modified.headers["ETag"]) == (304, etag)
    assert get(client, patient, **{"If-Match": '"other"'}).status_code == 412
    assert get(client, patient, **{"If-None-Match": '"other"'}).status_code == 200


def test_delete_then_the_day_is_gone_and_a_new_etag_never_repeats(client, factory):
    patient = factory.patient()
    first = put(client, patient, gossop())
    deleted = client.delete(f"{GOSSOP}/responses/{DAY}", headers=patient.headers)
    assert deleted.status_code == 204
    assert get(client, patient).status_code == 404
    again = client.delete(f"{GOSSOP}/responses/{DAY}", headers=patient.headers)
    assert again.status_code == 404
    recreated = put(client, patient, gossop())
    assert recreated.status_code == 201
    assert recreated.headers["ETag"] != first.headers["ETag"]


# --- Listing -----------------------------------------------------------------------------


def test_responses_are_listed_per_instrument_by_date_and_paged(client, factory):
    patient = factory.patient()
    today = date(2026, 6, 15)
    for offset in range(5):
        put(
            client,
            patient,
            gossop(yawning=offset % 4),
            day=(today - timedelta(offset)).isoformat(),
        )
    put(client, patient, dict.fromkeys(SOWS_HANDELSMAN.item_ids, 2), path=HANDELSMAN)
    listed = client.get(f"{GOSSOP}/responses?page_size=2", headers=patient.headers)
    assert listed.status_code == 200
    body = listed.json
    assert (body["total_items"], body["total_pages"]) == (5, 3)
    assert [item["date"] for item in body["items"]] == ["2026-06-11", "2026-06-12"]
    assert (body["from"], body["to"]) == ("2026-03-18", "2026-06-15")
    assert 'rel="next"' in listed.headers["Link"]
    ranged = client.get(
        f"{GOSSOP}/responses?from=2026-06-13&to=2026-06-14", headers=patient.headers
    ).json
    assert [item["date"] for item in ranged["items"]] == ["2026-06-13", "2026-06-14"]
    other = client.get(f"{HANDELSMAN}/responses", headers=patient.headers).json
    assert [(i["date"], i["total"]) for i in other["items"]] == [(DAY, 32)]
    backwards = client.get(
        f"{GOSSOP}/responses?from=2026-06-14&to=2026-06-13", headers=patient.headers
    )
    assert backwards.status_code == 422
    assert list(backwards.json["errors"]) == ["from"]


def test_no_instrument_text_carries_dosing_words(client, factory):
    patient = factory.patient()
    text = client.get("/api/v1/instruments", headers=patient.headers).get_data(as_text=True)
    assert "Gossop" in text
    assert not DOSING_RE.search(text)
