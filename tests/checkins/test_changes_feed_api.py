"""GET /checkins/changes: a second device follows what the first one wrote."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.checkins.feed import encode_cursor
from tests.factories import checkin_body

FIXED_NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
TODAY = date(2026, 6, 15)
CHANGES = "/api/v1/checkins/changes"


@pytest.fixture(autouse=True)
def fixed_clock():
    with time_machine.travel(FIXED_NOW, tick=True):
        yield


def day(n: int) -> str:
    return (TODAY - timedelta(days=n)).isoformat()


def put(client, person, n, **fields):
    response = client.put(
        f"/api/v1/checkins/{day(n)}", json=checkin_body(**fields), headers=person.headers
    )
    assert response.status_code in (200, 201), response.json
    return response


def delete(client, person, n):
    response = client.delete(f"/api/v1/checkins/{day(n)}", headers=person.headers)
    assert response.status_code == 204
    return response


def changes(client, person, since=None, limit=None):
    query = {key: value for key, value in (("since", since), ("limit", limit)) if value}
    return client.get(CHANGES, query_string=query, headers=person.headers)


def pull(client, person, since=None, limit=None) -> tuple[list[dict], str]:
    """Every change after `since`, page by page, and the cursor to keep."""
    items = []
    while True:
        page = changes(client, person, since, limit)
        assert page.status_code == 200, page.json
        items += page.json["items"]
        since = page.json["next_cursor"]
        if not page.json["has_more"]:
            return items, since


def apply(state: dict, items: list[dict]) -> dict:
    """What a device's copy becomes after the changes (date -> (etag, check-in))."""
    state = dict(state)
    for change in items:
        if change["deleted"]:
            state.pop(change["date"], None)
        else:
            state[change["date"]] = (change["etag"], change["checkin"])
    return state


def server_state(client, person) -> dict:
    """The patient's days as the server has them, with their ETags."""
    listing = client.get(
        "/api/v1/checkins?from=2000-01-01&page_size=100", headers=person.headers
    ).json
    state = {}
    for entry in listing["items"]:
        got = client.get(f"/api/v1/checkins/{entry['date']}", headers=person.headers)
        state[entry["date"]] = (got.headers["ETag"], entry)
    return state


def test_an_empty_feed(client, factory):
    patient = factory.patient()
    response = changes(client, patient)
    assert response.status_code == 200
    assert response.json["items"] == []
    assert response.json["has_more"] is False
    # Following on from there finds nothing either, and keeps the same place.
    again = changes(client, patient, since=response.json["next_cursor"])
    assert again.json == response.json


def test_the_feed_lists_days_in_the_order_they_were_written(client, factory):
    patient = factory.patient()
    put(client, patient, 3)
    put(client, patient, 1, nausea=8)
    put(client, patient, 2)
    put(client, patient, 3, nausea=9)  # replaced: moves to the end
    delete(client, patient, 2)  # deleted: a tombstone
    items = changes(client, patient).json["items"]
    assert [(item["date"], item["deleted"]) for item in items] == [
        (day(1), False),
        (day(3), False),
        (day(2), True),
    ]
    assert items[2] == {"date": day(2), "deleted": True}
    live = items[1]
    got = client.get(f"/api/v1/checkins/{day(3)}", headers=patient.headers)
    assert live["etag"] == got.headers["ETag"]
    assert live["checkin"] == got.json


def test_a_cursor_gives_only_what_changed_after_it(client, factory):
    patient = factory.patient()
    put(client, patient, 1)
    put(client, patient, 2)
    _seen, cursor = pull(client, patient)
    assert changes(client, patient, since=cursor).json["items"] == []
    put(client, patient, 2, nausea=0)
    put(client, patient, 0)
    delete(client, patient, 1)
    items, _next = pull(client, patient, since=cursor)
    assert [(item["date"], item["deleted"]) for item in items] == [
        (day(2), False),
        (day(0), False),
        (day(1), True),
    ]


def test_pages_chain_through_every_change_once(client, factory):
    patient = factory.patient()
    for n in range(7):
        put(client, patient, n)
    first = changes(client, patient, limit=3).json
    assert len(first["items"]) == 3 and first["has_more"] is True
    items, _cursor = pull(client, patient, limit=3)
    assert [item["date"] for item in items] == [day(n) for n in range(7)]


def test_a_day_written_again_after_its_deletion_is_no_tombstone(client, factory):
    patient = factory.patient()
    put(client, patient, 1)
    _seen, cursor = pull(client, patient)
    delete(client, patient, 1)
    put(client, patient, 1, nausea=6)
    items, _next = pull(client, patient, since=cursor)
    assert [(item["date"], item["deleted"]) for item in items] == [(day(1), False)]
    assert items[0]["checkin"]["nausea"] == 6


def test_a_patient_follows_only_their_own_feed(client, factory):
    alice, bob = factory.patient(), factory.patient()
    put(client, alice, 1, note="alice's")
    delete(client, alice, 1)
    put(client, alice, 2)
    assert changes(client, bob).json["items"] == []


# Junk, empty, too long, another version, version 0, a number past the 32-bit column.
@pytest.mark.parametrize(
    "since", ["junk", "", "AQAAAAAAAAABx", "AgAAAAAAAAAB", "A" * 12, "AQAAAAGAAAAA"]
)
def test_a_cursor_this_server_never_gave_is_422(client, factory, since):
    patient = factory.patient()
    response = client.get(CHANGES, query_string={"since": since}, headers=patient.headers)
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["since"]


@pytest.mark.parametrize("limit", ["0", "501", "ten"])
def test_a_bad_limit_is_422(client, factory, limit):
    patient = factory.patient()
    response = client.get(CHANGES, query_string={"limit": limit}, headers=patient.headers)
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["limit"]


def test_a_cursor_from_another_account_must_resync(client, factory):
    busy, new = factory.patient(), factory.patient()
    for n in range(3):
        put(client, busy, n)
    _items, cursor = pull(client, busy)
    response = changes(client, new, since=cursor)
    assert response.status_code == 410
    assert response.json["type"] == "urn:steady:problem:resync-required"
    assert response.json["cursor"] == encode_cursor(0)


def test_counselors_get_403_and_anonymous_401(client, factory):
    counselor = factory.counselor()
    assert changes(client, counselor).status_code == 403
    assert client.get(CHANGES).status_code == 401


# --- Tombstones are kept 90 days; older cursors resync --------------------------------------


def prune(app) -> str:
    result = app.test_cli_runner().invoke(args=["prune-tombstones"])
    assert result.exit_code == 0, result.output
    return result.output


def test_tombstones_outlive_90_days_then_an_older_cursor_gets_410(app, client, factory):
    patient = factory.patient()
    put(client, patient, 1)
    put(client, patient, 2)
    _items, before_deletion = pull(client, patient)
    delete(client, patient, 1)
    _items, after_deletion = pull(client, patient)

    with time_machine.travel(FIXED_NOW + timedelta(days=89), tick=True):
        factory.relogin(patient)
        assert prune(app).startswith("0 tombstones forgotten")
        kept, _cursor = pull(client, patient, since=before_deletion)
        assert kept == [{"date": day(1), "deleted": True}]

    with time_machine.travel(FIXED_NOW + timedelta(days=91), tick=True):
        factory.relogin(patient)
        assert prune(app).startswith("1 tombstones forgotten")
        gone = changes(client, patient, since=before_deletion)
        assert gone.status_code == 410
        assert gone.content_type == "application/problem+json"
        assert "GET /api/v1/checkins" in gone.json["detail"]
        # The cursor to follow on from once the device has fetched every day again.
        resync_from = gone.json["cursor"]
        assert changes(client, patient, since=resync_from).json["items"] == []
        # A device that had seen the deletion carries on; a new one sees the live day.
        assert changes(client, patient, since=after_deletion).json["items"] == []
        fresh, _cursor = pull(client, patient)
        assert [item["date"] for item in fresh] == [day(2)]


def test_pruning_forgets_superseded_tombstones_at_once_and_moves_no_cursor(app, client, factory):
    patient = factory.patient()
    put(client, patient, 1)
    _items, cursor = pull(client, patient)
    delete(client, patient, 1)
    put(client, patient, 1, nausea=2)  # the tombstone is superseded
    assert prune(app).startswith("1 tombstones forgotten")
    items, _next = pull(client, patient, since=cursor)
    assert [(item["date"], item["deleted"]) for item in items] == [(day(1), False)]


# --- Replaying the feed always reaches the server's state ----------------------------------

OPERATIONS = st.lists(
    st.tuples(st.sampled_from(["put", "delete"]), st.integers(0, 3), st.integers(0, 10)),
    min_size=1,
    max_size=10,
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=OPERATIONS, limit=st.integers(1, 4))
def test_replaying_the_feed_from_any_cursor_reaches_the_servers_state(
    client, factory, operations, limit
):
    patient = factory.patient()
    # What a device would hold at each cursor: the server's state when it got the cursor.
    _items, cursor = pull(client, patient)
    checkpoints = [(cursor, {})]
    for action, n, score in operations:
        path = f"/api/v1/checkins/{day(n)}"
        if action == "put":
            client.put(path, json=checkin_body(nausea=score), headers=patient.headers)
        else:
            client.delete(path, headers=patient.headers)  # 404 if missing: no change
        _items, cursor = pull(client, patient)
        checkpoints.append((cursor, server_state(client, patient)))
    final = server_state(client, patient)
    for cursor, held in checkpoints:
        items, _next = pull(client, patient, since=cursor, limit=limit)
        replayed = apply(held, items)
        assert {d: tag for d, (tag, _) in replayed.items()} == {
            d: tag for d, (tag, _) in final.items()
        }
    from_scratch, _next = pull(client, patient, limit=limit)
    assert apply({}, from_scratch).keys() == final.keys()


def test_a_follower_misses_nothing_while_phones_write_at_once(app, factory):
    """Writers race each other; a device polling meanwhile ends up with the same days."""
    patient = factory.patient()
    stop = threading.Event()

    def write(worker: int):
        client = app.test_client()
        for n in range(15):
            days = (worker * 3 + n) % 12
            if n % 4 == 3:
                client.delete(f"/api/v1/checkins/{day(days)}", headers=patient.headers)
            else:
                client.put(
                    f"/api/v1/checkins/{day(days)}",
                    json=checkin_body(nausea=n % 11),
                    headers=patient.headers,
                )

    def follow():
        client = app.test_client()
        state, cursor = {}, None
        while not stop.is_set():
            items, cursor = pull(client, patient, since=cursor, limit=2)
            state = apply(state, items)
        items, cursor = pull(client, patient, since=cursor, limit=2)
        return apply(state, items)

    with ThreadPoolExecutor(5) as pool:
        follower = pool.submit(follow)
        writers = [pool.submit(write, worker) for worker in range(4)]
        for writer in writers:
            writer.result()
        stop.set()
        followed = follower.result()
    client = app.test_client()
    final = server_state(client, patient)
    assert {d: tag for d, (tag, _) in followed.items()} == {
        d: tag for d, (tag, _) in final.items()
    }
