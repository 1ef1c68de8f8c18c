"""Statements per request, counted exactly on the real database (a regression fails CI)."""

from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import event

from server.extensions import db
from tests.factories import MODERATE_SCORES

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


class StatementLog:
    """Every SQL statement the app sent while recording, transaction control apart."""

    def __init__(self):
        self.all: list[str] = []

    @property
    def data(self) -> list[str]:
        """Statements that read or write rows."""
        return [
            sql for sql in self.all if not sql.lstrip().upper().startswith(TRANSACTION_CONTROL)
        ]

    def count(self) -> int:
        return len(self.data)


@pytest.fixture
def statements(app):
    """Record the statements of the requests made inside `with statements() as log:`."""

    @contextmanager
    def recording():
        log = StatementLog()

        def on_execute(_conn, _cursor, statement, _params, _context, _executemany):
            log.all.append(statement)

        def on_commit(_conn):
            # Drivers commit without a statement; record the moment in the same sequence.
            log.all.append("COMMIT")

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", on_execute)
        event.listen(engine, "commit", on_commit)
        try:
            yield log
        finally:
            event.remove(engine, "before_cursor_execute", on_execute)
            event.remove(engine, "commit", on_commit)

    return recording


def _calm(**overrides):
    return {**MODERATE_SCORES, **overrides}


def _put(client, person, day, **body):
    response = client.put(f"/api/v1/checkins/{day}", json=_calm(**body), headers=person.headers)
    assert response.status_code in (200, 201), response.json
    return response


@pytest.fixture
def patient_with_history(factory):
    patient = factory.patient()
    today = date.today()
    factory.log(patient, today - timedelta(days=1), [dict(MODERATE_SCORES)] * 10)
    return patient


def test_put_of_a_new_calm_day(client, patient_with_history, statements):
    with statements() as log:
        response = _put(client, patient_with_history, date.today())
    assert response.status_code == 201
    assert response.json["assessment"]["level"] == "stable"
    # Session check, the day with its history, the change number of the changes feed, the
    # upsert, the instrument results its judgement reads, the episodes that number the day
    # (budget: 6).
    assert log.count() == 6, log.data


def test_put_replacing_a_calm_day(client, patient_with_history, statements):
    yesterday = date.today() - timedelta(days=1)
    with statements() as log:
        response = _put(client, patient_with_history, yesterday, nausea=4)
    assert response.status_code == 200
    # ... and dropping the day's unacknowledged alerts (budget: 7).
    assert log.count() == 7, log.data


def test_put_of_an_alarming_day_with_a_counselor(
    client, factory, patient_with_history, statements
):
    counselor = factory.counselor()
    factory.share(patient_with_history, counselor)
    with statements() as log:
        response = _put(client, patient_with_history, date.today(), nausea=10, crisis=True)
    assert response.json["assessment"]["level"] == "crisis"
    assert response.json["assessment"]["resources"], "an alarming day lists resources"
    # Session check, history, change number, upsert, instrument results, shares, alert
    # upsert, resource stamp, episodes, and the catalogue reload the fresh test database
    # calls for (budget: 10).
    assert log.count() == 10, log.data
    alerts = client.get("/api/v1/alerts", headers=counselor.headers).json["items"]
    assert [alert["level"] for alert in alerts] == ["crisis"]


def test_put_computes_the_response_before_its_one_commit(
    client, factory, patient_with_history, statements
):
    counselor = factory.counselor()
    factory.share(patient_with_history, counselor)
    with statements() as log:
        _put(client, patient_with_history, date.today(), nausea=10)
    # A failure after COMMIT must never report an error for a write that landed: nothing
    # is read after it, and the write itself is committed exactly once. (On SQLite the
    # switch from the read snapshot to the write lock goes straight to the driver, so only
    # the session's own commit shows here.)
    assert log.all[-1] == "COMMIT", log.all
    writes_after_auth = log.all[log.all.index(log.data[1]) :]
    assert writes_after_auth.count("COMMIT") == 1, log.all


def test_a_retried_put_writes_nothing(client, patient_with_history, statements):
    yesterday = date.today() - timedelta(days=1)
    with statements() as log:
        response = _put(client, patient_with_history, yesterday)
    assert response.status_code == 200
    # Session check, the day with its history and the instrument results its judgement
    # reads (equal already, so no change number), and the episodes that number it.
    assert log.count() == 4, log.data


def test_a_batch_costs_what_its_puts_cost(client, patient_with_history, statements):
    today = date.today()
    items = [{"date": str(today - timedelta(days=n)), **_calm()} for n in (0, 1)]
    with statements() as log:
        response = client.post(
            "/api/v1/checkins/batch", json={"items": items}, headers=patient_with_history.headers
        )
    assert [item["status"] for item in response.json["items"]] == [201, 200]
    # One session check, then each day as its PUT: a new day (history, change number,
    # upsert, instrument results, episodes) and yesterday, equal already (history,
    # instrument results, episodes).
    assert log.count() == 1 + 5 + 3, log.data


def test_changes_feed_page(client, patient_with_history, statements):
    with statements() as log:
        response = client.get(
            "/api/v1/checkins/changes?limit=5", headers=patient_with_history.headers
        )
    assert len(response.json["items"]) == 5
    # Session check, position and changes at once, and the episodes that number the days.
    assert log.count() == 3, log.data


def test_get_one_day(client, patient_with_history, statements):
    yesterday = date.today() - timedelta(days=1)
    with statements() as log:
        response = client.get(
            f"/api/v1/checkins/{yesterday}", headers=patient_with_history.headers
        )
    assert response.status_code == 200
    assert log.count() == 3, log.data  # session check, the day, its episodes (budget: 3)


def test_trends_of_ninety_days(client, factory, statements):
    patient = factory.patient()
    today = date.today()
    factory.log(patient, today, [dict(MODERATE_SCORES)] * 90)
    start = today - timedelta(days=89)
    with statements() as log:
        response = client.get(f"/api/v1/trends?from={start}&to={today}", headers=patient.headers)
    assert response.json["current_streak"] == 90
    # Session check, the range, its instrument results, the episodes (budget: 4).
    assert log.count() == 4, log.data


def test_a_streak_longer_than_the_range_still_counts_every_day(client, factory, statements):
    patient = factory.patient()
    today = date.today()
    factory.log(patient, today, [dict(MODERATE_SCORES)] * 200)
    with statements() as log:
        response = client.get(f"/api/v1/trends?from={today}&to={today}", headers=patient.headers)
    assert response.json["current_streak"] == 200
    # Session check, range, then older dates in doubling pages (64, 128, 256) until the
    # first gap: 8 + 64 + 128 days cover the 200, and the last page comes back short; then
    # the range's instrument results and the episodes.
    assert log.count() == 7, log.data


def _caseload(factory, size: int):
    counselor = factory.counselor()
    today = date.today()
    for _ in range(size):
        patient = factory.patient()
        factory.share(patient, counselor)
        factory.log(patient, today, [dict(MODERATE_SCORES), _calm(nausea=9)])
    return counselor


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # Session check, shares, one read for all (the page and its total), one read of
        # everyone's instrument results, one audit insert.
        ("/api/v1/patients", 5),
        ("/api/v1/alerts", 4),
        ("/api/v1/alerts?page_size=3", 4),
        # Session check, one read (the page and its total).
        ("/api/v1/shares", 2),
    ],
)
def test_counselor_lists_cost_the_same_for_any_caseload(
    client, factory, statements, path, expected
):
    counts = []
    for size in (1, 6):
        counselor = _caseload(factory, size)
        with statements() as log:
            response = client.get(path, headers=counselor.headers)
        assert response.status_code == 200
        assert response.json["total_items"] == size
        counts.append(log.count())
    assert counts == [expected, expected], log.data
