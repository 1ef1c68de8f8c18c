"""Settings are checked once, at start-up: a bad value refuses to start, naming the variable."""

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from server import Settings, create_app
from server import config as server_config
from server.assessments.judgement import Thresholds
from server.config import ConfigError, config_from_env
from server.resources.locator import FindTreatmentLocator
from server.trends.calculations import TrendRules
from tests.conftest import make_test_app
from tests.factories import Factory

REPO = Path(__file__).resolve().parents[2]
WHOLE_1_TO_10 = "must be a whole number from 1 to 10"
LOCATOR_URL_RULE = "must be unset (empty) or an http(s) URL with a host"
LIMIT_RULE = "must be one or more rate limits"


def refusal(**env: str) -> str:
    """Start the app with these environment variables and return why it refused."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        with pytest.raises(ConfigError) as refused:
            make_test_app(os.environ["STEADY_TEST_DATABASE_URL"])
    return str(refused.value)


@pytest.fixture(autouse=True)
def _database(migrated, monkeypatch):
    # The migrated test database, passed to refusal() without clobbering DATABASE_URL.
    monkeypatch.setenv("STEADY_TEST_DATABASE_URL", migrated)


@pytest.mark.parametrize(
    ("variable", "value", "shown", "rule"),
    [
        # The examples.
        ("STEADY_JUDGEMENT_SEVERE_SCORE", "nine", "'nine'", WHOLE_1_TO_10),
        ("STEADY_JUDGEMENT_SEVERE_SCORE", "99", "99", WHOLE_1_TO_10),
        ("STEADY_LOGIN_LIMIT_PER_IP", "lots", "'lots'", LIMIT_RULE),
        ("TREATMENT_LOCATOR_URL", "ftp://x", "'ftp://x'", LOCATOR_URL_RULE),
        ("ACCESS_TOKEN_MINUTES", "abc", "'abc'", "must be a whole number from 1 to 1440"),
        # A few more.
        ("STEADY_JUDGEMENT_SEVERE_SCORE", "9.5", "9.5", WHOLE_1_TO_10),
        ("STEADY_JUDGEMENT_SEVERE_SCORE", "true", "True", WHOLE_1_TO_10),
        ("STEADY_JUDGEMENT_SEVERE_TOTAL", "41", "41", "must be a whole number from 1 to 40"),
        ("STEADY_JUDGEMENT_WORSENING_SYMPTOM_MIN", "-1", "-1", "from 0 to 10"),
        ("STEADY_JUDGEMENT_WORSENING_TOTAL_DELTA", "0", "0", "above 0 and at most 40"),
        ("STEADY_TRENDS_DIRECTION_SYMPTOM_DELTA", "11", "11", "above 0 and at most 10"),
        ("STEADY_LOGIN_FAILURES_PER_ACCOUNT", "", "''", LIMIT_RULE),
        ("STEADY_EXPORT_LIMIT_PER_USER", "0 per hour", "'0 per hour'", "at least 1 request"),
        ("STEADY_REGISTER_LIMIT_PER_IP", "20", "20", LIMIT_RULE),
        ("STEADY_SHARE_LIMIT_PER_PATIENT", "0 per day", "'0 per day'", "at least 1 request"),
        ("STEADY_RESOURCE_LIMIT_PER_COUNSELOR", "many", "'many'", LIMIT_RULE),
        ("STEADY_LOCATOR_LIMIT_PER_IP", "", "''", LIMIT_RULE),
        (
            "STEADY_TREATMENT_LOCATOR_BREAKER_FAILURES",
            "0",
            "0",
            "must be a whole number from 1 to 100",
        ),
        (
            "STEADY_TREATMENT_LOCATOR_BREAKER_SECONDS",
            "1.5",
            "1.5",
            "must be a whole number from 1 to 3600",
        ),
        ("TREATMENT_LOCATOR_URL", "https://", "'https://'", LOCATOR_URL_RULE),
        ("TREATMENT_LOCATOR_URL", "findtreatment.gov", "'findtreatment.gov'", LOCATOR_URL_RULE),
        ("TREATMENT_LOCATOR_TIMEOUT", "0", "'0'", "must be a number above 0 and at most 30"),
        ("TREATMENT_LOCATOR_TIMEOUT", "31", "'31'", "must be a number above 0 and at most 30"),
        ("TREATMENT_LOCATOR_TIMEOUT", "soon", "'soon'", "must be a number above 0"),
        ("REFRESH_TOKEN_DAYS", "0", "'0'", "must be a whole number from 1 to 365"),
        ("TRUSTED_PROXY_COUNT", "6", "'6'", "must be a whole number from 0 to 5"),
        ("FHIR_BASE_URL", "steady.example/fhir", "'steady.example/fhir'", "http(s) URL"),
        ("STEADY_SQLITE_BUSY_TIMEOUT_MS", "0", "0", "must be a whole number from 1 to"),
        ("STEADY_ARGON2_TIME_COST", "0", "0", "must be a whole number from 1 to 20"),
        ("STEADY_EXPORT_LEASE_SECONDS", "5", "5", "must be a whole number from 10 to 3600"),
        ("STEADY_PDF_RENDERS_PER_PROCESS", "0", "0", "must be a whole number from 1 to 64"),
        ("STEADY_PDF_RENDERS_PER_PROCESS", "1.5", "1.5", "must be a whole number from 1 to 64"),
        ("STEADY_CHECKIN_BATCH_LIMIT_PER_USER", "often", "'often'", LIMIT_RULE),
        ("STEADY_CHECKIN_BATCH_LIMIT_PER_USER", "0 per hour", "'0 per hour'", "at least 1"),
        ("STEADY_CHECKIN_BATCH_MAX_BYTES", "1000", "1000", "from 65536 to 16777216"),
        ("STEADY_CHECKIN_TOMBSTONE_DAYS", "30", "30", "must be a whole number from 90 to 3650"),
    ],
)
def test_a_bad_environment_value_refuses_to_start(variable, value, shown, rule):
    message = refusal(**{variable: value})
    assert f"{variable}={shown}" in message
    assert rule in message


def test_the_baseline_needs_no_more_checkins_than_it_has_days():
    message = refusal(STEADY_JUDGEMENT_BASELINE_DAYS="2")
    assert "STEADY_JUDGEMENT_BASELINE_MIN_CHECKINS=3" in message
    assert "must be at most STEADY_JUDGEMENT_BASELINE_DAYS (2)" in message


@pytest.mark.parametrize(
    ("key", "value", "variable", "rule"),
    [
        ("JUDGEMENT_SEVERE_SCORE", 9.5, "STEADY_JUDGEMENT_SEVERE_SCORE=9.5", WHOLE_1_TO_10),
        ("JUDGEMENT_SEVERE_SCORE", True, "STEADY_JUDGEMENT_SEVERE_SCORE=True", WHOLE_1_TO_10),
        ("TREATMENT_LOCATOR_TIMEOUT_SECONDS", 0, "TREATMENT_LOCATOR_TIMEOUT=0", "above 0"),
        ("TREATMENT_LOCATOR_URL", "http:///path", "TREATMENT_LOCATOR_URL='http:///path'", "host"),
        ("ACCESS_TOKEN_MINUTES", "1441", "ACCESS_TOKEN_MINUTES='1441'", "from 1 to 1440"),
        (
            "JWT_ACCESS_TOKEN_EXPIRES",
            timedelta(days=2),
            "STEADY_JWT_ACCESS_TOKEN_EXPIRES=datetime.timedelta(days=2)",
            "at most 1 day",
        ),
        ("JWT_REFRESH_TOKEN_EXPIRES", False, "STEADY_JWT_REFRESH_TOKEN_EXPIRES=False", "above 0"),
        ("ARGON2_MEMORY_COST", 16, "STEADY_ARGON2_MEMORY_COST=16", "8 x ARGON2_PARALLELISM"),
    ],
)
def test_a_bad_config_attribute_refuses_to_start(migrated, key, value, variable, rule):
    # Argon2 memory must cover 8 KiB per lane; 16 is too little for 4 lanes.
    extra = {"ARGON2_PARALLELISM": 4} if key == "ARGON2_MEMORY_COST" else {}
    with pytest.raises(ConfigError) as refused:
        make_test_app(migrated, **{key: value}, **extra)
    assert variable in str(refused.value)
    assert rule in str(refused.value)


def test_a_config_error_is_a_runtime_error_and_names_an_unknown_environment(monkeypatch):
    monkeypatch.setenv("STEADY_ENV", "staging")
    with pytest.raises(RuntimeError, match="STEADY_ENV='staging'"):
        config_from_env()
    assert issubclass(ConfigError, RuntimeError)


def test_env_is_read_when_the_config_is_built_not_at_import(monkeypatch):
    monkeypatch.setenv("ACCESS_TOKEN_MINUTES", "abc")
    monkeypatch.setenv("TREATMENT_LOCATOR_TIMEOUT", "1.5")
    config = server_config.TestConfig()  # imported via the module: pytest would collect it
    assert config.ACCESS_TOKEN_MINUTES == "abc"  # kept raw for create_app to judge
    assert config.TREATMENT_LOCATOR_TIMEOUT_SECONDS == "1.5"
    with pytest.raises(ConfigError, match="ACCESS_TOKEN_MINUTES='abc'"):
        create_app(config)


def test_wsgi_start_up_fails_naming_the_variable_but_importing_config_does_not(tmp_path):
    env = {
        **os.environ,
        "STEADY_ENV": "test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'start.db'}",
        "ACCESS_TOKEN_MINUTES": "abc",
    }
    env.pop("REDIS_URL", None)
    imported = subprocess.run(
        [sys.executable, "-c", "import server.config"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert imported.returncode == 0, imported.stderr
    started = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert started.returncode != 0
    assert "ConfigError: Invalid setting ACCESS_TOKEN_MINUTES='abc'" in started.stderr


def test_settings_are_built_once_from_valid_values(app_factory, monkeypatch):
    monkeypatch.setenv("ACCESS_TOKEN_MINUTES", "60")
    monkeypatch.setenv("REFRESH_TOKEN_DAYS", "7")
    monkeypatch.setenv("TREATMENT_LOCATOR_URL", "https://findtreatment.example")
    monkeypatch.setenv("TREATMENT_LOCATOR_TIMEOUT", "1.5")
    monkeypatch.setenv("STEADY_TRENDS_DIRECTION_TOTAL_DELTA", "2.5")
    app = app_factory(LOGIN_LIMIT_PER_IP="5 per minute")
    settings = app.extensions["steady.settings"]
    assert isinstance(settings, Settings)
    assert settings.thresholds == Thresholds()
    assert settings.trend_rules == TrendRules(direction_total_delta=2.5)
    assert isinstance(settings.locator, FindTreatmentLocator)
    assert settings.locator.timeout_seconds == 1.5
    assert settings.locator.cache is app.extensions["steady.cache"]
    assert settings.limits["LOGIN_LIMIT_PER_IP"] == "5 per minute"
    assert set(settings.limits) == {
        "CHECKIN_BATCH_LIMIT_PER_USER",
        "EXPORT_LIMIT_PER_USER",
        "LOGIN_FAILURES_PER_ACCOUNT",
        "LOGIN_LIMIT_PER_IP",
        "LOCATOR_LIMIT_PER_IP",
        "REGISTER_LIMIT_PER_IP",
        "RESOURCE_LIMIT_PER_COUNSELOR",
        "SHARE_LIMIT_PER_PATIENT",
    }
    assert settings.fhir_base_url == "https://steady.example/fhir"
    assert settings.access_token_lifetime == timedelta(minutes=60)
    assert app.config["JWT_ACCESS_TOKEN_EXPIRES"] == timedelta(minutes=60)
    assert app.config["JWT_REFRESH_TOKEN_EXPIRES"] == timedelta(days=7)


def test_a_valid_override_takes_effect(app_factory, monkeypatch):
    monkeypatch.setenv("STEADY_JUDGEMENT_SEVERE_SCORE", "8")
    app = app_factory()
    assert app.extensions["steady.settings"].thresholds.severe_score == 8
    with time_machine.travel(datetime(2026, 6, 15, 12, 0, tzinfo=UTC), tick=True):
        factory = Factory(app, app.test_client())
        patient = factory.patient()
        response = factory.client.put(
            f"/api/v1/checkins/{date(2026, 6, 15).isoformat()}",
            json={"nausea": 8, "aches": 0, "anxiety": 0, "insomnia": 0},
            headers=patient.headers,
        )
    assert response.status_code == 201, response.json
    assert response.json["assessment"]["level"] == "severe"


@pytest.mark.parametrize("value", [None, ""])
def test_without_a_locator_url_the_app_starts_and_falls_back(app_factory, monkeypatch, value):
    if value is None:
        monkeypatch.delenv("TREATMENT_LOCATOR_URL", raising=False)
    else:
        monkeypatch.setenv("TREATMENT_LOCATOR_URL", value)
    app = app_factory()
    assert app.extensions["steady.settings"].locator is None
    response = app.test_client().get("/api/v1/resources/treatment?postal_code=62701")
    assert response.status_code == 200
    assert response.json["source"] == "fallback"
