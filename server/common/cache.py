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


class RedisCache:
    """Redis-backed cache under a key prefix; Redis failures are treated as misses."""

    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX) -> None:
        # Short timeouts: a slow cache must never be slower than the thing it caches.
        self._client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._prefix = prefix

    @property
    def client(self) -> redis.Redis:
        """The underlying redis-py client."""
        return self._client

    def full_key(self, key: str) -> str:
        """Return the Redis key used for a cache key."""
        return self._prefix + key

    def get(self, key: str) -> bytes | None:
        """Return the cached bytes, or None on a miss or a Redis failure."""
        try:
            value = self._client.get(self.full_key(key))
        except (redis.RedisError, OSError) as exc:
            # Keys may derive from postal codes, so only the error type is logged.
            logger.warning("Cache read failed (%s); treating as a miss.", type(exc).__name__)
            return None
        if value is None:
            return None
        return bytes(value)

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        """Store bytes for ttl_seconds; a Redis failure is logged and ignored."""
        if ttl_seconds <= 0:
            return
        try:
            self._client.set(self.full_key(key), value, ex=ttl_seconds)
        except (redis.RedisError, OSError) as exc:
            logger.warning("Cache write failed (%s); continuing without it.", type(exc).__name__)

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()


def cache_from_url(redis_url: str | None) -> MemoryCache | RedisCache:
    """Return a RedisCache when a URL is given, else an in-process MemoryCache."""
    if redis_url:
        return RedisCache(redis_url)
    return MemoryCache()
