"""Wrong passwords per account: sign-in and re-authentication spend one shared allowance.

POST /auth/login, PATCH /me (current_password) and DELETE /me (password) count against
LOGIN_FAILURES_PER_ACCOUNT under the key ``account:<normalised email>``, in the rate-limit
storage (Redis when configured, so every worker sees the same count).
"""

import math
import time

from limits import parse_many
from werkzeug.exceptions import TooManyRequests

from server.common.emails import normalise_email
from server.common.settings import settings
from server.extensions import limiter

SCOPE = "account-failures"
LOCKED = "Too many wrong passwords for this account. Try again later."


def _windows(email: str):
    """The account's limits and the storage identifiers of its counter."""
    current = settings()
    items = parse_many(current.limits["LOGIN_FAILURES_PER_ACCOUNT"])
    return items, (current.rate_limit_prefix, SCOPE, f"account:{normalise_email(email)}")


def seconds_locked(email: str) -> int:
    """Seconds until the account may try a password again; 0 while attempts remain."""
    items, keys = _windows(email)
    strategy = limiter.limiter
    resets = [
        strategy.get_window_stats(item, *keys).reset_time
        for item in items
        if not strategy.test(item, *keys)
    ]
    return max(1, math.ceil(max(resets) - time.time())) if resets else 0


def refuse_if_locked(email: str) -> None:
    """Answer 429 before any password check when the account has no attempts left."""
    seconds = seconds_locked(email)
    if seconds:
        raise too_many(LOCKED, seconds)


def record_failure(email: str) -> int:
    """Count one wrong password; return seconds_locked after it (0: attempts remain)."""
    items, keys = _windows(email)
    for item in items:
        limiter.limiter.hit(item, *keys)
    return seconds_locked(email)


def too_many(detail: str, seconds: int) -> TooManyRequests:
    """The 429, rendered as problem+json with Retry-After like the limiter's own."""
    return TooManyRequests(detail, retry_after=seconds)
