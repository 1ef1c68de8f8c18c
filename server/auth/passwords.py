"""argon2id password hashing with parameters from config."""

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    """Build (once per parameter set) an argon2id hasher."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def _current_hasher() -> PasswordHasher:
    """Return the hasher configured for this app."""
    config = current_app.config
    return _hasher(
        config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_COST"], config["ARGON2_PARALLELISM"]
    )


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    """Hash a throwaway value so unknown emails cost as much as known ones."""
    return hasher.hash("steady-timing-equaliser")


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _current_hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check a password in constant work whether or not the account exists."""
    hasher = _current_hasher()
    try:
        return hasher.verify(stored_hash or _dummy_hash(hasher), password) and bool(stored_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Tell whether a stored hash uses outdated parameters."""
    return _current_hasher().check_needs_rehash(stored_hash)
