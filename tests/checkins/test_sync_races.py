"""Sync requests racing other writes on the real database (SQLite file or PostgreSQL)."""

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from server.checkins import service as checkins_service
from server.extensions import db
from tests.factories import PASSWORD

RACERS = 8


def _body(nausea: int) -> dict:
    return {"nausea": nausea, "aches": 1, "anxiety": 1, "insomnia": 1}


def _dialect(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


def _meanwhile(request):
    """Run another client's request to completion on its own thread (its own session)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(request).result()


def test_deleting_an_account_while_its_phone_syncs_never_fails(app, factory):
    """DELETE /me racing batches and deletions of days: clean answers, nothing left."""
    patients = [factory.patient() for _ in range(RACERS)]
    today = date.today()

    def sync(patient) -> list[int]:
        client = app.test_client()
        items = [{"date": str(today - timedelta(days=n)), **_body(n)} for n in range(6)]
        statuses = [
            client.post(
                "/api/v1/checkins/batch", json={"items": items}, headers=patient.headers
            ).status_code
        ]
        for n in range(3):
            statuses.append(
                client.delete(
                    f"/api/v1/checkins/{today - timedelta(days=n)}", headers=patient.headers
                ).status_code
            )
        statuses.append(
            client.get("/api/v1/checkins/changes", headers=patient.headers).status_code
        )
        return statuses

    def delete_account(patient) -> int:
        return (
            app.test_client()
            .delete("/api/v1/me", json={"password": PASSWORD}, headers=patient.headers)
            .status_code
        )

    with ThreadPoolExecutor(2 * RACERS) as pool:
        syncs = [pool.submit(sync, patient) for patient in patients]
        deletes = [pool.submit(delete_account, patient) for patient in patients]
        sync_statuses = {status for future in syncs for status in future.result()}
        delete_statuses = [future.result() for future in deletes]

    assert set(delete_statuses) == {204}, delete_statuses
    # Before the deletion a request lands (a deletion may find its day gone: 404); after
    # it, the sign-in has ended. Never a 5xx or 409.
    assert sync_statuses <= {200, 204, 401, 404}, sync_statuses
    with app.app_context():
        for table in ("checkins", "checkin_feeds", "checkin_tombstones"):
            left = db.session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar()
            assert left == 0, (table, left)


def test_a_create_only_put_losing_to_another_phone_is_412(app, factory, monkeypatch):
    """PostgreSQL: another phone creates the day between our read and our insert."""
    if _dialect(app) != "postgresql":
        pytest.skip("SQLite serialises the two PUTs through its write lock")
    patient = factory.patient()
    day = date.today()
    real_write = checkins_service._write
    raced = []

    def write_after_another_phone(*args, **kwargs):
        if not raced:
            raced.append("racing")  # the other phone's own write goes straight through
            other = _meanwhile(
                lambda: app.test_client().put(
                    f"/api/v1/checkins/{day}", json=_body(9), headers=patient.headers
                )
            )
            raced.append(other.status_code)
        return real_write(*args, **kwargs)

    monkeypatch.setattr(checkins_service, "_write", write_after_another_phone)
    ours = app.test_client().put(
        f"/api/v1/checkins/{day}",
        json=_body(1),
        headers={**patient.headers, "If-None-Match": "*"},
    )
    assert raced == ["racing", 201]
    assert ours.status_code == 412
    assert ours.json["errors"] == {"If-None-Match": ["A check-in for this day exists already."]}
    stored = app.test_client().get(f"/api/v1/checkins/{day}", headers=patient.headers)
    assert stored.json["nausea"] == 9


def test_a_conditional_put_losing_to_a_deletion_is_412(app, factory, monkeypatch):
    """PostgreSQL: another phone deletes the day between our read and our update."""
    if _dialect(app) != "postgresql":
        pytest.skip("SQLite serialises the two writes through its write lock")
    patient = factory.patient()
    day = date.today()
    tag = factory.checkin(patient, day).headers["ETag"]
    real_write = checkins_service._write
    raced = []

    def write_after_a_deletion(*args, **kwargs):
        if not raced:
            raced.append("racing")
            gone = _meanwhile(
                lambda: app.test_client().delete(
                    f"/api/v1/checkins/{day}", headers=patient.headers
                )
            )
            raced.append(gone.status_code)
        return real_write(*args, **kwargs)

    monkeypatch.setattr(checkins_service, "_write", write_after_a_deletion)
    ours = app.test_client().put(
        f"/api/v1/checkins/{day}", json=_body(5), headers={**patient.headers, "If-Match": tag}
    )
    assert raced == ["racing", 204]
    assert ours.status_code == 412
    assert (
        app.test_client().get(f"/api/v1/checkins/{day}", headers=patient.headers).status_code
        == 404
    )
    # The feed has the deletion and nothing of the refused PUT.
    feed = app.test_client().get("/api/v1/checkins/changes", headers=patient.headers).json
    assert feed["items"] == [{"date": str(day), "deleted": True}]
