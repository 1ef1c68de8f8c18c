"""Concurrent writers on the SQLite file never see 'database is locked'."""

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from server.extensions import db

THREADS = 8
WRITES_PER_THREAD = 15


@pytest.mark.usefixtures("app")
def test_concurrent_check_ins_all_land(app, factory):
    patients = [factory.patient() for _ in range(THREADS)]
    start = date(2024, 1, 1)

    def write_days(patient):
        client = app.test_client()
        statuses = []
        for n in range(WRITES_PER_THREAD):
            day = (start + timedelta(days=n)).isoformat()
            body = {"nausea": n % 11, "aches": 1, "anxiety": 2, "insomnia": 3}
            response = client.put(f"/api/v1/checkins/{day}", json=body, headers=patient.headers)
            statuses.append(response.status_code)
            # Read-then-write on the same day too: the deferred-transaction trap.
            body["aches"] = 2
            statuses.append(
                client.put(
                    f"/api/v1/checkins/{day}", json=body, headers=patient.headers
                ).status_code
            )
        return statuses

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(write_days, patients))

    assert all(status in (200, 201) for statuses in results for status in statuses), results
    with app.app_context():
        count = db.session.execute(text("SELECT COUNT(*) FROM checkins")).scalar()
    assert count == THREADS * WRITES_PER_THREAD


def test_sqlite_pragmas_are_in_effect(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite-only settings")
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
