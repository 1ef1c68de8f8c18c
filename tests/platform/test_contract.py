"""schemathesis drives every operation of openapi.yaml against the app, signed in."""

import os
from datetime import date, timedelta
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from server.vocabulary import SCOPES

SPEC_PATH = Path(__file__).parents[2] / "openapi.yaml"
# These would end the run's own session or account halfway through.
SESSION_ENDING = {("DELETE", "/api/v1/me"), ("POST", "/api/v1/auth/logout")}
# Requests whose items are judged one by one (200 with a result for each).
JUDGED_ONE_BY_ONE = {("POST", "/api/v1/checkins/batch")}
# Rules OpenAPI cannot express (a day in the future or before 2000, a range that ends before
# it starts or is too long, a share's end date or counselor, an If-Match naming an old
# version, a phone number that is not a real one of the entry's region, a link to a
# non-public host, a changes cursor this server never gave, a batch naming a day twice, an
# instrument's own items and values, an observation in the future, an episode's dates out of
# order or in the future): a schema-valid request may be refused for these only. Errors of an
# instrument's items are keyed items.<item_id>.
BUSINESS_RULE_FIELDS = {
    "started_on",
    "last_use_at",
    "moud_started_on",
    "ended_on",
    "since",
    "items",
    "date",
    "from",
    "to",
    "expires_on",
    "counselor_email",
    "phone",
    "sms",
    "url",
    "observed_at",
}


class Current:
    """The app, the signed-in person's token and a sharing patient of the running test."""

    app = None
    token = None
    shared_patient_id = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


current = Current()
schema = schemathesis.openapi.from_path(str(SPEC_PATH))
schema.app = current


fuzz_settings = settings(
    max_examples=int(os.environ.get("CONTRACT_EXAMPLES", "30")),
    deadline=None,
    derandomize="CONTRACT_SEED" not in os.environ,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(autouse=True)
def bind_app(app):
    current.app = app
    current.shared_patient_id = None


def call(case):
    if (case.method, case.path) in SESSION_ENDING:
        return
    headers = dict(case.headers or {})
    if not _probes_headers(case):
        headers["Authorization"] = f"Bearer {current.token}"
    if current.shared_patient_id and "patient_id" in (case.path_parameters or {}):
        # A random UUID only ever finds a 404; aim at a patient who really shares.
        case.path_parameters["patient_id"] = current.shared_patient_id
    response = case.call(headers=headers)
    excluded = []
    errors = response.json().get("errors", {}) if response.status_code == 422 else {}
    fields = {name.split(".", 1)[0] for name in errors}
    business_rule = response.status_code == 422 and fields <= BUSINESS_RULE_FIELDS
    conditional = {"If-Match", "If-None-Match"} & set(case.headers or {})
    stale_version = response.status_code == 412 and conditional
    if business_rule or stale_version:
        excluded.append(positive_data_acceptance)
    if (case.method, case.path) in JUDGED_ONE_BY_ONE:
        # A batch answers a schema-violating day in that day's result, not with a 4xx.
        excluded.append(negative_data_rejection)
    case.validate_response(response, headers=headers, excluded_checks=excluded)


def _probes_headers(case) -> bool:
    """True when schemathesis deliberately broke a header (e.g. Authorization) here."""
    header_info = case.meta.components.get(ParameterLocation.HEADER) if case.meta else None
    return header_info is not None and header_info.mode == GenerationMode.NEGATIVE


@pytest.fixture
def patient_with_log(factory):
    patient = factory.patient()
    factory.log(patient, date.today() - timedelta(days=1), [{}, {"vomiting": 8}, {"crisis": True}])
    return patient


@schema.parametrize()
@fuzz_settings
def test_operations_conform_as_patient(case, patient_with_log):
    current.token = patient_with_log.tokens["access_token"]
    call(case)


@pytest.fixture
def counselor_with_patient(factory, patient_with_log):
    counselor = factory.counselor()
    factory.share(patient_with_log, counselor, include_notes=True, scope=SCOPES)
    current.shared_patient_id = patient_with_log.id
    return counselor


@schema.parametrize()
@fuzz_settings
def test_operations_conform_as_counselor(case, counselor_with_patient):
    current.token = counselor_with_patient.tokens["access_token"]
    call(case)
