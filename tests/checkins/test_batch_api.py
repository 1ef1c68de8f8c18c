"""POST /checkins/batch: a phone back online sends the days it queued."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from tests.factories import checkin_body

FIXED_NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
TODAY = date(2026, 6, 15)
BATCH = "/api/v1/checkins/batch"


@pytest.fixture(autouse=True)
def fixed_clock():
    with time_machine.travel(FIXED_NOW, tick=True):
        yield


def day(n: int) -> str:
    """The day n days before today."""
    return (TODAY - timedelta(days=n)).isoformat()


def item(n: int, **fields) -> dict:
    return {"date": day(n), **checkin_body(), **fields}


def send(client, person, items):
    return client.post(BATCH, json={"items": items}, headers=person.headers)


def statuses(response) -> list[int]:
    assert response.status_code == 200, response.json
    return [result["status"] for result in response.json["items"]]


def stored(client, person, n):
    return client.get(f"/api/v1/checkins/{day(n)}", headers=person.headers)


def all_days(client, person) -> dict:
    listing = client.get(
        "/api/v1/checkins?from=2026-01-01&page_size=100", headers=person.headers
    ).json
    return {entry["date"]: entry for entry in listing["items"]}


def test_a_batch_creates_each_day_and_answers_in_request_order(client, factory):
    patient = factory.patient()
    items = [item(0, nausea=1), item(3, nausea=2), item(1, nausea=3)]
    response = send(client, patient, items)
    assert statuses(response) == [201, 201, 201]
    results = response.json["items"]
    assert [result["date"] for result in results] == [day(0), day(3), day(1)]
    for n, result in zip((0, 3, 1), results, strict=True):
        got = stored(client, patient, n)
        assert got.headers["ETag"] == result["etag"]
        assert result["checkin"]["nausea"] == got.json["nausea"]
        assert result["checkin"]["assessment"]["level"]
        assert "problem" not in result


def test_a_retried_batch_changes_nothing_and_answers_the_same(client, factory):
    patient = factory.patient()
    items = [item(n, aches=n % 10) for n in range(5)]
    first = send(client, patient, items)
    before = all_days(client, patient)
    cursor = client.get("/api/v1/checkins/changes", headers=patient.headers).json
    retry = send(client, patient, items)
    assert statuses(retry) == [200] * 5
    for a, b in zip(first.json["items"], retry.json["items"], strict=True):
        assert (a["date"], a["etag"]) == (b["date"], b["etag"])
        assert a["checkin"] == b["checkin"]
    assert all_days(client, patient) == before
    # Nothing was written: the changes feed did not move.
    after = client.get("/api/v1/checkins/changes", headers=patient.headers).json
    assert after == cursor


def test_a_bad_day_is_refused_on_its_own(client, factory):
    patient = factory.patient()
    factory.checkin(patient, TODAY - timedelta(days=2))
    response = send(
        client,
        patient,
        [
            item(0),
            item(1, nausea=11),
            {"date": "2026-06-16", **checkin_body()},  # tomorrow
            item(2, if_none_match="*", nausea=9),  # exists already
            {"date": "2026-6-1", **checkin_body()},
            item(4, if_match="5d41402a"),  # unquoted
            item(5, patient_id="someone-else"),
            "not a day",
            {**checkin_body()},
            item(6),
        ],
    )
    assert statuses(response) == [201, 422, 422, 412, 422, 422, 422, 422, 422, 201]
    results = response.json["items"]
    expected_errors = {
        1: {"nausea": ["Must be greater than or equal to 0 and less than or equal to 10."]},
        2: {"date": ["Must not be after today in your time zone."]},
        4: {"date": ["Must be a calendar date in YYYY-MM-DD form."]},
        5: {
            "if_match": [
                'Must be * or a comma-separated list of quoted entity tags, e.g. "5d41402a".'
            ]
        },
        6: {"patient_id": ["Unknown field."]},
        7: {"item": ["Must be an object of a day's fields."]},
        8: {"date": ["Missing data for required field."]},
    }
    for index, errors in expected_errors.items():
        problem = results[index]["problem"]
        assert problem["status"] == 422
        assert problem["type"] == "urn:steady:problem:validation-error"
        assert problem["errors"] == errors, index
        assert results[index]["etag"] is None
        assert "checkin" not in results[index]
    assert [results[i]["date"] for i in (2, 4, 7, 8)] == ["2026-06-16", "2026-6-1", None, None]
    exists = results[3]
    assert exists["problem"]["status"] == 412
    assert exists["problem"]["errors"] == {
        "if_none_match": ["A check-in for this day exists already."]
    }
    assert exists["etag"] == stored(client, patient, 2).headers["ETag"]
    assert stored(client, patient, 2).json["nausea"] == checkin_body()["nausea"]
    assert set(all_days(client, patient)) == {day(0), day(2), day(6)}


def test_conditions_work_per_item_as_on_put(client, factory):
    patient = factory.patient()
    old = factory.checkin(patient, TODAY).headers["ETag"]
    new = factory.checkin(patient, TODAY, nausea=8).headers["ETag"]
    response = send(
        client,
        patient,
        [
            item(0, nausea=1, if_match=old),  # stale
            item(1, if_match="*"),  # missing
            item(2, if_none_match="*"),  # create only: created
        ],
    )
    assert statuses(response) == [412, 412, 201]
    stale, missing, _created = response.json["items"]
    assert "changed since" in stale["problem"]["detail"]
    assert stale["etag"] == new
    assert missing["problem"]["detail"].startswith("There is no check-in for this day yet")
    assert missing["etag"] is None
    matched = send(client, patient, [item(0, nausea=1, if_match=new)])
    assert statuses(matched) == [200]
    assert stored(client, patient, 0).json["nausea"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([item(0)], "body"),
        ({}, "items"),
        ({"items": []}, "items"),
        ({"items": {"date": day(0)}}, "items"),
        ({"items": [item(n % 300) for n in range(61)]}, "items"),
        ({"items": [item(0)], "extra": 1}, "extra"),
    ],
)
def test_a_badly_shaped_batch_is_refused_whole(client, factory, body, field):
    patient = factory.patient()
    response = client.post(BATCH, json=body, headers=patient.headers)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert field in response.json["errors"], response.json
    assert all_days(client, patient) == {}


def test_a_batch_naming_a_day_twice_is_refused_whole(client, factory):
    patient = factory.patient()
    response = send(client, patient, [item(0), item(1), item(0, nausea=9, aches=99)])
    assert response.status_code == 422
    assert response.json["errors"] == {
        "items": [f"Each date may appear once; {day(0)} is at items 0 and 2."]
    }
    assert all_days(client, patient) == {}


def test_sixty_days_with_the_longest_notes_fit(client, factory):
    patient = factory.patient()
    items = [item(n, note="é" * 2000) for n in range(60)]
    response = send(client, patient, items)
    assert statuses(response) == [201] * 60
    assert len(all_days(client, patient)) == 60
    # A single PUT keeps the usual body limit.
    huge = client.put(
        f"/api/v1/checkins/{day(0)}",
        data=b'{"note": "' + b"x" * 70_000 + b'"}',
        headers={**patient.headers, "Content-Type": "application/json"},
    )
    assert huge.status_code == 413


def test_a_batch_over_its_body_limit_is_413_stating_it(app_factory):
    app = app_factory(CHECKIN_BATCH_MAX_BYTES=100_000)
    client = app.test_client()
    from tests.factories import Factory

    patient = Factory(app, client).patient()
    items = [item(n, note="x" * 2000) for n in range(60)]
    response = send(client, patient, items)
    assert response.status_code == 413
    assert "100000 bytes" in response.json["detail"]


def test_days_are_judged_as_if_the_phone_had_been_online(client, factory):
    """Sent newest first, each day is still judged with the days before it in place."""
    batched, online = factory.patient(), factory.patient()
    history = [{"used_opioids": False}] * 7 + [{"used_opioids": True, "nausea": 9}]
    items = [item(7 - n, **fields) for n, fields in enumerate(history)]
    response = send(client, batched, list(reversed(items)))
    assert statuses(response) == [201] * 8
    by_date = {r["date"]: r["checkin"]["assessment"] for r in response.json["items"]}
    for one in items:
        put = client.put(
            f"/api/v1/checkins/{one['date']}",
            json={k: v for k, v in one.items() if k != "date"},
            headers=online.headers,
        )
        assert put.json["assessment"] == by_date[one["date"]], one["date"]
    assert by_date[day(0)]["level"] != "stable"


def test_an_alarming_day_in_a_batch_alerts_the_counselor(client, factory):
    patient, counselor = factory.patient(), factory.counselor()
    factory.share(patient, counselor)
    response = send(client, patient, [item(1), item(0, crisis=True)])
    assert statuses(response) == [201, 201]
    alerts = client.get("/api/v1/alerts", headers=counselor.headers).json["items"]
    assert [(alert["level"], alert["checkin_date"]) for alert in alerts] == [("crisis", day(0))]


def test_each_day_is_its_own_short_transaction(app, client, factory):
    from sqlalchemy import event

    from server.extensions import db

    patient = factory.patient()
    commits = []

    def on_commit(connection):
        commits.append(connection)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "commit", on_commit)
    try:
        response = send(client, patient, [item(n) for n in range(4)])
    finally:
        event.remove(engine, "commit", on_commit)
    assert statuses(response) == [201] * 4
    # One commit per day: the write lock (SQLite) is let go between days.
    assert len(commits) == 4


def test_the_batch_has_its_own_rate_limit_per_patient(app_factory):
    from tests.factories import Factory

    app = app_factory(CHECKIN_BATCH_LIMIT_PER_USER="2 per minute")
    client = app.test_client()
    factory = Factory(app, client)
    patient, other = factory.patient(), factory.patient()
    assert send(client, patient, [item(0)]).status_code == 200
    assert send(client, patient, [item(0)]).status_code == 200
    limited = send(client, patient, [item(1)])
    assert limited.status_code == 429
    assert limited.content_type == "application/problem+json"
    assert "Retry-After" in limited.headers
    assert send(client, other, [item(0)]).status_code == 200  # per patient, not global
    # Single PUTs are not counted against it.
    assert (
        client.put(
            f"/api/v1/checkins/{day(2)}", json=checkin_body(), headers=patient.headers
        ).status_code
        == 201
    )


def test_counselors_get_403_and_anonymous_401(client, factory):
    counselor = factory.counselor()
    assert send(client, counselor, [item(0)]).status_code == 403
    assert client.post(BATCH, json={"items": [item(0)]}).status_code == 401


def test_a_batch_writes_only_the_senders_days(client, factory):
    alice, bob = factory.patient(), factory.patient()
    factory.checkin(alice, TODAY, note="alice's")
    response = send(client, bob, [item(0, if_none_match="*", note="bob's")])
    assert statuses(response) == [201]  # Bob's own day: Alice's does not exist for him
    assert stored(client, alice, 0).json["note"] == "alice's"
