"""Passwords are argon2id at ASVS strength, and old hashes are upgraded on sign-in."""

from argon2 import extract_parameters
from sqlalchemy import select

from server.auth.models import User
from server.config import Config
from server.extensions import db
from tests.factories import PASSWORD


def test_production_parameters_meet_asvs_minimums(app_factory):
    app = app_factory(
        ARGON2_TIME_COST=Config.ARGON2_TIME_COST,
        ARGON2_MEMORY_COST=Config.ARGON2_MEMORY_COST,
        ARGON2_PARALLELISM=Config.ARGON2_PARALLELISM,
    )
    from server.auth.passwords import hash_password

    with app.app_context():
        stored = hash_password("a real password")
    params = extract_parameters(stored)
    assert stored.startswith("$argon2id$")
    # ASVS 5.0 appendix: t>=3 needs m >= 12 MiB (t=1: 46 MiB).
    assert params.time_cost >= 3 and params.memory_cost >= 12 * 1024


def test_weaker_hash_is_upgraded_at_next_sign_in(app_factory):
    weak_app = app_factory()
    weak_app.test_client().post(
        "/api/v1/auth/register",
        json={
            "email": "up@example.org",
            "password": PASSWORD,
            "role": "patient",
            "display_name": "U",
        },
    )
    strong_app = app_factory(ARGON2_TIME_COST=2, ARGON2_MEMORY_COST=16, ARGON2_PARALLELISM=1)
    response = strong_app.test_client().post(
        "/api/v1/auth/login", json={"email": "up@example.org", "password": PASSWORD}
    )
    assert response.status_code == 200
    with strong_app.app_context():
        stored = db.session.scalar(select(User.password_hash))
    assert extract_parameters(stored).time_cost == 2
