"""An instrument result racing a check-in of the same day (PostgreSQL, READ COMMITTED)."""

import threading
from datetime import date

import pytest

from server.checkins import service as checkins_service
from server.extensions import db
from server.instruments.definitions import COWS
from tests.instruments.recording import items_totalling


def _dialect(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


def test_a_check_in_saved_while_a_cows_is_recorded_is_judged_with_it(app, factory, monkeypatch):
    """The COWS write has read the logged days (none) when the phone saves the day.

    Before the COWS write held the patient's feed, each missed the other's uncommitted row:
    the day stayed unalerted though its status was severe.
    """
    if _dialect(app) != "postgresql":
        pytest.skip("SQLite serialises the two writes through its write lock")
    patient, counselor = factory.patient(), factory.counselor()
    factory.share(patient, counselor, scope=["checkins", "status", "assess"])
    day = date.today()
    real_read = checkins_service._judged_rows_in_range
    answers = []

    def phone_saves_the_day() -> None:
        body = {"nausea": 1, "aches": 1, "anxiety": 1, "insomnia": 1}
        response = app.test_client().put(
            f"/api/v1/checkins/{day}", json=body, headers=patient.headers
        )
        answers.append(response.status_code)

    def read_then_let_the_phone_in(*args, **kwargs):
        rows = real_read(*args, **kwargs)
        phone = threading.Thread(target=phone_saves_the_day)
        phone.start()
        # Long enough for an unblocked PUT to finish; a blocked one waits for our commit.
        phone.join(timeout=1.0)
        threads.append(phone)
        return rows

    threads: list[threading.Thread] = []
    monkeypatch.setattr(checkins_service, "_judged_rows_in_range", read_then_let_the_phone_in)
    observed = factory.cows_observation(counselor, patient, **items_totalling(COWS, 27))
    assert observed.json["band"] == "moderately_severe"
    for phone in threads:
        phone.join(timeout=10)
    assert answers == [201]
    alerts = app.test_client().get("/api/v1/alerts?status=all", headers=counselor.headers)
    assert [a["checkin_date"] for a in alerts.json["items"]] == [day.isoformat()]
