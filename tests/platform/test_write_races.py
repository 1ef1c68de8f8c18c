"""Writes racing each other on the real database (SQLite file or PostgreSQL)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from server.alerts import service as alerts_service
from server.auth import service as auth_service
from server.checkins import service as checkins_service
from server.extensions import db
from tests.factories import PASSWORD

NEW_PASSWORD = "brand new secret 123"

PAIRS = 100
RACERS = 12


def _body(nausea: int) -> dict:
    return {"nausea": nausea, "aches": 1, "anxiety": 1, "insomnia": 1}


def test_unconditional_puts_of_the_same_day_never_answer_412(app, factory):
    """Two phones saving the same day at once: both land in turn, neither is refused."""
    patient = factory.patient()
    start = date.today() - timedelta(days=PAIRS)

    def put(day: date, nausea: int, barrier: threading.Barrier):
        client = app.test_client()
        barrier.wait()
        response = client.put(
            f"/api/v1/checkins/{day}", json=_body(nausea), headers=patient.headers
        )
        return response.status_code, response.json

    # Odd days exist already (both phones replace it), even days don't (both create it).
    existing = {start + timedelta(days=n) for n in range(1, PAIRS, 2)}
    for day in existing:
        factory.checkin(patient, day, nausea=0)

    outcomes = []
    with ThreadPoolExecutor(2) as pool:
        for n in range(PAIRS):
            day, barrier = start + timedelta(days=n), threading.Barrier(2)
            pair = [pool.submit(put, day, nausea, barrier) for nausea in (3, 7)]
            outcomes.append((day, [future.result() for future in pair]))

    for day, pair in outcomes:
        statuses = sorted(status for status, _body in pair)
        assert statuses == ([200, 200] if day in existing else [200, 201]), (day, pair)
        stored = app.test_client().get(f"/api/v1/checkins/{day}", headers=patient.headers)
        # The last write wins and is one of the two, whole.
        assert stored.json["nausea"] in (3, 7)
        assert stored.json["aches"] == 1


def test_deleting_an_account_while_its_phone_saves_days_never_fails(app, factory):
    """DELETE /me racing the person's own PUTs: every answer is clean, nothing is left."""
    patients = [factory.patient() for _ in range(RACERS)]
    today = date.today()

    def save_days(patient) -> list[int]:
        client = app.test_client()
        statuses = []
        for n in range(8):
            day = today - timedelta(days=n)
            statuses.append(
                client.put(
                    f"/api/v1/checkins/{day}", json=_body(n), headers=patient.headers
                ).status_code
            )
        return statuses

    def delete_account(patient) -> int:
        client = app.test_client()
        return client.delete(
            "/api/v1/me", json={"password": PASSWORD}, headers=patient.headers
        ).status_code

    with ThreadPoolExecutor(2 * RACERS) as pool:
        saves = [pool.submit(save_days, patient) for patient in patients]
        deletes = [pool.submit(delete_account, patient) for patient in patients]
        put_statuses = [status for future in saves for status in future.result()]
        delete_statuses = [future.result() for future in deletes]

    assert set(delete_statuses) == {204}, delete_statuses
    # Before the deletion a PUT lands; after it the sign-in has ended. Never a 5xx or 409.
    assert set(put_statuses) <= {200, 201, 401}, put_statuses
    with app.app_context():
        ids = [patient.id for patient in patients]
        for table in ("checkins", "alerts", "auth_sessions", "users"):
            column = "id" if table == "users" else "patient_id"
            if table == "auth_sessions":
                column = "user_id"
            left = db.session.execute(
                text(f"SELECT COUNT(*) FROM {table} WHERE {column} IN :ids").bindparams(
                    db.bindparam("ids", expanding=True)
                ),
                {"ids": [_stored_id(db, value) for value in ids]},
            ).scalar()
            assert left == 0, (table, left)


def _stored_id(database, value: str) -> str:
    """UUIDs are stored as 32 hex digits on SQLite and natively on PostgreSQL."""
    return value.replace("-", "") if database.engine.dialect.name == "sqlite" else value


# --- Races injected at the exact moment (found in review; each failed before its fix) -----


def _meanwhile(request):
    """Run another client's request to completion on its own thread (its own DB session)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(request).result()


def _dialect(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


def _alerts(app, counselor, status="all") -> list[dict]:
    response = app.test_client().get(f"/api/v1/alerts?status={status}", headers=counselor.headers)
    assert response.status_code == 200, response.json
    return response.json["items"]


def test_a_calm_put_replacing_a_day_created_meanwhile_drops_its_alert(app, factory, monkeypatch):
    """PostgreSQL: another phone's alarming PUT lands between our read and our upsert."""
    if _dialect(app) != "postgresql":
        pytest.skip("SQLite serialises the two PUTs through its write lock")
    patient, counselor = factory.patient(), factory.counselor()
    factory.share(patient, counselor)
    day = date.today()
    real_write = checkins_service._write
    raced = []

    def write_after_another_phone(*args, **kwargs):
        if not raced:
            raced.append(True)
            other = app.test_client().put(
                f"/api/v1/checkins/{day}",
                json=_body(1) | {"crisis": True},
                headers=patient.headers,
            )
            assert other.status_code == 201, other.json
        return real_write(*args, **kwargs)

    monkeypatch.setattr(checkins_service, "_write", write_after_another_phone)
    calm = app.test_client().put(f"/api/v1/checkins/{day}", json=_body(1), headers=patient.headers)
    assert calm.status_code == 200  # it replaced the day the other phone created
    assert _alerts(app, counselor) == []  # the day is calm: no open crisis alert is left


def test_acknowledging_while_the_day_gets_worse_leaves_the_worse_alert_open(
    app, factory, monkeypatch
):
    """PostgreSQL: a re-save to crisis during the acknowledgement must stay unacknowledged."""
    if _dialect(app) != "postgresql":
        pytest.skip("SQLite serialises the two writes through its write lock")
    patient, counselor = factory.patient(), factory.counselor()
    factory.share(patient, counselor)
    day = date.today()
    factory.checkin(patient, day, nausea=9)
    [alert] = _alerts(app, counselor, "open")
    assert alert["level"] == "severe"
    real_utcnow = alerts_service.utcnow
    acknowledging = threading.current_thread()
    resave = []

    def read_then_resave():
        # The acknowledgement has read the alert and is about to mark it: now the day gets
        # worse from the phone (once, and not from the phone's own thread).
        if threading.current_thread() is acknowledging and not resave:
            body = {**_body(9), "crisis": True}

            def put_worse():
                response = app.test_client().put(
                    f"/api/v1/checkins/{day}", json=body, headers=patient.headers
                )
                resave.append(response.status_code)

            worker = threading.Thread(target=put_worse)
            worker.start()
            worker.join(0.5)  # it waits for the acknowledgement's row lock, or lands first
            resave.append(worker)
        return real_utcnow()

    monkeypatch.setattr(alerts_service, "utcnow", read_then_resave)
    ack = app.test_client().post(
        f"/api/v1/alerts/{alert['id']}/acknowledge", headers=counselor.headers
    )
    monkeypatch.undo()
    worker = next(item for item in resave if isinstance(item, threading.Thread))
    worker.join(10)
    assert ack.status_code == 200, ack.json
    assert 200 in resave
    assert [a["level"] for a in _alerts(app, counselor, "open")] == ["crisis"]


def test_a_put_racing_its_counselors_account_deletion_still_lands(app, factory, monkeypatch):
    """PostgreSQL: the alert's counselor disappears between reading the shares and writing."""
    if _dialect(app) != "postgresql":
        pytest.skip("SQLite reads the shares under its write lock")
    patient, counselor = factory.patient(), factory.counselor()
    factory.share(patient, counselor)
    real_record = alerts_service.record_for_day
    deleted = []

    def counselor_leaves_first(**kwargs):
        if not deleted:
            gone = _meanwhile(
                lambda: app.test_client().delete(
                    "/api/v1/me", json={"password": PASSWORD}, headers=counselor.headers
                )
            )
            deleted.append(gone.status_code)
        return real_record(**kwargs)

    monkeypatch.setattr(alerts_service, "record_for_day", counselor_leaves_first)
    response = app.test_client().put(
        f"/api/v1/checkins/{date.today()}",
        json={**_body(2), "crisis": True},
        headers=patient.headers,
    )
    assert deleted == [204]
    assert response.status_code == 201, response.json
    assert response.json["assessment"]["level"] == "crisis"


def _change_password_during_login(app, patient, monkeypatch):
    """Make the next login's password check coincide with a password change."""
    real_verify = auth_service.verify_password
    changed = []

    def verify_while_password_changes(stored, password):
        ok = real_verify(stored, password)
        if not changed:
            response = _meanwhile(
                lambda: app.test_client().patch(
                    "/api/v1/me",
                    json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                    headers=patient.headers,
                )
            )
            changed.append(response.status_code)
        return ok

    monkeypatch.setattr(auth_service, "verify_password", verify_while_password_changes)
    login = app.test_client().post(
        "/api/v1/auth/login", json={"email": patient.email, "password": PASSWORD}
    )
    monkeypatch.undo()
    assert changed == [200]
    return login


def test_a_login_overlapping_a_password_change_cannot_undo_it(app, factory, monkeypatch):
    patient = factory.patient()
    monkeypatch.setattr(auth_service, "needs_rehash", lambda _hash: True)
    login = _change_password_during_login(app, patient, monkeypatch)
    assert login.status_code == 401  # the old password stopped being the password
    client = app.test_client()
    old = client.post("/api/v1/auth/login", json={"email": patient.email, "password": PASSWORD})
    new = client.post(
        "/api/v1/auth/login", json={"email": patient.email, "password": NEW_PASSWORD}
    )
    assert (old.status_code, new.status_code) == (401, 200)


def test_a_login_with_the_old_password_during_a_change_opens_no_session(app, factory, monkeypatch):
    patient = factory.patient()
    login = _change_password_during_login(app, patient, monkeypatch)
    assert login.status_code == 401, "a session opened with the old password would survive"
