"""A tiny byte cache: in-process memory or Redis, both best-effort."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

import redis

logger = logging.getLogger(__name__)

DEFAULT_MAX_ENTRIES = 512
DEFAULT_PREFIX = "steady:cache:"


class Cache(Protocol):
    """The two operations every cache backend offers."""

    def get(self, key: str) -> bytes | None:
        """Return the cached bytes, or None on a miss."""
        ...

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        """Store bytes for ttl_seconds."""
        ...


class MemoryCache:
    """Thread-safe in-process cache with a TTL per key and a bounded size."""

    def __init__(
        self,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        # Insertion order doubles as age order, so the first item is always the oldest.
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def get(self, key: str) -> bytes | None:
        """Return the cached bytes, or None when absent or expired."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires_at, value = entry
            if self._clock() >= expires_at:
                del self._entries[key]
                return None
            return value

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        """Store bytes for ttl_seconds, evicting the oldest entries when full."""
        if ttl_seconds <= 0:
            # Redis rejects a non-positive expiry; mirror that by simply not storing.
            return
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = (self._clock() + ttl_seconds, bytes(value))
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


REDIS_TIMEOUT_SECONDS = 0.5
# After a failure the cache is skipped for this long, so an outage costs one timeout per
# pause instead of one per request (and one warning per outage instead of one per call).
OUTAGE_PAUSE_SECONDS = 5.0


class OutagePause:
    """Sit out a failing dependency for a while after each failure; one warning per outage."""

    def __init__(
        self, what: str, pause_seconds: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._what = what
        self._pause = pause_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._down_until: float | None = None  # set while an outage is being sat out

    @property
    def available(self) -> bool:
        """False while an outage is being sat out."""
        down_until = self._down_until
        return down_until is None or self._clock() >= down_until

    def failed(self, error: Exception) -> None:
        """Note a failure: skip the dependency for the pause (warn when an outage starts)."""
        with self._lock:
            first = self._down_until is None
            self._down_until = self._clock() + self._pause
        if first:
            # Only the error type: keys and messages may carry request data.
            logger.warning(
                "%s unreachable (%s); skipping it until it answers again.",
                self._what,
                type(error).__name__,
            )

    def answered(self) -> None:
        """Note a success: the outage, if any, is over."""
        if self._down_until is not None:
            with self._lock:
                self._down_until = None
            logger.warning("%s answers again; using it.", self._what)


class RedisCache:
    """Redis-backed cache under a key prefix; while Redis fails, every call is a miss."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # Short timeouts: a slow cache must never be slower than the thing it caches.
        self._client = redis.Redis.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
        self._prefix = prefix
        self._outage = OutagePause("Redis cache", OUTAGE_PAUSE_SECONDS, clock=clock)

    @property
    def client(self) -> redis.Redis:
        """The underlying redis-py client."""
        return self._client

    def full_key(self, key: str) -> str:
        """Return the Redis key used for a cache key."""
        return self._prefix + key

    @property
    def available(self) -> bool:
        """False while an outage is being sat out (the cache is skipped)."""
        return self._outage.available

    def get(self, key: str) -> bytes | None:
        """Return the cached bytes, or None on a miss or while Redis fails."""
        if not self.available:
            return None
        try:
            value = self._client.get(self.full_key(key))
        except (redis.RedisError, OSError) as exc:
            self._outage.failed(exc)
            return None
        self._outage.answered()
        return None if value is None else bytes(value)

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        """Store bytes for ttl_seconds; skipped while Redis fails."""
        if ttl_seconds <= 0 or not self.available:
            return
        try:
            self._client.set(self.full_key(key), value, ex=ttl_seconds)
        except (redis.RedisError, OSError) as exc:
            self._outage.failed(exc)
            return
        self._outage.answered()

    def ping(self) -> bool:
        """Tell whether Redis answers now (within the short timeout)."""
        try:
            self._client.ping()
        except (redis.RedisError, OSError) as exc:
            self._outage.failed(exc)
            return False
        self._outage.answered()
        return True

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()


def cache_from_url(redis_url: str | None) -> MemoryCache | RedisCache:
    """Return a RedisCache when a URL is given, else an in-process MemoryCache."""
    if redis_url:
        return RedisCache(redis_url)
    return MemoryCache()
