"""schemathesis drives every operation of openapi.yaml against the app, signed in."""

from datetime import date, timedelta
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

SPEC_PATH = Path(__file__).parents[2] / "openapi.yaml"
# These would end the run's own session or account halfway through.
SESSION_ENDING = {("DELETE", "/api/v1/me"), ("POST", "/api/v1/auth/logout")}


class CurrentApp:
    """WSGI stand-in bound to each test's app (the schema is loaded at import time)."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


current_app = CurrentApp()
schema = schemathesis.openapi.from_path(str(SPEC_PATH))
schema.app = current_app
fuzz_settings = settings(
    max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


@pytest.fixture(autouse=True)
def bind_app(app):
    current_app.app = app


# Rules OpenAPI cannot express (a day in the future, before 2000, from after to, or an
# If-Match naming an old version): a schema-valid request may be refused for these only.
DATE_RULE_FIELDS = {"date", "from", "to"}


def call(case, person):
    if (case.method, case.path) in SESSION_ENDING:
        return
    headers = {"Authorization": f"Bearer {person.tokens['access_token']}"}
    response = case.call(headers=headers)
    excluded = []
    date_rule = response.status_code == 422 and set(response.json().get("errors", {})) <= (
        DATE_RULE_FIELDS
    )
    stale_version = response.status_code == 412 and "If-Match" in (case.headers or {})
    if date_rule or stale_version:
        excluded.append(positive_data_acceptance)
    case.validate_response(response, headers=headers, excluded_checks=excluded)


@pytest.fixture
def patient_with_log(factory):
    patient = factory.patient()
    factory.log(patient, date.today() - timedelta(days=1), [{}, {"vomiting": 8}, {"crisis": True}])
    return patient


@schema.parametrize()
@fuzz_settings
def test_operations_conform_as_patient(case, patient_with_log):
    call(case, patient_with_log)


@schema.parametrize()
@fuzz_settings
def test_operations_conform_as_counselor(case, factory):
    call(case, factory.counselor())
