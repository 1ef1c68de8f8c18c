"""Writes racing each other on the real database (SQLite file or PostgreSQL)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

from sqlalchemy import text

from server.extensions import db
from tests.factories import PASSWORD

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
