"""Concurrent writers on the SQLite file never see 'database is locked'."""

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from server.extensions import db
from tests.factories import Factory

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
            # Writers wait for the lock in Steady's own loop (short pauses), not SQLite's
            # busy handler, which oversleeps; test_a_writer_waits_for_the_lock covers it.
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 0


def _sqlite_file_app(app_factory, *, lock_timeout_ms: int):
    """An app on the SQLite test file, its path, a factory and a signed-in patient."""
    app = app_factory(SQLITE_BUSY_TIMEOUT_MS=lock_timeout_ms)
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's database-wide write lock")
        path = db.engine.url.database
    factory = Factory(app, app.test_client())
    return app, path, factory, factory.patient()


def test_reads_never_wait_for_a_writer(app_factory):
    """A GET answers while another process holds SQLite's write lock; a PUT waits its turn."""
    app, path, factory, patient = _sqlite_file_app(app_factory, lock_timeout_ms=300)
    day = date.today().isoformat()
    factory.checkin(patient, date.today())
    client = app.test_client()

    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        for path_ in (f"/api/v1/checkins/{day}", "/api/v1/trends", "/api/v1/status"):
            assert client.get(path_, headers=patient.headers).status_code == 200, path_
        body = {"nausea": 1, "aches": 1, "anxiety": 1, "insomnia": 1}
        blocked = client.put(f"/api/v1/checkins/{day}", json=body, headers=patient.headers)
        assert blocked.status_code == 503  # waited busy_timeout, then a clean retry-later
        assert blocked.headers["Retry-After"]
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    after = client.put(f"/api/v1/checkins/{day}", json=body, headers=patient.headers)
    assert after.status_code == 200


def test_a_writer_waits_for_the_lock_and_lands_soon_after_it_is_free(app_factory):
    """A PUT arriving while another process writes waits its turn instead of failing."""
    app, path, _factory, patient = _sqlite_file_app(app_factory, lock_timeout_ms=5000)
    day = date.today().isoformat()
    body = {"nausea": 2, "aches": 1, "anxiety": 1, "insomnia": 1}
    locked = threading.Event()

    def hold_the_lock():
        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        locked.set()
        time.sleep(0.3)  # another process's long write
        writer.execute("ROLLBACK")
        writer.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    locked.wait()
    started = time.monotonic()
    response = app.test_client().put(f"/api/v1/checkins/{day}", json=body, headers=patient.headers)
    waited = time.monotonic() - started
    holder.join()
    assert response.status_code == 201, response.json
    assert waited >= 0.25  # it really waited for the other writer
