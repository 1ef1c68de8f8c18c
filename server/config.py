"""Configuration classes; the environment picks one and may override a few keys."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

MIN_SECRET_BYTES = 32
KNOWN_WEAK_SECRETS = {"", "dev", "secret", "changeme", "change-me", "development"}


class Config:
    """Settings shared by every environment; secrets come from the environment."""

    ENV_NAME = "base"
    SECRET_KEY = os.environ.get("SECRET_KEY")
    JWT_SECRET_KEY = os.environ.get("JWT_SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "sqlite:///steady.db")
    REDIS_URL = os.environ.get("REDIS_URL")
    # Number of proxies in front of the app whose X-Forwarded-For can be trusted.
    TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
    SQLITE_BUSY_TIMEOUT_MS = 10_000

    JWT_TOKEN_LOCATION = ["headers"]
    JWT_ACCESS_TOKEN_EXPIRES = timedelta(minutes=int(os.environ.get("ACCESS_TOKEN_MINUTES", "15")))
    JWT_REFRESH_TOKEN_EXPIRES = timedelta(days=int(os.environ.get("REFRESH_TOKEN_DAYS", "30")))
    JWT_ALGORITHM = "HS256"
    JWT_DECODE_ALGORITHMS = ["HS256"]
    JWT_ENCODE_ISSUER = JWT_DECODE_ISSUER = "steady"
    JWT_ENCODE_AUDIENCE = JWT_DECODE_AUDIENCE = "steady-mobile"

    # A check-in with a long note is < 3 KB; 64 KB leaves room without inviting abuse.
    MAX_CONTENT_LENGTH = 64 * 1024

    # argon2id, argon2-cffi's RFC 9106 low-memory profile (above the ASVS minima).
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4

    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_KEY_PREFIX = "steady"
    LOGIN_LIMIT_PER_IP = "30 per minute"
    LOGIN_FAILURES_PER_ACCOUNT = "10 per 15 minutes;100 per hour"
    REGISTER_LIMIT_PER_IP = "20 per hour"
    EXPORT_LIMIT_PER_USER = "30 per hour"
    FHIR_BASE_URL = os.environ.get("FHIR_BASE_URL", "https://steady.example/fhir")

    # Treatment locator (FindTreatment.gov shape); unset means "fallback only".
    TREATMENT_LOCATOR_URL = os.environ.get("TREATMENT_LOCATOR_URL")
    TREATMENT_LOCATOR_TIMEOUT_SECONDS = float(os.environ.get("TREATMENT_LOCATOR_TIMEOUT", "3"))
    TREATMENT_LOCATOR_CACHE_SECONDS = 24 * 3600

    API_TITLE = "Steady API"
    API_VERSION = "1.0.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/"
    PROBLEM_TYPE_BASE = "urn:steady:problem:"

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
    SECRET_KEY = JWT_SECRET_KEY = "test-secret-" + "x" * 40
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "sqlite:///test.db")
    # Fast hashing keeps the suite quick; production parameters are tested separately.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8
    ARGON2_PARALLELISM = 1
    LOGIN_LIMIT_PER_IP = "10000 per minute"
    LOGIN_FAILURES_PER_ACCOUNT = "10000 per minute"
    REGISTER_LIMIT_PER_IP = "10000 per minute"
    EXPORT_LIMIT_PER_USER = "10000 per minute"


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "test": TestConfig,
}


def config_from_env() -> Config:
    """Pick the configuration named by STEADY_ENV (default development)."""
    name = os.environ.get("STEADY_ENV", "development")
    try:
        return CONFIGS[name]()
    except KeyError:
        raise RuntimeError(f"STEADY_ENV must be one of {sorted(CONFIGS)}") from None
