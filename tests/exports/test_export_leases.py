"""One export in flight per person (a lease in the database) and the per-process PDF cap."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from server.exports import service
from tests.factories import Factory

FIXED_NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
TODAY = date(2026, 6, 15)
LEASE_SECONDS = 60
# Flask-Limiter raises any Retry-After to the end of its own window (a minute in the test
# config); a one-second window lets the lease's own wait show.
SHORT_WINDOW = {"EXPORT_LIMIT_PER_USER": "10000 per second"}


@pytest.fixture
def app(app_factory):
    return app_factory(**SHORT_WINDOW)


@pytest.fixture
def clock():
    """A clock that moves only when the test says so."""
    with time_machine.travel(FIXED_NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def patient(factory, clock):
    patient = factory.patient()
    for offset in range(0, 40):
        factory.checkin(patient, TODAY - timedelta(days=offset), note=f"day {offset}")
    return patient


def start_export(client, person, path="/api/v1/export", **params):
    """Start an export and leave its body unread, like a download still in progress."""
    return client.get(path, query_string=params, headers=person.headers, buffered=False)


def assert_in_progress(response, retry_after: int):
    assert response.status_code == 429
    assert response.content_type == "application/problem+json"
    assert response.json["type"] == "urn:steady:problem:export-in-progress"
    assert response.json["status"] == 429
    # The limiter may round up to the end of its one-second window.
    assert retry_after <= int(response.headers["Retry-After"]) <= retry_after + 1


@pytest.mark.parametrize("first_format", ["csv", "pdf", "fhir"])
def test_a_second_export_while_the_first_is_sent_is_429_until_it_is_done(
    client, patient, first_format
):
    first = start_export(client, patient, format=first_format)
    assert first.status_code == 200
    for fmt in ("csv", "pdf", "fhir"):
        assert_in_progress(start_export(client, patient, format=fmt), LEASE_SECONDS)
    first.get_data()  # the whole body has been sent
    again = start_export(client, patient, format="csv")
    assert again.status_code == 200
    again.close()


def test_a_client_that_goes_away_frees_the_lease(client, patient):
    first = start_export(client, patient, format="pdf")
    assert_in_progress(start_export(client, patient), LEASE_SECONDS)
    first.close()  # the server closes the body when the connection drops
    assert start_export(client, patient).get_data().startswith(b"date,")


def test_retry_after_counts_down_to_the_lease_expiry(client, patient, clock):
    first = start_export(client, patient)  # kept: a dropped response closes its body
    clock.shift(20)
    assert_in_progress(start_export(client, patient), LEASE_SECONDS - 20)
    assert first.status_code == 200


def test_a_lease_never_released_lapses(client, factory, patient, clock):
    # A worker killed mid-export never closes the body: the lease must run out by itself.
    killed = start_export(client, patient, format="fhir")  # kept, never read or closed
    clock.shift(LEASE_SECONDS - 1)
    assert_in_progress(start_export(client, patient), 1)
    clock.shift(1)
    second = start_export(client, patient)
    assert second.status_code == 200
    # The late release of the lapsed export must not end the export that took over.
    assert_in_progress(start_export(client, patient), LEASE_SECONDS)
    second.get_data()
    assert start_export(client, patient).status_code == 200
    assert killed.status_code == 200


def test_a_slow_download_renews_its_lease(client, patient, clock, monkeypatch):
    monkeypatch.setattr(service, "CHUNK_CHARS", 1)  # one row per chunk
    body = iter(start_export(client, patient).response)
    next(body)
    for _ in range(3):
        clock.shift(LEASE_SECONDS / 2)
        next(body)  # still sending, well past the first lease's expiry
    assert_in_progress(start_export(client, patient), LEASE_SECONDS)


def test_other_people_are_not_held_up(client, factory, patient):
    first = start_export(client, patient)
    assert first.status_code == 200
    other = factory.patient()
    assert start_export(client, other).status_code == 200


def test_the_lease_holds_across_worker_processes(app_factory, patient, factory):
    # Two apps share nothing but the database, like two gunicorn workers.
    other_worker = app_factory(**SHORT_WINDOW).test_client()
    first = start_export(factory.client, patient)
    assert_in_progress(start_export(other_worker, patient), LEASE_SECONDS)
    first.get_data()
    assert start_export(other_worker, patient).status_code == 200


def test_a_counselor_export_holds_the_counselors_lease(client, factory, patient):
    counselor = factory.counselor()
    second_patient = factory.patient()
    for person in (patient, second_patient):
        response = client.post(
            "/api/v1/shares",
            json={
                "counselor_email": counselor.email,
                "purpose": "Appointment",
                "expires_on": (TODAY + timedelta(days=30)).isoformat(),
                "include_notes": False,
                "scope": ["export"],
            },
            headers=person.headers,
        )
        assert response.status_code == 201
    path = f"/api/v1/patients/{patient.id}/export"
    first = start_export(client, counselor, path, format="pdf")
    assert first.status_code == 200
    # The person asking holds the lease: the patient's own export is not held up...
    assert start_export(client, patient).get_data().startswith(b"date,")
    # ...but the counselor's next one is, whichever patient it is for.
    other_path = f"/api/v1/patients/{second_patient.id}/export"
    assert_in_progress(start_export(client, counselor, other_path), LEASE_SECONDS)
    # A refused export disclosed nothing, so it is not in that patient's access log.
    log = client.get("/api/v1/me/access-log", headers=second_patient.headers).json
    assert [e for e in log["items"] if e["action"] == "export"] == []
    first.get_data()
    assert start_export(client, counselor, other_path).status_code == 200


def test_a_failed_render_frees_the_lease(client, patient, monkeypatch):
    def broken(report):
        raise RuntimeError("layout failed")

    monkeypatch.setattr(service, "build_pdf", broken)
    response = start_export(client, patient, format="pdf")
    assert response.status_code == 500
    assert response.content_type == "application/problem+json"
    assert start_export(client, patient).status_code == 200


def test_pdf_renders_per_process_are_capped(app_factory, clock):
    app = app_factory(PDF_RENDERS_PER_PROCESS=1, **SHORT_WINDOW)
    client = app.test_client()
    factory = Factory(app, client)
    patient = factory.patient()
    slots = app.extensions["steady.settings"].pdf_render_slots
    assert slots.acquire(blocking=False)  # another request is rendering a PDF
    try:
        busy = start_export(client, patient, format="pdf")
        assert busy.status_code == 503
        assert busy.content_type == "application/problem+json"
        assert busy.json["type"] == "urn:steady:problem:unavailable"
        assert int(busy.headers["Retry-After"]) > 0
        # Streamed formats need no render slot, and the refusal took no lease.
        assert start_export(client, patient, format="csv").get_data().startswith(b"date,")
    finally:
        slots.release()
    assert start_export(client, patient, format="pdf").get_data().startswith(b"%PDF-")


def test_the_lease_lifetime_is_a_setting(app_factory, clock):
    app = app_factory(EXPORT_LEASE_SECONDS="15", **SHORT_WINDOW)
    client = app.test_client()
    patient = Factory(app, client).patient()
    first = start_export(client, patient)
    assert_in_progress(start_export(client, patient), 15)
    clock.shift(15)
    assert start_export(client, patient).status_code == 200
    assert first.status_code == 200
