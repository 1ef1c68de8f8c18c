"""If-Match and If-None-Match on check-ins, status and trends (RFC 9110 section 13)."""

from datetime import UTC, datetime

import pytest
import time_machine

from tests.factories import checkin_body

FIXED_NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
DAY = "2026-06-14"


@pytest.fixture(autouse=True)
def fixed_clock():
    with time_machine.travel(FIXED_NOW, tick=True):
        yield


def put(client, person, body, day=DAY, **headers):
    return client.put(f"/api/v1/checkins/{day}", json=body, headers={**person.headers, **headers})


def get(client, person, path=f"/api/v1/checkins/{DAY}", **headers):
    return client.get(path, headers={**person.headers, **headers})


def stored(client, person, day=DAY):
    return get(client, person, f"/api/v1/checkins/{day}")


# --- Create-only PUT -------------------------------------------------------------------------


def test_create_only_put_creates_a_missing_day(client, factory):
    patient = factory.patient()
    created = put(client, patient, checkin_body(nausea=7), **{"If-None-Match": "*"})
    assert created.status_code == 201
    assert stored(client, patient).json["nausea"] == 7
    assert stored(client, patient).headers["ETag"] == created.headers["ETag"]


def test_create_only_put_never_overwrites_an_existing_day(client, factory):
    patient = factory.patient()
    first = put(client, patient, checkin_body(nausea=2))
    refused = put(client, patient, checkin_body(nausea=9), **{"If-None-Match": "*"})
    assert refused.status_code == 412
    assert refused.content_type == "application/problem+json"
    assert refused.json["type"] == "urn:steady:problem:precondition-failed"
    assert "exists already" in refused.json["detail"]
    assert refused.json["errors"] == {"If-None-Match": ["A check-in for this day exists already."]}
    # The current version comes back, so the phone can fetch it and decide.
    assert refused.headers["ETag"] == first.headers["ETag"]
    assert stored(client, patient).json["nausea"] == 2


def test_a_retried_create_only_put_that_already_landed_succeeds(client, factory):
    # RFC 9110 13.1.2: a 2xx is right when the change requested has already been made.
    patient = factory.patient()
    first = put(client, patient, checkin_body(), **{"If-None-Match": "*"})
    retry = put(client, patient, checkin_body(), **{"If-None-Match": "*"})
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.headers["ETag"] == first.headers["ETag"]


def test_if_none_match_listing_the_current_version_refuses_the_put(client, factory):
    patient = factory.patient()
    current = put(client, patient, checkin_body()).headers["ETag"]
    refused = put(client, patient, checkin_body(aches=9), **{"If-None-Match": current})
    assert refused.status_code == 412
    assert refused.json["errors"] == {"If-None-Match": ["Lists the current ETag."]}
    elsewhere = put(client, patient, checkin_body(aches=9), **{"If-None-Match": '"other"'})
    assert elsewhere.status_code == 200
    assert stored(client, patient).json["aches"] == 9


# --- 412 says which case it is ---------------------------------------------------------------


def test_if_match_on_a_missing_day_says_there_is_no_check_in_yet(client, factory):
    patient = factory.patient()
    for tag in ('"5d41402a"', "*"):
        refused = put(client, patient, checkin_body(), **{"If-Match": tag})
        assert refused.status_code == 412
        assert refused.json["detail"].startswith("There is no check-in for this day yet")
        assert "changed since" not in refused.json["detail"]
        assert refused.json["errors"] == {"If-Match": ["There is no check-in for this day yet."]}
        assert "ETag" not in refused.headers
    assert stored(client, patient).status_code == 404


def test_a_stale_if_match_says_the_day_changed(client, factory):
    patient = factory.patient()
    old = put(client, patient, checkin_body()).headers["ETag"]
    new = put(client, patient, checkin_body(nausea=8), **{"If-Match": old}).headers["ETag"]
    refused = put(client, patient, checkin_body(nausea=1), **{"If-Match": old})
    assert refused.status_code == 412
    assert "changed since you last fetched it" in refused.json["detail"]
    assert refused.json["errors"] == {"If-Match": ["Does not match the current ETag."]}
    assert refused.headers["ETag"] == new


def test_a_weak_if_match_never_matches_and_says_so(client, factory):
    patient = factory.patient()
    tag = put(client, patient, checkin_body()).headers["ETag"]
    refused = put(client, patient, checkin_body(nausea=1), **{"If-Match": f"W/{tag}"})
    assert refused.status_code == 412
    assert refused.json["errors"] == {"If-Match": ["Weak entity tags never match."]}
    # Listed with the strong tag, the same request goes through.
    listed = put(client, patient, checkin_body(nausea=1), **{"If-Match": f'"x", W/{tag}, {tag}'})
    assert listed.status_code == 200


def test_if_match_and_if_none_match_are_both_evaluated(client, factory):
    patient = factory.patient()
    tag = put(client, patient, checkin_body()).headers["ETag"]
    both = put(client, patient, checkin_body(nausea=0), **{"If-Match": tag, "If-None-Match": "*"})
    assert both.status_code == 412
    assert list(both.json["errors"]) == ["If-None-Match"]


# --- Malformed conditions are a 400 naming the header ----------------------------------------

MALFORMED = [
    "5d41402a",  # unquoted: the tag of an app that dropped the quotes
    '"5d41402a',
    "W/5d41402a",
    '"a" "b"',
    '"a", *',
    "*, *",
    '"tab\there"',
    '"no"quotes"',
]


@pytest.mark.parametrize("header", ["If-Match", "If-None-Match"])
@pytest.mark.parametrize("value", MALFORMED)
def test_a_malformed_condition_on_put_is_a_400_naming_the_header(client, factory, header, value):
    patient = factory.patient()
    response = put(client, patient, checkin_body(), **{header: value})
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert response.json["type"] == "urn:steady:problem:bad-request"
    assert header in response.json["detail"]
    assert list(response.json["errors"]) == [header]
    assert stored(client, patient).status_code == 404


@pytest.mark.parametrize("header", ["If-Match", "If-None-Match"])
@pytest.mark.parametrize("path", [f"/api/v1/checkins/{DAY}", "/api/v1/status", "/api/v1/trends"])
def test_a_malformed_condition_on_a_read_is_a_400(client, factory, header, path):
    patient = factory.patient()
    put(client, patient, checkin_body())
    response = get(client, patient, path, **{header: "5d41402a"})
    assert response.status_code == 400
    assert list(response.json["errors"]) == [header]


def test_an_empty_list_matches_nothing(client, factory):
    # "#entity-tag" is a list of zero or more tags: an empty value is well formed.
    patient = factory.patient()
    tag = put(client, patient, checkin_body()).headers["ETag"]
    assert get(client, patient, **{"If-None-Match": ""}).status_code == 200
    refused = put(client, patient, checkin_body(nausea=1), **{"If-Match": ", ,"})
    assert refused.status_code == 412
    assert refused.json["errors"] == {"If-Match": ["Lists no entity tag."]}
    assert refused.headers["ETag"] == tag
    assert put(client, patient, checkin_body(nausea=1), **{"If-None-Match": ""}).status_code == 200


def test_the_grammar_allows_spaces_and_empty_list_elements(client, factory):
    # RFC 9110 5.6.1.2: a recipient accepts empty elements in a list.
    patient = factory.patient()
    tag = put(client, patient, checkin_body()).headers["ETag"]
    odd = put(client, patient, checkin_body(nausea=5), **{"If-Match": f' , "x" ,\t, {tag} ,'})
    assert odd.status_code == 200


# --- Conditional GET of a day ----------------------------------------------------------------


def test_a_current_if_none_match_gets_304_with_the_etag_and_no_body(client, factory):
    patient = factory.patient()
    tag = put(client, patient, checkin_body()).headers["ETag"]
    for condition in (tag, f'"other", {tag}', f"W/{tag}", "*"):
        response = get(client, patient, **{"If-None-Match": condition})
        assert response.status_code == 304, condition
        assert response.headers["ETag"] == tag
        assert response.data == b""
        assert response.headers["Cache-Control"] == "no-store"


def test_a_changed_day_is_sent_again(client, factory):
    patient = factory.patient()
    old = put(client, patient, checkin_body()).headers["ETag"]
    new = put(client, patient, checkin_body(nausea=9)).headers["ETag"]
    response = get(client, patient, **{"If-None-Match": old})
    assert response.status_code == 200
    assert response.json["nausea"] == 9
    assert response.headers["ETag"] == new


def test_a_missing_day_is_404_whatever_the_conditions(client, factory):
    patient = factory.patient()
    assert get(client, patient, **{"If-None-Match": "*"}).status_code == 404
    assert get(client, patient, **{"If-Match": '"x"'}).status_code == 404


def test_if_match_on_a_read_serves_only_that_version(client, factory):
    patient = factory.patient()
    tag = put(client, patient, checkin_body()).headers["ETag"]
    assert get(client, patient, **{"If-Match": tag}).status_code == 200
    stale = get(client, patient, **{"If-Match": '"gone"'})
    assert stale.status_code == 412
    assert stale.headers["ETag"] == tag


def test_someone_elses_day_is_404_even_with_a_matching_tag(client, factory):
    alice, bob = factory.patient(), factory.patient()
    tag = put(client, alice, checkin_body()).headers["ETag"]
    assert get(client, bob, **{"If-None-Match": tag}).status_code == 404
    assert get(client, bob, **{"If-None-Match": "*"}).status_code == 404


# --- Status and trends: a strong tag of the body ---------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/status", "/api/v1/trends"])
def test_status_and_trends_answer_304_until_the_log_changes(client, factory, path):
    patient = factory.patient()
    put(client, patient, checkin_body())
    first = get(client, patient, path)
    tag = first.headers["ETag"]
    assert tag.startswith('"') and not tag.startswith("W/")
    # Equal bodies, equal tags: the tag is the body's, not a request's.
    again = get(client, patient, path)
    assert again.headers["ETag"] == tag and again.data == first.data

    unchanged = get(client, patient, path, **{"If-None-Match": tag})
    assert unchanged.status_code == 304
    assert unchanged.headers["ETag"] == tag
    assert unchanged.data == b""

    put(client, patient, checkin_body(nausea=10), day="2026-06-15")
    changed = get(client, patient, path, **{"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != tag
    assert changed.data != first.data


def test_trends_of_another_range_have_another_tag(client, factory):
    patient = factory.patient()
    put(client, patient, checkin_body())
    week = get(client, patient, "/api/v1/trends?from=2026-06-09&to=2026-06-15")
    month = get(client, patient, "/api/v1/trends")
    assert week.headers["ETag"] != month.headers["ETag"]
    response = get(
        client,
        patient,
        "/api/v1/trends?from=2026-06-09&to=2026-06-15",
        **{"If-None-Match": month.headers["ETag"]},
    )
    assert response.status_code == 200
