"""The shared cache: MemoryCache logic and RedisCache against a real Redis."""

import logging
import os
import threading
import time
import uuid

import pytest

from server.common.cache import (
    OUTAGE_PAUSE_SECONDS,
    REDIS_TIMEOUT_SECONDS,
    MemoryCache,
    RedisCache,
    cache_from_url,
)
from tests.services import PrivateRedis

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
DEAD_REDIS_URL = "redis://127.0.0.1:1/0"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def prefix() -> str:
    return f"steady-test:cache:{uuid.uuid4().hex}:"


@pytest.fixture
def redis_cache(prefix):
    cache = RedisCache(REDIS_URL, prefix=prefix)
    yield cache
    for key in cache.client.scan_iter(match=prefix + "*"):
        cache.client.delete(key)
    cache.close()


# --- MemoryCache ---------------------------------------------------------------------------


def test_memory_round_trip_and_miss():
    cache = MemoryCache()
    assert cache.get("absent") is None
    cache.set("k", b"value", 60)
    assert cache.get("k") == b"value"


def test_memory_entries_expire_by_the_injected_clock():
    clock = FakeClock()
    cache = MemoryCache(clock=clock)
    cache.set("k", b"v", 10)
    clock.now += 9.9
    assert cache.get("k") == b"v"
    clock.now += 0.1
    assert cache.get("k") is None
    # An expired entry is dropped, not just hidden.
    assert len(cache) == 0


def test_memory_overwrite_resets_ttl():
    clock = FakeClock()
    cache = MemoryCache(clock=clock)
    cache.set("k", b"old", 10)
    clock.now += 8
    cache.set("k", b"new", 10)
    clock.now += 8
    assert cache.get("k") == b"new"


def test_memory_evicts_oldest_when_full():
    cache = MemoryCache(max_entries=3)
    for name in ("a", "b", "c"):
        cache.set(name, name.encode(), 60)
    cache.set("d", b"d", 60)
    assert len(cache) == 3
    assert cache.get("a") is None
    assert [cache.get(name) for name in ("b", "c", "d")] == [b"b", b"c", b"d"]


def test_memory_rewriting_a_key_makes_it_newest():
    cache = MemoryCache(max_entries=2)
    cache.set("a", b"1", 60)
    cache.set("b", b"2", 60)
    cache.set("a", b"3", 60)
    cache.set("c", b"4", 60)
    assert cache.get("b") is None
    assert cache.get("a") == b"3"
    assert cache.get("c") == b"4"


def test_memory_default_bound_is_512():
    cache = MemoryCache()
    for index in range(600):
        cache.set(str(index), b"x", 60)
    assert len(cache) == 512
    assert cache.get("0") is None
    assert cache.get("599") == b"x"


def test_memory_non_positive_ttl_is_not_stored():
    cache = MemoryCache()
    cache.set("k", b"v", 0)
    assert cache.get("k") is None


def test_memory_rejects_zero_capacity():
    with pytest.raises(ValueError):
        MemoryCache(max_entries=0)


def test_memory_is_safe_under_concurrent_writers():
    cache = MemoryCache(max_entries=50)

    def writer(worker: int) -> None:
        for index in range(500):
            cache.set(f"{worker}-{index}", b"x", 60)
            cache.get(f"{worker}-{index - 1}")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache) == 50


# --- RedisCache (real Redis) ---------------------------------------------------------------


def test_redis_round_trip(redis_cache):
    assert redis_cache.get("k") is None
    redis_cache.set("k", b"\x00binary\xff", 60)
    assert redis_cache.get("k") == b"\x00binary\xff"


def test_redis_sets_the_ttl(redis_cache, prefix):
    redis_cache.set("k", b"v", 120)
    ttl = redis_cache.client.ttl(prefix + "k")
    assert 0 < ttl <= 120


def test_redis_entries_expire(redis_cache):
    redis_cache.set("k", b"v", 1)
    time.sleep(1.1)
    assert redis_cache.get("k") is None


def test_redis_keys_live_under_the_prefix(redis_cache, prefix):
    redis_cache.set("k", b"v", 60)
    assert redis_cache.client.get(prefix + "k") == b"v"
    assert redis_cache.client.get("k") is None


def test_redis_prefixes_isolate_caches(redis_cache):
    other = RedisCache(REDIS_URL, prefix=f"steady-test:cache:{uuid.uuid4().hex}:")
    try:
        redis_cache.set("shared", b"mine", 60)
        assert other.get("shared") is None
        other.set("shared", b"theirs", 60)
        assert redis_cache.get("shared") == b"mine"
        assert other.get("shared") == b"theirs"
    finally:
        other.client.delete(other.full_key("shared"))
        other.close()


def test_redis_down_is_a_miss_not_an_error_and_one_warning(caplog):
    cache = RedisCache(DEAD_REDIS_URL)
    secret_key = "postcode-90210"
    try:
        with caplog.at_level(logging.WARNING, logger="server.common.cache"):
            cache.set(secret_key, b"v", 60)
            for _ in range(5):
                assert cache.get(secret_key) is None
    finally:
        cache.close()
    assert len(caplog.records) == 1  # one line per outage, not per call
    # Keys may be derived from postal codes: they never reach the logs.
    assert "90210" not in caplog.text
    assert "postcode" not in caplog.text


def test_cache_from_url_picks_the_backend():
    assert isinstance(cache_from_url(None), MemoryCache)
    assert isinstance(cache_from_url(""), MemoryCache)
    redis_backed = cache_from_url(REDIS_URL)
    try:
        assert isinstance(redis_backed, RedisCache)
    finally:
        redis_backed.close()


def test_an_outage_is_sat_out_then_redis_is_used_again(caplog):
    server = PrivateRedis()
    server.start()
    clock = FakeClock()
    cache = RedisCache(server.url, clock=clock)
    try:
        cache.set("k", b"before", 60)
        server.freeze()  # a hung Redis: each call would wait for the timeout
        with caplog.at_level(logging.WARNING, logger="server.common.cache"):
            assert cache.get("k") is None  # one timeout...
            assert not cache.available
            started = time.monotonic()
            for _ in range(20):
                assert cache.get("k") is None  # ...then skipped without waiting
                cache.set("k", b"during", 60)
            assert time.monotonic() - started < REDIS_TIMEOUT_SECONDS
            server.thaw()
            clock.now += OUTAGE_PAUSE_SECONDS
            assert cache.available
            assert cache.get("k") == b"before"  # the skipped write never happened
        messages = [record.getMessage() for record in caplog.records]
        assert len(messages) == 2 and "answers again" in messages[1], messages
    finally:
        server.thaw()
        cache.close()
        server.stop()
