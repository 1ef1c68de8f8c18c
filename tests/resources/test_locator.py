"""The FindTreatment.gov locator adapter against a local fake upstream server."""

import json
import os
import socket
import threading
import time
import uuid
from datetime import UTC, datetime

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from server.common.cache import MemoryCache, RedisCache
from server.resources.locator import (
    MAX_RESPONSE_BYTES,
    RADIUS_BUCKETS,
    Facility,
    FindTreatmentLocator,
    LocatorError,
    deep_link,
    locator_from_config,
    miles_to_metres,
    radius_bucket,
)
from tests.fakes import (
    ROW_FULL,
    ROW_MINIMAL,
    SEARCH_PATH,
    FakeFindTreatment,
    Reply,
    payload,
)

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


class RecordingCache(MemoryCache):
    def __init__(self) -> None:
        super().__init__()
        self.keys: list[str] = []
        self.values: list[bytes] = []

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        self.keys.append(key)
        self.values.append(value)
        super().set(key, value, ttl_seconds)


@pytest.fixture
def upstream():
    with FakeFindTreatment() as server:
        yield server


@pytest.fixture
def cache() -> RecordingCache:
    return RecordingCache()


@pytest.fixture
def locator(upstream, cache) -> FindTreatmentLocator:
    return FindTreatmentLocator(upstream.base_url, timeout_seconds=2.0, cache=cache)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- a normal search -----------------------------------------------------------------------


def test_search_parses_facilities(locator):
    facilities = locator.search("62701", 25)

    assert facilities == [
        Facility(
            name="Riverside Recovery Center — Outpatient Program",
            address="12 River Rd, Suite 4, Springfield, IL 62701",
            phone="217-555-0100",
            website="https://riverside.example.org",
            distance_miles=1.8,
            services=("Substance use treatment; Detoxification", "Buprenorphine; Naltrexone"),
        ),
        Facility(
            name="Hilltop Clinic",
            address="Chatham, IL",
            phone=None,
            website=None,
            distance_miles=6.25,
            services=(),
        ),
    ]


def test_search_sends_the_locator_query(locator, upstream):
    locator.search(" 62701 ", 25)

    [seen] = upstream.searches()
    assert seen.query == {
        "sAddr": ["62701"],
        "sType": ["SA"],
        "limitType": ["2"],
        "limitValue": ["40234"],
        "pageSize": ["20"],
        "page": ["1"],
        "sort": ["0"],
    }
    assert seen.headers["Accept"] == "application/json"
    assert seen.headers["User-Agent"] == "Steady/1.0"


def test_page_size_is_configurable(upstream):
    FindTreatmentLocator(upstream.base_url, page_size=5).search("62701", 10)
    assert upstream.searches()[0].query["pageSize"] == ["5"]


def test_base_url_trailing_slash_is_tolerated(upstream):
    FindTreatmentLocator(upstream.base_url + "/").search("62701", 10)
    assert len(upstream.searches()) == 1


@pytest.mark.parametrize(("miles", "metres"), [(1, 1609), (5, 8047), (25, 40234), (500, 804672)])
def test_miles_to_metres(miles, metres):
    assert miles_to_metres(miles) == metres


def test_empty_rows_is_an_empty_answer(locator, upstream):
    upstream.reply = Reply(body=payload())
    assert locator.search("62701", 25) == []


# --- caching -------------------------------------------------------------------------------


def test_identical_search_is_served_from_cache(locator, upstream):
    first = locator.search("62701", 25)
    second = locator.search("62701", 25)

    assert second == first
    assert len(upstream.searches()) == 1


def test_cache_ignores_case_and_spacing_of_the_postal_code(upstream, cache):
    locator = FindTreatmentLocator(upstream.base_url, cache=cache)
    locator.search("sw1a  1aa", 25)
    locator.search("SW1A 1AA", 25)
    assert len(upstream.searches()) == 1


def test_different_postal_code_misses_the_cache(locator, upstream):
    locator.search("62701", 25)
    locator.search("62702", 25)
    assert [seen.query["sAddr"] for seen in upstream.searches()] == [["62701"], ["62702"]]


def test_different_radius_misses_the_cache(locator, upstream):
    locator.search("62701", 25)
    locator.search("62701", 50)
    assert len(upstream.searches()) == 2


def test_radii_in_one_bucket_share_the_cache_and_the_upstream_query(locator, upstream, cache):
    assert locator.search("62701", 11) == locator.search("62701", 24)
    [seen] = upstream.searches()
    assert seen.query["limitValue"] == [str(miles_to_metres(25))]
    assert cache.keys == [locator.cache_key("62701", 25)]


@given(st.integers(min_value=1, max_value=500))
def test_a_radius_rounds_up_to_the_smallest_bucket_that_covers_it(radius):
    bucket = radius_bucket(radius)
    assert bucket in RADIUS_BUCKETS
    assert bucket >= radius
    assert all(smaller < radius for smaller in RADIUS_BUCKETS if smaller < bucket)
    assert radius_bucket(bucket) == bucket


@given(st.integers(min_value=1, max_value=500), st.integers(min_value=1, max_value=500))
def test_radius_buckets_keep_the_order_of_radii(a, b):
    if a <= b:
        assert radius_bucket(a) <= radius_bucket(b)


def test_cache_key_is_a_digest_not_the_postal_code(locator, cache):
    locator.search("62701", 25)

    [key] = cache.keys
    assert "62701" not in key
    assert key == locator.cache_key("62701", 25)
    digest = key.rsplit(":", 1)[1]
    assert len(digest) == 64
    int(digest, 16)
    # The stored value is JSON bytes of the parsed facilities.
    assert json.loads(cache.values[0])[0]["name"].startswith("Riverside")


def test_cache_entry_uses_the_configured_ttl(upstream):
    now = [100.0]
    cache = MemoryCache(clock=lambda: now[0])
    locator = FindTreatmentLocator(upstream.base_url, cache=cache, cache_ttl_seconds=60)
    locator.search("62701", 25)
    now[0] += 59
    locator.search("62701", 25)
    now[0] += 2
    locator.search("62701", 25)
    assert len(upstream.searches()) == 2


def test_failures_are_not_cached(locator, upstream):
    upstream.reply = Reply(status=500, body=b"oops")
    with pytest.raises(LocatorError):
        locator.search("62701", 25)
    upstream.reply = Reply(body=payload(ROW_MINIMAL))
    assert [f.name for f in locator.search("62701", 25)] == ["Hilltop Clinic"]
    assert len(upstream.searches()) == 2


def test_corrupt_cache_entry_is_a_miss(locator, upstream, cache):
    cache.set(locator.cache_key("62701", 25), b"not json", 60)
    assert len(locator.search("62701", 25)) == 2
    assert len(upstream.searches()) == 1


def test_works_without_a_cache(upstream):
    locator = FindTreatmentLocator(upstream.base_url)
    locator.search("62701", 25)
    locator.search("62701", 25)
    assert len(upstream.searches()) == 2


def test_real_redis_cache_round_trip(upstream):
    redis_cache = RedisCache(REDIS_URL, prefix=f"steady-test:locator:{uuid.uuid4().hex}:")
    locator = FindTreatmentLocator(upstream.base_url, cache=redis_cache)
    try:
        first = locator.search("62701", 25)
        assert locator.search("62701", 25) == first
        assert len(upstream.searches()) == 1
        assert redis_cache.client.ttl(redis_cache.full_key(locator.cache_key("62701", 25))) > 0
    finally:
        redis_cache.client.delete(redis_cache.full_key(locator.cache_key("62701", 25)))
        redis_cache.close()


def test_dead_redis_does_not_break_search(upstream):
    dead = RedisCache("redis://127.0.0.1:1/0")
    try:
        locator = FindTreatmentLocator(upstream.base_url, cache=dead)
        assert len(locator.search("62701", 25)) == 2
    finally:
        dead.close()


# --- upstream failures ---------------------------------------------------------------------


def test_slow_upstream_times_out_quickly(upstream):
    upstream.reply = Reply(body=payload(ROW_FULL), delay=5.0)
    locator = FindTreatmentLocator(upstream.base_url, timeout_seconds=0.2)
    started = time.monotonic()
    with pytest.raises(LocatorError):
        locator.search("62701", 25)
    assert time.monotonic() - started < 1.0


def test_trickled_body_hits_the_overall_deadline(upstream):
    # Every byte arrives inside the socket timeout; only a total deadline stops this.
    upstream.reply = Reply(body=payload(ROW_FULL), trickle_seconds=0.05)
    locator = FindTreatmentLocator(upstream.base_url, timeout_seconds=0.3)
    started = time.monotonic()
    with pytest.raises(LocatorError, match="too long"):
        locator.search("62701", 25)
    assert time.monotonic() - started < 1.0


def test_connection_refused(cache):
    locator = FindTreatmentLocator(f"http://127.0.0.1:{closed_port()}", timeout_seconds=0.5)
    with pytest.raises(LocatorError):
        locator.search("62701", 25)


@pytest.mark.parametrize("status", [400, 404, 429, 500, 503])
def test_error_status(locator, upstream, status):
    upstream.reply = Reply(status=status, body=payload(ROW_FULL))
    with pytest.raises(LocatorError):
        locator.search("62701", 25)


def test_non_200_success_status(locator, upstream):
    upstream.reply = Reply(status=203, body=payload(ROW_FULL))
    with pytest.raises(LocatorError):
        locator.search("62701", 25)


@pytest.mark.parametrize(
    "body",
    [
        b"<html>Service unavailable</html>",
        b"",
        b'{"rows": [',
        b"\xff\xfe not utf-8",
        b"[" * 100_000,
    ],
)
def test_invalid_json(locator, upstream, body):
    upstream.reply = Reply(body=body)
    with pytest.raises(LocatorError):
        locator.search("62701", 25)


@pytest.mark.parametrize(
    "document",
    [
        [],
        "rows",
        None,
        {},
        {"rows": None},
        {"rows": {"0": {"name1": "x"}}},
        {"rows": "Riverside"},
    ],
)
def test_wrong_document_shape(locator, upstream, document):
    upstream.reply = Reply(body=json.dumps(document).encode())
    with pytest.raises(LocatorError):
        locator.search("62701", 25)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_is_refused_not_followed(locator, upstream, status):
    upstream.reply = Reply(
        status=status,
        headers={"Location": f"{upstream.base_url}/redirect-target"},
        body=b"",
    )
    with pytest.raises(LocatorError):
        locator.search("62701", 25)
    assert [seen.path for seen in upstream.requests] == [SEARCH_PATH]


def test_oversized_body_with_content_length(locator, upstream):
    upstream.reply = Reply(body=b" " * (MAX_RESPONSE_BYTES + 1) + payload())
    with pytest.raises(LocatorError, match="too large"):
        locator.search("62701", 25)


def test_oversized_body_without_content_length(locator, upstream):
    # No length header: the cap must hold while streaming, not only on the declared size.
    upstream.reply = Reply(body=b" " * (MAX_RESPONSE_BYTES + 1) + payload(), send_length=False)
    with pytest.raises(LocatorError, match="too large"):
        locator.search("62701", 25)


def test_body_just_under_the_cap_is_accepted(locator, upstream):
    body = payload(ROW_MINIMAL)
    upstream.reply = Reply(body=b" " * (MAX_RESPONSE_BYTES - len(body)) + body)
    assert len(locator.search("62701", 25)) == 1


def test_errors_do_not_mention_the_postal_code(locator, upstream, caplog):
    upstream.reply = Reply(status=302, headers={"Location": "http://elsewhere.invalid/"})
    with pytest.raises(LocatorError) as raised:
        locator.search("90210", 25)
    assert "90210" not in str(raised.value)
    assert raised.value.__cause__ is None
    assert "90210" not in caplog.text


# --- circuit breaker -----------------------------------------------------------------------


def test_the_breaker_opens_after_repeated_failures_then_recovers(upstream):
    locator = FindTreatmentLocator(upstream.base_url, breaker_failures=3, breaker_seconds=30)
    upstream.reply = Reply(status=500, body=b"oops")
    with time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), tick=False) as clock:
        for _ in range(5):
            with pytest.raises(LocatorError):
                locator.search("62701", 25)
        assert len(upstream.searches()) == 3
        assert locator.breaker.current_state == "open"

        upstream.reply = Reply(body=payload(ROW_MINIMAL))
        clock.shift(31)
        assert [f.name for f in locator.search("62701", 25)] == ["Hilltop Clinic"]
        assert locator.breaker.current_state == "closed"
        assert len(upstream.searches()) == 4


def test_a_failed_trial_call_opens_the_breaker_again(upstream):
    locator = FindTreatmentLocator(upstream.base_url, breaker_failures=1, breaker_seconds=30)
    upstream.reply = Reply(status=503)
    with time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), tick=False) as clock:
        with pytest.raises(LocatorError):
            locator.search("62701", 25)
        clock.shift(31)
        with pytest.raises(LocatorError):
            locator.search("62701", 25)
        with pytest.raises(LocatorError):
            locator.search("62701", 25)
    assert len(upstream.searches()) == 2
    assert locator.breaker.current_state == "open"


def test_a_success_resets_the_count_of_failures(upstream):
    locator = FindTreatmentLocator(upstream.base_url, breaker_failures=2)
    for reply in (Reply(status=500), Reply(body=payload()), Reply(status=500)):
        upstream.reply = reply
        try:
            locator.search("62701", 25)
        except LocatorError:
            pass
    assert locator.breaker.current_state == "closed"


def test_the_breaker_does_not_serialise_concurrent_searches(upstream):
    # pybreaker's own call() holds a lock throughout; two searches must be in flight at once.
    upstream.reply = Reply(body=payload(ROW_MINIMAL), delay=5.0)
    locator = FindTreatmentLocator(upstream.base_url, timeout_seconds=5.0)
    threads = [
        threading.Thread(target=locator.search, args=(code, 25)) for code in ("62701", "62702")
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 4
    while len(upstream.searches()) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    in_flight = len(upstream.searches())
    upstream.release.set()
    for thread in threads:
        thread.join(timeout=5)
    assert in_flight == 2


# --- defensive row parsing -----------------------------------------------------------------


def test_bad_rows_are_skipped_or_coerced(locator, upstream):
    many_services = [{"f2": "X", "f3": f"Service {n}"} for n in range(15)]
    rows = [
        "not a row",
        None,
        42,
        ["name1", "list row"],
        {"city": "No Name"},
        {"name1": ""},
        {"name1": "   "},
        {"name1": None, "name2": "Only second name"},
        {"name1": True},
        {"name1": {"nested": "dict"}},
        {
            "name1": 1234,
            "name2": ["not", "text"],
            "street1": 55,
            "city": {"x": 1},
            "state": "IL",
            "zip": 62701,
            "phone": 2175550100,
            "website": "javascript:alert(1)",
            "miles": "far",
            "services": "Buprenorphine",
        },
        {
            "name1": "  Lakeside\n  Health  ",
            "name2": "",
            "website": "www.lakeside.example.org",
            "miles": "2.5",
            "services": [None, "text", {"f3": 7}, {"f2": "no f3"}, *many_services],
        },
        {"name1": "Negative", "miles": -3, "website": "ftp://files.example.org"},
        {"name1": "Infinite", "miles": 1e308 * 10, "website": "https://"},
        {"name1": "Boolean miles", "miles": True, "services": [{"f3": "A"}, {"f3": "A"}]},
        {"name1": "x" * 5000},
    ]
    upstream.reply = Reply(body=json.dumps({"rows": rows}).encode())

    facilities = locator.search("62701", 25)

    assert [f.name for f in facilities] == [
        "1234",
        "Lakeside Health",
        "Negative",
        "Infinite",
        "Boolean miles",
        "x" * 300,
    ]
    numeric, lakeside, negative, infinite, boolean, long_name = facilities
    assert numeric.address == "55, IL 62701"
    assert numeric.phone == "2175550100"
    assert numeric.website is None
    assert numeric.distance_miles is None
    assert numeric.services == ()
    assert lakeside.website == "http://www.lakeside.example.org"
    assert lakeside.distance_miles == 2.5
    assert lakeside.services == ("7", *(f"Service {n}" for n in range(9)))
    assert negative.distance_miles is None
    assert negative.website is None
    assert infinite.distance_miles is None
    assert infinite.website is None
    assert boolean.distance_miles is None
    assert boolean.services == ("A",)
    assert long_name.address == ""


def test_json_nan_distance_is_dropped(locator, upstream):
    upstream.reply = Reply(body=b'{"rows": [{"name1": "NaN place", "miles": NaN}]}')
    [facility] = locator.search("62701", 25)
    assert facility.distance_miles is None


def test_coerced_rows_survive_the_cache(locator, upstream):
    upstream.reply = Reply(body=json.dumps({"rows": [{"name1": 99, "miles": "3"}]}).encode())
    fresh = locator.search("62701", 25)
    assert locator.search("62701", 25) == fresh
    assert len(upstream.searches()) == 1


# --- argument checks -----------------------------------------------------------------------


@pytest.mark.parametrize(("postal_code", "radius"), [("", 25), ("   ", 25), ("62701", 0)])
def test_invalid_arguments_are_rejected_before_any_request(locator, upstream, postal_code, radius):
    with pytest.raises(ValueError):
        locator.search(postal_code, radius)
    assert upstream.requests == []


@pytest.mark.parametrize("base_url", ["file:///etc/passwd", "ftp://example.org", "example.org"])
def test_base_url_must_be_http(base_url):
    with pytest.raises(ValueError):
        FindTreatmentLocator(base_url)


# --- deep link and configuration -----------------------------------------------------------


def test_deep_link_encodes_the_postal_code():
    assert deep_link("62701") == "https://findtreatment.gov/locator?sAddr=62701"
    assert deep_link("Springfield, IL") == (
        "https://findtreatment.gov/locator?sAddr=Springfield%2C+IL"
    )
    assert deep_link("a&b=c#d") == "https://findtreatment.gov/locator?sAddr=a%26b%3Dc%23d"


@pytest.mark.parametrize("postal_code", [None, "", "   "])
def test_deep_link_without_a_postal_code(postal_code):
    assert deep_link(postal_code) == "https://findtreatment.gov/locator"


@pytest.mark.parametrize(
    "config", [{}, {"TREATMENT_LOCATOR_URL": None}, {"TREATMENT_LOCATOR_URL": ""}]
)
def test_locator_from_config_without_a_url(config):
    assert locator_from_config(config, MemoryCache()) is None


def test_locator_from_config_defaults(upstream):
    cache = MemoryCache()
    locator = locator_from_config({"TREATMENT_LOCATOR_URL": upstream.base_url}, cache)
    assert isinstance(locator, FindTreatmentLocator)
    assert locator.timeout_seconds == 3.0
    assert locator.cache_ttl_seconds == 86400
    assert locator.cache is cache
    assert (locator.breaker.fail_max, locator.breaker.reset_timeout) == (5, 60)


def test_locator_from_config_reads_overrides(upstream):
    locator = locator_from_config(
        {
            "TREATMENT_LOCATOR_URL": upstream.base_url,
            "TREATMENT_LOCATOR_TIMEOUT_SECONDS": "1.5",
            "TREATMENT_LOCATOR_CACHE_SECONDS": 600,
        },
        None,
    )
    assert locator.timeout_seconds == 1.5
    assert locator.cache_ttl_seconds == 600
    assert len(locator.search("62701", 25)) == 2
