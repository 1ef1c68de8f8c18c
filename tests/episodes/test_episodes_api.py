"""Withdrawal episodes through HTTP: the rules, one open at a time, and who may see them."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from server.episodes.models import Episode
from server.extensions import db
from tests.factories import PASSWORD

TODAY = date.today()
PATH = "/api/v1/episodes"


def episode_body(**overrides) -> dict:
    """A valid episode: started yesterday, last use the evening before, no medicine."""
    body = {
        "started_on": (TODAY - timedelta(days=1)).isoformat(),
        "last_use_at": datetime.combine(TODAY - timedelta(days=2), datetime.min.time())
        .replace(hour=21, tzinfo=UTC)
        .isoformat(),
        "substances": ["short_acting_opioid"],
        "moud": "none",
    }
    body.update(overrides)
    return body


def start(client, patient, **overrides):
    """POST an episode and return the response."""
    return client.post(PATH, json=episode_body(**overrides), headers=patient.headers)


def errors_of(response) -> set:
    """The fields a 422 names."""
    assert response.status_code == 422, response.json
    assert response.content_type == "application/problem+json"
    return set(response.json["errors"])


def test_an_episode_is_created_read_listed_and_ended(client, factory):
    patient = factory.patient(timezone="UTC")
    created = start(client, patient, substances=["kratom", "other"], moud="buprenorphine")
    assert created.status_code == 201, created.json
    episode = created.json
    assert set(episode) == {
        "id",
        "started_on",
        "last_use_at",
        "substances",
        "moud",
        "moud_started_on",
        "ended_on",
        "created_at",
        "updated_at",
    }
    assert episode["substances"] == ["kratom", "other"]
    assert (episode["moud"], episode["moud_started_on"], episode["ended_on"]) == (
        "buprenorphine",
        None,
        None,
    )
    assert episode["last_use_at"].startswith(f"{TODAY - timedelta(days=2)}T21:00:00")
    one = client.get(f"{PATH}/{episode['id']}", headers=patient.headers)
    assert one.status_code == 200 and one.json == episode
    listed = client.get(PATH, headers=patient.headers)
    assert listed.json["items"] == [episode] and listed.json["total_items"] == 1
    assert "Link" in listed.headers

    ended = client.post(f"{PATH}/{episode['id']}/end", headers=patient.headers)
    assert ended.status_code == 200, ended.json
    assert ended.json["ended_on"] == TODAY.isoformat()
    again = client.post(f"{PATH}/{episode['id']}/end", json={}, headers=patient.headers)
    assert again.status_code == 409
    assert again.content_type == "application/problem+json"


def test_only_one_episode_is_open_at_a_time(client, factory):
    patient = factory.patient()
    first = start(client, patient).json
    second = start(client, patient, started_on=TODAY.isoformat(), last_use_at=None)
    assert second.status_code == 409
    assert "open" in second.json["detail"]
    client.post(
        f"{PATH}/{first['id']}/end",
        json={"ended_on": (TODAY - timedelta(days=1)).isoformat()},
        headers=patient.headers,
    )
    third = start(client, patient, started_on=TODAY.isoformat(), last_use_at=None)
    assert third.status_code == 201
    listed = client.get(PATH, headers=patient.headers).json["items"]
    assert [item["id"] for item in listed] == [third.json["id"], first["id"]]


def test_the_database_holds_one_open_episode_per_patient(app, client, factory):
    """Even a write that skips the service's check (a racing POST) cannot open a second."""
    patient = factory.patient()
    start(client, patient)
    with app.app_context():
        db.session.add(
            Episode(patient_id=patient.id, started_on=TODAY, substances=["kratom"], moud="none")
        )
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_concurrent_posts_open_one_episode(app, client, factory):
    patient = factory.patient()
    answers = []

    def post():
        with app.test_client() as own:
            answers.append(
                own.post(PATH, json=episode_body(), headers=patient.headers).status_code
            )

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [201, 409]
    assert client.get(PATH, headers=patient.headers).json["total_items"] == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"started_on": (TODAY + timedelta(days=2)).isoformat()}, "started_on"),
        ({"started_on": "1999-12-31"}, "started_on"),
        ({"last_use_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}, "last_use_at"),
        (
            {"last_use_at": (datetime.now(UTC) - timedelta(days=40)).isoformat()},
            "last_use_at",
        ),
        ({"last_use_at": "2026-01-01T10:00:00"}, "last_use_at"),  # no UTC offset
        ({"last_use_at": "0001-01-01T00:00:00+01:00"}, "last_use_at"),  # before year 1 in UTC
        ({"last_use_at": "9999-12-31T23:59:00-05:00"}, "last_use_at"),  # after 9999 in UTC
        ({"substances": []}, "substances"),
        ({"substances": ["kratom", "kratom"]}, "substances"),
        ({"substances": ["heroin"]}, "substances"),
        ({"substances": ["methadone"]}, "substances"),  # a medicine, not a substance
        ({"moud": "suboxone"}, "moud"),
        ({"moud": "none", "moud_started_on": TODAY.isoformat()}, "moud_started_on"),
        (
            {"moud": "methadone", "moud_started_on": (TODAY + timedelta(days=3)).isoformat()},
            "moud_started_on",
        ),
        ({"ended_on": TODAY.isoformat()}, "ended_on"),  # only through /end
    ],
)
def test_rules_of_a_new_episode_name_the_field(client, factory, overrides, field):
    patient = factory.patient()
    assert errors_of(start(client, patient, **overrides)) == {field}
    assert client.get(PATH, headers=patient.headers).json["total_items"] == 0


def test_missing_required_fields_are_named(client, factory):
    patient = factory.patient()
    response = client.post(PATH, json={}, headers=patient.headers)
    assert errors_of(response) == {"started_on", "substances", "moud"}


def test_medicine_start_is_kept_with_a_medicine(client, factory):
    patient = factory.patient()
    since = (TODAY - timedelta(days=400)).isoformat()
    response = start(client, patient, moud="methadone", moud_started_on=since, last_use_at=None)
    assert response.status_code == 201, response.json
    assert (response.json["moud_started_on"], response.json["last_use_at"]) == (since, None)


def test_patch_changes_only_what_is_sent_and_keeps_the_rules(client, factory):
    patient = factory.patient()
    episode = start(client, patient, moud="naltrexone", moud_started_on=TODAY.isoformat()).json
    url = f"{PATH}/{episode['id']}"
    patched = client.patch(url, json={"substances": ["kratom"]}, headers=patient.headers)
    assert patched.status_code == 200, patched.json
    assert patched.json == {
        **episode,
        "substances": ["kratom"],
        "updated_at": patched.json["updated_at"],
    }
    # Setting the medicine to none while its start is kept breaks a rule; clearing both is fine.
    assert errors_of(client.patch(url, json={"moud": "none"}, headers=patient.headers)) == {
        "moud_started_on"
    }
    cleared = client.patch(
        url,
        json={"moud": "none", "moud_started_on": None, "last_use_at": None},
        headers=patient.headers,
    )
    assert cleared.status_code == 200
    assert (
        cleared.json["moud"],
        cleared.json["moud_started_on"],
        cleared.json["last_use_at"],
    ) == (
        "none",
        None,
        None,
    )
    for body, field in [
        ({"started_on": None}, "started_on"),
        ({"substances": None}, "substances"),
        ({"moud": None}, "moud"),
        ({"started_on": (TODAY + timedelta(days=2)).isoformat()}, "started_on"),
        ({"ended_on": TODAY.isoformat()}, "ended_on"),
    ]:
        assert errors_of(client.patch(url, json=body, headers=patient.headers)) == {field}
    assert client.get(url, headers=patient.headers).json == cleared.json


def test_an_ended_episode_keeps_its_end_consistent(client, factory):
    patient = factory.patient(timezone="UTC")
    used = datetime.combine(TODAY - timedelta(days=6), datetime.min.time(), tzinfo=UTC)
    episode = start(
        client,
        patient,
        started_on=(TODAY - timedelta(days=5)).isoformat(),
        last_use_at=used.isoformat(),
    ).json
    url = f"{PATH}/{episode['id']}"
    # After today; before the start (though after the day of last use).
    for ended_on in (TODAY + timedelta(days=2), TODAY - timedelta(days=6)):
        response = client.post(
            f"{url}/end", json={"ended_on": ended_on.isoformat()}, headers=patient.headers
        )
        assert errors_of(response) == {"ended_on"}
    ended_on = TODAY - timedelta(days=3)
    response = client.post(
        f"{url}/end", json={"ended_on": ended_on.isoformat()}, headers=patient.headers
    )
    assert response.json["ended_on"] == ended_on.isoformat()
    # A correction may not move the start (or the last use) past the end.
    late = (TODAY - timedelta(days=1)).isoformat()
    assert errors_of(client.patch(url, json={"started_on": late}, headers=patient.headers)) == {
        "started_on"
    }
    late_use = datetime.combine(TODAY - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    body = {"last_use_at": late_use.isoformat()}
    assert errors_of(client.patch(url, json=body, headers=patient.headers)) == {"last_use_at"}


def test_others_episodes_are_404(client, factory):
    owner, other = factory.patient(), factory.patient()
    episode = start(client, owner).json
    url = f"{PATH}/{episode['id']}"
    assert client.get(url, headers=other.headers).status_code == 404
    assert client.patch(url, json={"moud": "methadone"}, headers=other.headers).status_code == 404
    assert client.post(f"{url}/end", headers=other.headers).status_code == 404
    assert client.get(PATH, headers=other.headers).json["items"] == []
    assert (
        client.get(
            f"{PATH}/{'0' * 8}-0000-4000-8000-{'0' * 12}", headers=owner.headers
        ).status_code
        == 404
    )
    assert client.get(url, headers=owner.headers).json == episode


def test_counselors_have_no_episode_routes_of_their_own(client, factory):
    counselor = factory.counselor()
    assert client.get(PATH, headers=counselor.headers).status_code == 403
    assert start(client, counselor).status_code == 403


def _access_log(client, patient) -> list:
    return client.get("/api/v1/me/access-log?page_size=100", headers=patient.headers).json["items"]


def test_counselors_see_episodes_only_with_the_checkins_scope(client, factory):
    patient, counselor, stranger = factory.patient(), factory.counselor(), factory.counselor()
    episode = start(client, patient).json
    path = f"/api/v1/patients/{patient.id}/episodes"
    factory.share(patient, stranger, scope=["trends", "status", "export"])
    assert client.get(path, headers=stranger.headers).status_code == 404
    assert client.get(path, headers=factory.counselor().headers).status_code == 404
    assert client.get(path, headers=patient.headers).status_code == 403
    assert _access_log(client, patient)[0]["action"] == "share_created"

    share = factory.share(patient, counselor, scope=["checkins"])
    response = client.get(path, headers=counselor.headers)
    assert response.status_code == 200
    assert response.json["items"] == [episode]
    latest = _access_log(client, patient)[0]
    assert latest["action"] == "episodes_viewed"
    assert latest["detail"] == {"share_id": share["id"], "page": 1}

    client.delete(f"/api/v1/shares/{share['id']}", headers=patient.headers)
    assert client.get(path, headers=counselor.headers).status_code == 404


def test_episodes_and_taken_go_with_the_account(app, client, factory):
    patient, survivor = factory.patient(), factory.patient()
    start(client, patient)
    start(client, survivor)
    factory.checkin(patient, TODAY, taken=[{"substance": "kratom", "amount": "a little"}])
    response = client.delete("/api/v1/me", json={"password": PASSWORD}, headers=patient.headers)
    assert response.status_code == 204
    with app.app_context():
        left = db.session.execute(text("SELECT COUNT(*) FROM episodes")).scalar()
        taken = db.session.execute(
            text("SELECT COUNT(*) FROM checkins WHERE taken IS NOT NULL")
        ).scalar()
    assert (left, taken) == (1, 0)
    assert client.get(PATH, headers=survivor.headers).json["total_items"] == 1
