"""Statements per instrument request, counted exactly on the real database."""

from datetime import date, timedelta

from server.instruments.definitions import SOWS_GOSSOP
from tests.platform import test_statement_counts

statements = test_statement_counts.statements
PATH = "/api/v1/instruments/sows-gossop-10/responses"
ITEMS = dict.fromkeys(SOWS_GOSSOP.item_ids, 2)


def test_put_of_a_new_response_and_its_retry(client, factory, statements):
    patient = factory.patient()
    day = date.today() - timedelta(days=1)
    with statements() as log:
        response = client.put(f"{PATH}/{day}", json={"items": ITEMS}, headers=patient.headers)
    assert response.status_code == 201
    # Session check, the day's response, the upsert, the patient's feed held (so a check-in
    # written meanwhile is judged with it), and the logged days it bears on (none: one count).
    assert log.count() == 5, log.data
    with statements() as log:
        retry = client.put(f"{PATH}/{day}", json={"items": ITEMS}, headers=patient.headers)
    assert retry.status_code == 200
    # Equal already: nothing is written.
    assert log.count() == 2, log.data


def test_a_page_of_responses_is_one_statement(client, factory, statements):
    patient = factory.patient()
    for days_ago in range(5):
        factory.instrument_response(patient, "sows-gossop-10", date.today() - timedelta(days_ago))
    with statements() as log:
        response = client.get(f"{PATH}?page_size=2", headers=patient.headers)
    assert response.json["total_items"] == 5
    assert log.count() == 2, log.data  # session check, and the page with its total


def test_recording_and_reading_observations(client, factory, statements):
    patient, counselor = factory.patient(), factory.counselor()
    factory.share(patient, counselor, scope=["assess"])
    with statements() as log:
        factory.cows_observation(counselor, patient, sweating=2)
    # Session check, the share, the insert, the observation as stored, the patient's feed
    # held, the logged days it bears on (none: one count of them), the access log.
    assert log.count() == 7, log.data
    for hours in (2, 3):
        factory.cows_observation(counselor, patient, hours_ago=hours)
    with statements() as log:
        response = client.get(
            f"/api/v1/patients/{patient.id}/observations", headers=counselor.headers
        )
    assert response.json["total_items"] == 3
    # Session check, the share, the page with its total and observers, the access log.
    assert log.count() == 4, log.data
