"""Wrong passwords per account: sign-in and re-authentication spend one shared allowance.

POST /auth/login, PATCH /me (current_password) and DELETE /me (password) count against
LOGIN_FAILURES_PER_ACCOUNT under the key ``account:<normalised email>``, in the rate-limit
storage (Redis when configured, so every worker sees the same count).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from limits import parse_many
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, RateLimiter
from werkzeug.exceptions import TooManyRequests

from server.common.cache import OutagePause
from server.common.emails import normalise_email
from server.common.settings import settings

LOCKED = "Too many wrong passwords for this account. Try again later."
# After the shared storage failed, count here this long before trying it again, so a frozen
# Redis costs one storage timeout per interval rather than three per request.
RETRY_SHARED_SECONDS = 10
T = TypeVar("T")


class AccountFailures:
    """The per-account counter; counted in this process while the shared storage fails."""

    def __init__(self, limit: str, storage_uri: str, options: Mapping[str, Any], prefix: str):
        self._items = parse_many(limit)
        self._prefix = prefix
        self._shared = FixedWindowRateLimiter(storage_from_string(storage_uri, **options))
        # Redis must never be required: a dead one costs the shared count, not the limit.
        self._local = FixedWindowRateLimiter(MemoryStorage())
        self._outage = OutagePause("Rate-limit storage", RETRY_SHARED_SECONDS)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], limit: str) -> AccountFailures:
        """Build it on the limiter's storage (RATELIMIT_STORAGE_URI and its options)."""
        return cls(
            limit,
            config["RATELIMIT_STORAGE_URI"],
            config.get("RATELIMIT_STORAGE_OPTIONS") or {},
            str(config.get("RATELIMIT_KEY_PREFIX") or ""),
        )

    def _counted(self, operation: Callable[[RateLimiter], T]) -> T:
        """Run ``operation`` on the shared storage, or in this process when that fails."""
        if self._outage.available:
            try:
                result = operation(self._shared)
            except self._shared.storage.base_exceptions as error:
                self._outage.failed(error)
            else:
                self._outage.answered()
                return result
        return operation(self._local)

    def _keys(self, email: str) -> tuple[str, ...]:
        return (self._prefix, "account-failures", f"account:{normalise_email(email)}")

    def seconds_locked(self, email: str) -> int:
        """Seconds until the account may try a password again; 0 while attempts remain."""
        keys = self._keys(email)

        def resets(strategy: RateLimiter) -> list[float]:
            return [
                strategy.get_window_stats(item, *keys).reset_time
                for item in self._items
                if not strategy.test(item, *keys)
            ]

        times = self._counted(resets)
        return max(1, math.ceil(max(times) - time.time())) if times else 0

    def record(self, email: str) -> int:
        """Count one wrong password; return seconds_locked after it (0: attempts remain)."""
        keys = self._keys(email)
        self._counted(lambda strategy: [strategy.hit(item, *keys) for item in self._items])
        return self.seconds_locked(email)


def refuse_if_locked(email: str) -> None:
    """Answer 429 before any password check when the account has no attempts left."""
    seconds = settings().account_failures.seconds_locked(email)
    if seconds:
        raise too_many(LOCKED, seconds)


def record_failure(email: str) -> int:
    """Count one wrong password; return the seconds the account is now locked (0: not)."""
    return settings().account_failures.record(email)


def too_many(detail: str, seconds: int) -> TooManyRequests:
    """The 429, rendered as problem+json with Retry-After like the limiter's own."""
    return TooManyRequests(detail, retry_after=seconds)
