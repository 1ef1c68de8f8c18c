"""Who may do what to whose data: every actor against every data endpoint and method."""

from datetime import date, timedelta

import pytest
import time_machine

from server.instruments.definitions import COWS
from server.vocabulary import SCOPES

CANARY_NOTE = "canary-note-7f3a"
START = date.today()
LATER = START + timedelta(days=3)  # after the short share has expired


@pytest.fixture
def world(client, factory):
    """Patient A shares in several ways; then the clock moves past the short share's end."""
    a, b = factory.patient(), factory.patient()
    factory.log(a, START, [{}, {"vomiting": 8}, {"note": CANARY_NOTE, "anxiety": 9}])
    factory.log(b, START, [{"note": "b's own note"}])
    actors = {
        "active": factory.counselor(),
        "expired": factory.counselor(),
        "revoked": factory.counselor(),
        "no_scope": factory.counselor(),
        "other_counselor": factory.counselor(),
    }
    factory.share(a, actors["active"], include_notes=True, scope=SCOPES)
    factory.share(a, actors["expired"], days=1, include_notes=True, scope=SCOPES)
    revoked = factory.share(a, actors["revoked"], include_notes=True, scope=SCOPES)
    client.delete(f"/api/v1/shares/{revoked['id']}", headers=a.headers)
    factory.share(a, actors["no_scope"], scope=["checkins"], include_notes=True)
    factory.share(b, actors["other_counselor"])
    with time_machine.travel(LATER):
        for person in (a, b, *actors.values()):
            factory.relogin(person)
        yield {"a": a, "b": b, **actors}


def counselor_view(path):
    return {
        "a": 403,
        "b": 403,
        "active": 200,
        "expired": 404,
        "revoked": 404,
        "other_counselor": 404,
        "anonymous": 401,
        "no_scope": 200 if SCOPE_OF[path] == "checkins" else 404,
    }


OWN_PATIENT_ROUTES = [
    "/api/v1/checkins",
    "/api/v1/trends",
    "/api/v1/trends/chart",
    "/api/v1/status",
    "/api/v1/me/access-log",
    "/api/v1/export",
    "/api/v1/instruments/sows-gossop-10/responses",
    "/api/v1/observations",
]
# Each counselor view of a patient and the scope it needs (no_scope shares only check-ins).
SCOPE_OF = {
    "/checkins": "checkins",
    "/trends": "trends",
    "/trends/chart": "trends",
    "/status": "status",
    "/export": "export",
    "/instruments/sows-gossop-10/responses": "checkins",
    "/observations": "assess",
}
COUNSELOR_ROUTES = list(SCOPE_OF)
ACTORS = ["a", "b", "active", "expired", "revoked", "no_scope", "other_counselor", "anonymous"]


def request(client, world, actor, method, path):
    headers = {} if actor == "anonymous" else world[actor].headers
    return client.open(path, method=method, headers=headers)


@pytest.mark.authz
@pytest.mark.parametrize("suffix", COUNSELOR_ROUTES)
def test_counselor_views_of_patient_a(client, world, suffix):
    path = f"/api/v1/patients/{world['a'].id}{suffix}"
    for actor, expected in counselor_view(suffix).items():
        response = request(client, world, actor, "GET", path)
        assert response.status_code == expected, (actor, path, response.get_data(as_text=True))
        if expected != 200:
            assert response.content_type == "application/problem+json"
            assert CANARY_NOTE not in response.get_data(as_text=True)


@pytest.mark.authz
@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE", "PATCH"])
@pytest.mark.parametrize("suffix", COUNSELOR_ROUTES)
def test_counselor_views_are_read_only(client, world, method, suffix):
    path = f"/api/v1/patients/{world['a'].id}{suffix}"
    for actor in ACTORS:
        assert request(client, world, actor, method, path).status_code == 405


@pytest.mark.authz
def test_only_a_running_share_with_assess_records_an_observation(client, world):
    path = f"/api/v1/patients/{world['a'].id}/observations/cows-11"
    body = {"items": dict.fromkeys(COWS.item_ids, 0), "observed_at": f"{LATER}T00:00:00Z"}
    expected = {**counselor_view("/observations"), "active": 201}
    for actor, status in expected.items():
        headers = {} if actor == "anonymous" else world[actor].headers
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == status, (actor, response.get_data(as_text=True))
    mine = client.get("/api/v1/observations", headers=world["a"].headers).json["items"]
    assert [item["observer"]["id"] for item in mine] == [world["active"].id]
    assert client.get("/api/v1/observations", headers=world["b"].headers).json["items"] == []


@pytest.mark.authz
def test_a_patient_id_that_does_not_exist_is_404_like_any_other(client, world):
    ghost = "00000000-0000-4000-8000-000000000000"
    for suffix in COUNSELOR_ROUTES:
        response = request(client, world, "active", "GET", f"/api/v1/patients/{ghost}{suffix}")
        assert response.status_code == 404


@pytest.mark.authz
@pytest.mark.parametrize("path", OWN_PATIENT_ROUTES)
def test_own_routes_are_for_patients_only(client, world, path):
    for actor in ACTORS:
        response = request(client, world, actor, "GET", path)
        expected = 200 if actor in ("a", "b") else 401 if actor == "anonymous" else 403
        assert response.status_code == expected, (actor, path)
    # Each patient sees only their own.
    assert CANARY_NOTE.encode() not in request(client, world, "b", "GET", path).get_data()


@pytest.mark.authz
def test_patient_list_shows_only_active_sharers(client, world):
    for actor in ("active", "no_scope"):
        rows = request(client, world, actor, "GET", "/api/v1/patients").json["items"]
        assert [row["id"] for row in rows] == [world["a"].id]
    for actor in ("expired", "revoked"):
        assert request(client, world, actor, "GET", "/api/v1/patients").json["items"] == []
    rows = request(client, world, "other_counselor", "GET", "/api/v1/patients").json["items"]
    assert [row["id"] for row in rows] == [world["b"].id]
    for actor, expected in (("a", 403), ("anonymous", 401)):
        assert request(client, world, actor, "GET", "/api/v1/patients").status_code == expected


@pytest.mark.authz
def test_alert_and_share_routes_by_role(client, world):
    for actor in ACTORS:
        alerts = request(client, world, actor, "GET", "/api/v1/alerts").status_code
        shares = request(client, world, actor, "GET", "/api/v1/shares").status_code
        if actor == "anonymous":
            assert (alerts, shares) == (401, 401)
        elif actor in ("a", "b"):
            assert (alerts, shares) == (403, 200)
        else:
            assert (alerts, shares) == (200, 200)


@pytest.mark.authz
def test_notes_follow_the_share(client, world, factory):
    path = f"/api/v1/patients/{world['a'].id}/checkins"
    with_notes = request(client, world, "active", "GET", path).json["items"]
    assert [item.get("note") for item in with_notes][-1] == CANARY_NOTE
    # The same data through a share without notes.
    counselor = factory.counselor()
    factory.share(world["a"], counselor, include_notes=False)
    without = client.get(path, headers=counselor.headers).json["items"]
    assert len(without) == 3
    assert all("note" not in item for item in without)
