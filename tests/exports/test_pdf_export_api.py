"""The PDF export through HTTP: each day as the API judges it, times in the patient's zone."""

import io
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from pypdf import PdfReader

FIXED_NOW = datetime(2026, 12, 1, 13, 5, tzinfo=UTC)
TODAY = date(2026, 12, 1)


@pytest.fixture(autouse=True)
def fixed_clock():
    """The default range and 'Produced' depend on now; pin it."""
    with time_machine.travel(FIXED_NOW, tick=False):
        yield


def _pdf_text(response) -> str:
    """All pages' text."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)


def _row(text: str, day: date) -> str:
    """The first extracted line of a day's row in the daily log."""
    return next(line for line in text.splitlines() if line.startswith(day.isoformat()))


def test_each_pdf_row_carries_the_level_the_api_gave_that_day(client, factory):
    """Days PUT through the API print the level and flags the PUT answered with."""
    patient = factory.patient(timezone="Europe/Berlin")
    days = {
        TODAY - timedelta(days=3): {"used_opioids": False},
        TODAY - timedelta(days=2): {"used_opioids": False, "vomiting": 8},
        TODAY - timedelta(days=1): {"used_opioids": False, "vomiting": 9},
        TODAY: {"used_opioids": False, "crisis": True},
    }
    judged = {
        day: factory.checkin(patient, day, **body).json["assessment"] for day, body in days.items()
    }
    response = client.get(
        "/api/v1/export", query_string={"format": "pdf"}, headers=patient.headers
    )
    assert response.status_code == 200
    text = _pdf_text(response)
    dehydrated = TODAY - timedelta(days=1)
    assert judged[dehydrated]["level"] == "severe"
    assert "dehydration_risk" in {reason["code"] for reason in judged[dehydrated]["reasons"]}
    assert " severe dehydration risk" in _row(text, dehydrated)
    for day, assessment in judged.items():
        assert f" {assessment['level']}" in _row(text, day)
    assert "Produced: 2026-12-01 14:05 (Europe/Berlin)" in text
