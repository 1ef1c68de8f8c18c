"""Configuration classes; the environment picks one and may override a few keys.

Values are kept raw here (environment strings, or whatever a test sets) and are checked
once, at start-up, by ``server.register_settings`` with the helpers below: a bad value
raises ``ConfigError`` naming the environment variable, its value and the rule.
"""

from __future__ import annotations

import math
import os
import re
import secrets
import urllib.parse
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import limits

MIN_SECRET_BYTES = 32
KNOWN_WEAK_SECRETS = {"", "dev", "secret", "changeme", "change-me", "development"}
# Any key can also be set with STEADY_<KEY>; these are read by their own names as well.
ENV_VARIABLES = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "REDIS_URL": "REDIS_URL",
    "TRUSTED_PROXY_COUNT": "TRUSTED_PROXY_COUNT",
    "ACCESS_TOKEN_MINUTES": "ACCESS_TOKEN_MINUTES",
    "REFRESH_TOKEN_DAYS": "REFRESH_TOKEN_DAYS",
    "FHIR_BASE_URL": "FHIR_BASE_URL",
    "TREATMENT_LOCATOR_URL": "TREATMENT_LOCATOR_URL",
    "TREATMENT_LOCATOR_TIMEOUT": "TREATMENT_LOCATOR_TIMEOUT_SECONDS",
    "CORS_ORIGINS": "CORS_ORIGINS",
}
_ENV_VARIABLE_OF_KEY = {key: name for name, key in ENV_VARIABLES.items()}
_WHOLE_NUMBER_RE = re.compile(r"[+-]?[0-9]+")
# A host name (letters, digits, hyphens, dots) or an IPv4 address, as browsers write it in
# Origin (lower case); IPv6 literals are left out because flask-cors reads "[" as a regex.
_ORIGIN_HOST_RE = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")
DEFAULT_PORTS = {"http": 80, "https": 443}


class ConfigError(RuntimeError):
    """A setting is invalid, so the app refuses to start; the message names the variable."""


class Config:
    """Settings shared by every environment; secrets come from the environment."""

    ENV_NAME = "base"
    SECRET_KEY = os.environ.get("SECRET_KEY")
    JWT_SECRET_KEY = os.environ.get("JWT_SECRET_KEY")
    # Defaults; the variables in ENV_VARIABLES replace them when a config is instantiated.
    SQLALCHEMY_DATABASE_URI = "sqlite:///steady.db"
    REDIS_URL = None
    # Number of proxies in front of the app whose X-Forwarded-For can be trusted.
    TRUSTED_PROXY_COUNT = 0
    SQLITE_BUSY_TIMEOUT_MS = 5_000
    DATABASE_CONNECT_TIMEOUT_SECONDS = 3
    DATABASE_STATEMENT_TIMEOUT_MS = 5_000

    JWT_TOKEN_LOCATION = ["headers"]
    ACCESS_TOKEN_MINUTES = 15
    REFRESH_TOKEN_DAYS = 30
    # None: derived at start-up from ACCESS_TOKEN_MINUTES / REFRESH_TOKEN_DAYS. Set one to a
    # timedelta (or seconds) to override.
    JWT_ACCESS_TOKEN_EXPIRES: timedelta | None = None
    JWT_REFRESH_TOKEN_EXPIRES: timedelta | None = None
    JWT_ALGORITHM = "HS256"
    JWT_DECODE_ALGORITHMS = ["HS256"]
    JWT_ENCODE_ISSUER = JWT_DECODE_ISSUER = "steady"
    JWT_ENCODE_AUDIENCE = JWT_DECODE_AUDIENCE = "steady-mobile"

    # A check-in with a long note is < 3 KB; 64 KB leaves room without inviting abuse.
    MAX_CONTENT_LENGTH = 64 * 1024
    # Strict-Transport-Security max-age on every response; 0 (no header) unless the
    # deployment is served over HTTPS only.
    HSTS_MAX_AGE_SECONDS = 0

    # argon2id, argon2-cffi's RFC 9106 low-memory profile (above the ASVS minima).
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4

    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_KEY_PREFIX = "steady"
    # Redis is optional at run time: when it is down or hung, limits are kept in this
    # process's memory and go back to Redis once it answers again. Every Redis call gives
    # up after half a second, and a failed deduction never fails the request.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
    RATELIMIT_SWALLOW_ERRORS = True
    LOGIN_LIMIT_PER_IP = "30 per minute"
    LOGIN_FAILURES_PER_ACCOUNT = "10 per 15 minutes;100 per hour"
    REGISTER_LIMIT_PER_IP = "20 per hour"
    EXPORT_LIMIT_PER_USER = "30 per hour"
    # One export in flight per person; a lease not released (a killed worker) lapses after
    # this long, and a running download renews it.
    EXPORT_LEASE_SECONDS = 60
    # Year-long PDFs rendering at once in one process; more get a 503 so probes stay fast.
    PDF_RENDERS_PER_PROCESS = 2
    # Every attempt counts (also refused ones: they would probe which emails are counselors).
    SHARE_LIMIT_PER_PATIENT = "20 per day"
    RESOURCE_LIMIT_PER_COUNSELOR = "50 per day"
    LOCATOR_LIMIT_PER_IP = "60 per minute"
    # Offline sync: batches of up to 60 queued days per patient, and bodies big enough for
    # 60 days with the longest notes (even with every character \u-escaped).
    CHECKIN_BATCH_LIMIT_PER_USER = "30 per hour"
    CHECKIN_BATCH_MAX_BYTES = 2 * 1024 * 1024
    # Deleted days stay in the changes feed this long (at least 90) before
    # `flask prune-tombstones` forgets them; older cursors get 410 and resync.
    CHECKIN_TOMBSTONE_DAYS = 90
    FHIR_BASE_URL = "https://steady.example/fhir"

    # Treatment locator (FindTreatment.gov shape); unset means "fallback only".
    TREATMENT_LOCATOR_URL = None
    TREATMENT_LOCATOR_TIMEOUT_SECONDS = 3.0
    TREATMENT_LOCATOR_CACHE_SECONDS = 24 * 3600
    # Circuit breaker: this many failures in a row answer the fallback at once for a while.
    TREATMENT_LOCATOR_BREAKER_FAILURES = 5
    TREATMENT_LOCATOR_BREAKER_SECONDS = 60

    # Counselor dashboard (server/dashboard): a browser sign-in ends after this long without
    # a request, and this long after it began whatever happens.
    DASHBOARD_IDLE_MINUTES = 30
    DASHBOARD_SESSION_HOURS = 8
    # Flask's session cookie carries only the dashboard's sign-in; the API never reads it.
    SESSION_COOKIE_NAME = "steady_dashboard"
    SESSION_COOKIE_PATH = "/dashboard"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    # Flask-WTF checks CSRF tokens on the dashboard's forms only (the API takes bearer
    # tokens, never cookies); a token lives as long as the sign-in it belongs to.
    WTF_CSRF_CHECK_DEFAULT = False
    WTF_CSRF_TIME_LIMIT = None

    API_TITLE = "Steady API"
    API_VERSION = "1.0.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    # /api/v1/docs is served by server.apidocs from vendored Swagger UI files; with no
    # OPENAPI_SWAGGER_UI_URL flask-smorest adds no page of its own (it loads from a CDN).
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = None
    PROBLEM_TYPE_BASE = "urn:steady:problem:"
    # Browser origins allowed to call the API (comma-separated exact origins); unset or
    # empty means no CORS at all, which is all the phone apps need.
    CORS_ORIGINS = None

    def __init__(self) -> None:
        """Read the environment now, not at import, keeping the raw strings for validation."""
        for name, key in ENV_VARIABLES.items():
            value = os.environ.get(name)
            if value is not None:
                setattr(self, key, value)

    @property
    def RATELIMIT_STORAGE_URI(self) -> str:  # noqa: N802 (Flask config key)
        """Share limits across workers through Redis when it is configured."""
        return self.REDIS_URL or "memory://"

    def prepare(self, instance_path: str) -> None:
        """Check or fill in secrets before the app starts."""


class DevelopmentConfig(Config):
    """Local development: secrets are generated once and kept in instance/."""

    ENV_NAME = "development"

    def prepare(self, instance_path: str) -> None:
        """Generate a development secret that survives restarts."""
        secret_file = Path(instance_path) / "dev-secret-key"
        if not secret_file.exists():
            secret_file.write_text(secrets.token_hex(32))
            secret_file.chmod(0o600)
        secret = secret_file.read_text().strip()
        self.SECRET_KEY = self.SECRET_KEY or secret
        self.JWT_SECRET_KEY = self.JWT_SECRET_KEY or secret


class ProductionConfig(Config):
    """Production: refuses to start without strong secrets."""

    ENV_NAME = "production"
    # Browsers send the dashboard's cookie over HTTPS only.
    SESSION_COOKIE_SECURE = True

    def prepare(self, instance_path: str) -> None:
        """Fail fast on a missing, default or short secret."""
        for name in ("SECRET_KEY", "JWT_SECRET_KEY"):
            value = getattr(self, name) or ""
            if value.lower() in KNOWN_WEAK_SECRETS or len(value.encode()) < MIN_SECRET_BYTES:
                raise RuntimeError(
                    f"{name} must be set to a random value of at least "
                    f"{MIN_SECRET_BYTES} bytes in production"
                )


class TestConfig(Config):
    """Tests: cheap hashing, generous limits, real databases."""

    ENV_NAME = "test"
    TESTING = True
    # Any request that writes on SQLite without begin_write() fails loudly in tests.
    SQLITE_STRICT_WRITES = True
    SECRET_KEY = JWT_SECRET_KEY = "test-secret-" + "x" * 40
    SQLALCHEMY_DATABASE_URI = "sqlite:///test.db"
    # Fast hashing keeps the suite quick; production parameters are tested separately.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8
    ARGON2_PARALLELISM = 1
    LOGIN_LIMIT_PER_IP = "10000 per minute"
    LOGIN_FAILURES_PER_ACCOUNT = "10000 per minute"
    REGISTER_LIMIT_PER_IP = "10000 per minute"
    EXPORT_LIMIT_PER_USER = "10000 per minute"
    SHARE_LIMIT_PER_PATIENT = "10000 per minute"
    RESOURCE_LIMIT_PER_COUNSELOR = "10000 per minute"
    LOCATOR_LIMIT_PER_IP = "10000 per minute"
    CHECKIN_BATCH_LIMIT_PER_USER = "10000 per minute"


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "test": TestConfig,
}


def config_from_env() -> Config:
    """Pick the configuration named by STEADY_ENV (default development)."""
    name = os.environ.get("STEADY_ENV", "development")
    if name not in CONFIGS:
        raise ConfigError(
            f"Invalid setting STEADY_ENV={name!r}: must be one of {sorted(CONFIGS)}."
        )
    return CONFIGS[name]()


# --- Start-up validation -------------------------------------------------------------------


def env_variable(key: str) -> str:
    """Return the environment variable that sets config ``key``, for error messages."""
    prefixed = f"STEADY_{key}"
    if prefixed in os.environ or key not in _ENV_VARIABLE_OF_KEY:
        return prefixed
    return _ENV_VARIABLE_OF_KEY[key]


def refused(key: str, value: Any, rule: str) -> ConfigError:
    """Return the error for a bad value: the variable, the value and the rule it breaks."""
    return ConfigError(f"Invalid setting {env_variable(key)}={value!r}: {rule}.")


def _whole_number(value: Any) -> int | None:
    """Return an int given as int or decimal text; None for anything else (bools, 9.5)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _WHOLE_NUMBER_RE.fullmatch(value.strip()):
        return int(value)
    return None


def finite_number(value: Any) -> float | None:
    """Return a finite float given as int, float or numeric text; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def int_setting(config: Mapping[str, Any], key: str, *, default: int, low: int, high: int) -> int:
    """Return ``config[key]`` as an int in [low, high]; missing or None gives ``default``."""
    value = config.get(key)
    if value is None:
        return default
    number = _whole_number(value)
    if number is None or not low <= number <= high:
        raise refused(key, value, f"must be a whole number from {low} to {high}")
    return number


def float_setting(
    config: Mapping[str, Any],
    key: str,
    *,
    default: float,
    low: float,
    high: float,
    above_low: bool = False,
) -> float:
    """Return ``config[key]`` as a float in [low, high] (or (low, high] with ``above_low``)."""
    value = config.get(key)
    if value is None:
        return float(default)
    number = finite_number(value)
    if number is None or (number <= low if above_low else number < low) or number > high:
        bounds = (
            f"above {low:g} and at most {high:g}" if above_low else f"from {low:g} to {high:g}"
        )
        raise refused(key, value, f"must be a number {bounds}")
    return number


def url_setting(config: Mapping[str, Any], key: str, *, optional: bool = False) -> str | None:
    """Return an absolute http(s) URL with a host; unset or empty gives None if ``optional``."""
    value = config.get(key)
    if optional and (value is None or value == ""):
        return None
    rule = "must be an http(s) URL with a host and no query, e.g. https://example.org/path"
    if optional:
        rule = "must be unset (empty) or " + rule.removeprefix("must be ")
    if not isinstance(value, str) or value != value.strip() or " " in value:
        raise refused(key, value, rule)
    try:
        parsed = urllib.parse.urlsplit(value)
        parsed.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        raise refused(key, value, rule) from None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise refused(key, value, rule)
    if parsed.query or parsed.fragment:
        raise refused(key, value, rule)
    return value


def _origin(item: str, *, loopback_http: bool) -> str | None:
    """Return ``item`` as the exact origin a browser sends (lower case), or None."""
    try:
        parsed = urllib.parse.urlsplit(item.lower())
        port = parsed.port
    except ValueError:
        return None
    host = parsed.hostname or ""
    # Browsers leave the default port out, so an origin naming it would never match.
    netloc = host if port is None or port == DEFAULT_PORTS.get(parsed.scheme) else f"{host}:{port}"
    origin = f"{parsed.scheme}://{netloc}"
    if item.lower() != origin or not _ORIGIN_HOST_RE.fullmatch(host) or port == 0:
        return None  # a path, query, credentials, a stray character or a default port
    if parsed.scheme == "https" or (
        loopback_http and parsed.scheme == "http" and host in LOOPBACK_HOSTS
    ):
        return origin
    return None


def origins_setting(config: Mapping[str, Any], key: str, *, production: bool) -> tuple[str, ...]:
    """Return the allowed browser origins: a comma-separated text (or a list) of exact origins.

    Each is ``https://host[:port]``; outside production also ``http://localhost[:port]`` or
    ``http://127.0.0.1[:port]`` for a dashboard under development. Unset or empty: none.
    """
    value = config.get(key)
    if value is None or value == "":
        return ()
    rule = (
        "must be exact origins separated by commas, each https://host[:port] with no path, "
        "wildcard or default port"
    )
    if not production:
        rule += " (or http://localhost[:port] or http://127.0.0.1[:port] outside production)"
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise refused(key, value, rule)
    origins = []
    for item in items:
        origin = (
            _origin(item.strip(), loopback_http=not production) if isinstance(item, str) else None
        )
        if origin is None:
            raise refused(key, value, f"{rule}; {item!r} is not")
        origins.append(origin)
    return tuple(dict.fromkeys(origins))


def limit_setting(config: Mapping[str, Any], key: str) -> str:
    """Return a rate-limit string that Flask-Limiter can parse, each limit allowing >= 1."""
    value = config.get(key)
    rule = (
        'must be one or more rate limits such as "30 per minute" or '
        '"10 per 15 minutes;100 per hour", each allowing at least 1 request'
    )
    if not isinstance(value, str) or not value.strip():
        raise refused(key, value, rule)
    try:
        parsed = limits.parse_many(value)
    except ValueError:
        raise refused(key, value, rule) from None
    if not parsed or any(item.amount < 1 for item in parsed):
        raise refused(key, value, rule)
    return value


def duration_setting(config: Mapping[str, Any], key: str, *, high: timedelta) -> timedelta:
    """Return a timedelta (given as one, or as seconds) above zero and at most ``high``."""
    value = config.get(key)
    if isinstance(value, timedelta):
        duration = value
    else:
        seconds = finite_number(value)
        duration = None if seconds is None else timedelta(seconds=seconds)
    if duration is None or not timedelta(0) < duration <= high:
        rule = f"must be a duration (timedelta or seconds) above 0 and at most {high}"
        raise refused(key, value, rule)
    return duration


def check_shared_rate_limits(config: Mapping[str, Any], environ: Mapping[str, str]) -> None:
    """Refuse several gunicorn workers that would each count rate limits in their own memory.

    gunicorn.conf.py exports gunicorn's worker count as STEADY_SERVER_WORKERS. A production app
    under a gunicorn started without that file cannot know the count, so it refuses as well.
    """
    if not str(config.get("RATELIMIT_STORAGE_URI") or "memory://").startswith("memory://"):
        return
    if config.get("SERVER_WORKERS") is None:
        under_gunicorn = environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/")
        if under_gunicorn and config.get("ENV_NAME") == "production":
            raise ConfigError(
                "gunicorn was started without gunicorn.conf.py, so its number of workers is "
                "unknown and rate limits are kept in each worker's memory: set REDIS_URL to "
                "share them, or start gunicorn with -c gunicorn.conf.py (one worker without it)."
            )
        return
    workers = int_setting(config, "SERVER_WORKERS", default=1, low=1, high=1024)
    if workers > 1:
        raise ConfigError(
            f"gunicorn runs {workers} workers (-w / WEB_CONCURRENCY) but rate limits are kept in "
            "each worker's memory, so every limit would be multiplied: set REDIS_URL to share "
            "them, or run one worker."
        )
