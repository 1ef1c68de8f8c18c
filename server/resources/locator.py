"""Adapter for the FindTreatment.gov facility locator, with caching and a deep-link fallback."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from http.client import HTTPException
from typing import Any

import pybreaker

from server.common.cache import Cache
from server.config import finite_number, float_setting, int_setting, url_setting

logger = logging.getLogger(__name__)

DEEP_LINK_BASE = "https://findtreatment.gov/locator"
SEARCH_PATH = "/locator/exportsAsJson/v2"
USER_AGENT = "Steady/1.0"
METRES_PER_MILE = 1609.344
MAX_RESPONSE_BYTES = 2 * 1024 * 1024
MAX_SERVICES = 10
# Upstream text is shown to people verbatim; bound it so one odd row cannot bloat a response.
MAX_TEXT_CHARS = 300
_READ_CHUNK_BYTES = 64 * 1024
# Bump when the cached JSON shape changes, so old entries are ignored rather than misread.
_CACHE_VERSION = "v1"
_WHITESPACE_RE = re.compile(r"\s+")
# Start-up limits on the configuration (locator_from_config).
MAX_TIMEOUT_SECONDS = 30
MAX_CACHE_SECONDS = 30 * 24 * 3600
MAX_BREAKER_FAILURES = 100
MAX_BREAKER_SECONDS = 3600
# Searches use one of these radii (miles), the asked-for one rounded up: nearby radii share
# one cache entry and one upstream call, and varying the radius cannot bypass the cache.
RADIUS_BUCKETS = (5, 10, 25, 50, 100, 250, 500)


class LocatorError(Exception):
    """The treatment locator could not answer; callers should fall back to the deep link."""


@dataclass(frozen=True)
class Facility:
    """One treatment facility as returned by the locator."""

    name: str
    address: str
    phone: str | None
    website: str | None
    distance_miles: float | None
    services: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        data = asdict(self)
        data["services"] = list(self.services)
        return data


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: the 3xx surfaces as an HTTPError instead."""

    def redirect_request(self, req, fp, code, msg, headers, newurl) -> None:
        """Decline every redirect."""
        # Returning None makes urllib raise HTTPError for the 3xx (API10: an upstream
        # must not be able to steer us to another host).
        return None


def _build_opener() -> urllib.request.OpenerDirector:
    """Return an opener that speaks only HTTP(S) and refuses redirects."""
    # Built by hand rather than with build_opener so file:, ftp: and data: handlers are absent.
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        _RefuseRedirects(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def _text(value: Any) -> str | None:
    """Coerce an upstream field to trimmed single-line text, or None."""
    # bool is an int subclass; a boolean where text belongs is junk, not "True".
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        value = str(value)
    if not isinstance(value, str):
        return None
    cleaned = _WHITESPACE_RE.sub(" ", value).strip()
    if not cleaned:
        return None
    return cleaned[:MAX_TEXT_CHARS]


def _miles(value: Any) -> float | None:
    """Coerce a distance to a finite, non-negative float, or None."""
    miles = finite_number(value)
    return miles if miles is not None and miles >= 0 else None


def _website(value: Any) -> str | None:
    """Return an http(s) URL, or None; other schemes (javascript:, data:) are dropped."""
    text = _text(value)
    if text is None or " " in text:
        return None
    parsed = urllib.parse.urlsplit(text)
    if not parsed.scheme:
        # Upstream often lists bare hosts such as "www.example.org".
        parsed = urllib.parse.urlsplit("http://" + text)
    if parsed.scheme.lower() not in ("http", "https") or not parsed.netloc:
        return None
    return parsed.geturl()


def _services(value: Any) -> tuple[str, ...]:
    """Return up to MAX_SERVICES distinct service texts from services[].f3."""
    if not isinstance(value, list):
        return ()
    seen: dict[str, None] = {}
    for item in value:
        if not isinstance(item, dict):
            continue
        text = _text(item.get("f3"))
        if text is not None:
            seen.setdefault(text, None)
        if len(seen) >= MAX_SERVICES:
            break
    return tuple(seen)


def _address(row: Mapping[str, Any]) -> str:
    """Join street lines, city and "state zip" with commas, skipping blanks."""
    state_zip = " ".join(part for part in (_text(row.get("state")), _text(row.get("zip"))) if part)
    parts = [
        _text(row.get("street1")),
        _text(row.get("street2")),
        _text(row.get("city")),
        state_zip,
    ]
    return ", ".join(part for part in parts if part)


def parse_facility(row: Any) -> Facility | None:
    """Build a Facility from one upstream row, or None when the row is unusable."""
    if not isinstance(row, dict):
        return None
    name1 = _text(row.get("name1"))
    if name1 is None:
        return None
    name2 = _text(row.get("name2"))
    return Facility(
        name=f"{name1} — {name2}" if name2 and name2 != name1 else name1,
        address=_address(row),
        phone=_text(row.get("phone")),
        website=_website(row.get("website")),
        distance_miles=_miles(row.get("miles")),
        services=_services(row.get("services")),
    )


def parse_response(payload: Any) -> list[Facility]:
    """Validate a decoded locator response and return its usable facilities."""
    if not isinstance(payload, dict):
        raise LocatorError("Locator response is not a JSON object.")
    rows = payload.get("rows")
    if not isinstance(rows, list):
        raise LocatorError("Locator response has no list of rows.")
    facilities = []
    for row in rows:
        facility = parse_facility(row)
        if facility is not None:
            facilities.append(facility)
    return facilities


def _facility_from_cached(data: Any) -> Facility:
    """Rebuild a Facility from its cached dict (raises on a malformed entry)."""
    return Facility(
        name=str(data["name"]),
        address=str(data["address"]),
        phone=data["phone"],
        website=data["website"],
        distance_miles=data["distance_miles"],
        services=tuple(data["services"]),
    )


def radius_bucket(radius_miles: int) -> int:
    """The smallest bucket at least ``radius_miles`` (the largest for anything beyond)."""
    return next(
        (bucket for bucket in RADIUS_BUCKETS if bucket >= radius_miles), RADIUS_BUCKETS[-1]
    )


class _Breaker(pybreaker.CircuitBreaker):
    """pybreaker without its lock around the guarded call (danielfm/pybreaker#55).

    Upstream holds one lock for the whole call, so in a threaded worker every locator
    request would queue behind a slow one; state changes still take the lock.
    """

    def call(self, func, *args, **kwargs):
        """Call ``func`` by the rules of the current state, without serialising callers."""
        return self.state.call(func, *args, **kwargs)


def miles_to_metres(radius_miles: int) -> int:
    """Convert a radius in miles to whole metres, as the locator's limitValue expects."""
    return round(radius_miles * METRES_PER_MILE)


def _clean_postal_code(postal_code: str) -> str:
    """Collapse runs of whitespace and trim, as typed input often has stray spaces."""
    return _WHITESPACE_RE.sub(" ", postal_code).strip()


class FindTreatmentLocator:
    """Search FindTreatment.gov-shaped locators for substance-use treatment facilities."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_seconds: float = 3.0,
        cache: Cache | None = None,
        cache_ttl_seconds: int = 86400,
        page_size: int = 20,
        breaker_failures: int = 5,
        breaker_seconds: int = 60,
    ) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError("base_url must be an absolute http(s) URL.")
        if timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive.")
        if not 1 <= page_size <= 2000:
            raise ValueError("page_size must be between 1 and 2000.")
        self.base_url = base_url.rstrip("/")
        self.timeout_seconds = timeout_seconds
        self.cache = cache
        self.cache_ttl_seconds = cache_ttl_seconds
        self.page_size = page_size
        self._opener = _build_opener()
        # Per process (each worker learns on its own): pybreaker's Redis storage needs Redis
        # at start-up and, when Redis fails, reports "closed", so it could never open.
        self.breaker = _Breaker(
            fail_max=breaker_failures, reset_timeout=breaker_seconds, name="treatment-locator"
        )

    def cache_key(self, postal_code: str, radius_miles: int) -> str:
        """Return the cache key for a search: a SHA-256 digest, never the postal code itself."""
        # Upper-cased so "sw1a 1aa" and "SW1A 1AA" share an entry; the provider URL and page
        # size are included because they change the answer.
        material = json.dumps(
            [self.base_url, self.page_size, _clean_postal_code(postal_code).upper(), radius_miles],
            separators=(",", ":"),
        )
        digest = hashlib.sha256(material.encode("utf-8")).hexdigest()
        return f"locator:{_CACHE_VERSION}:{digest}"

    def search_url(self, postal_code: str, radius_miles: int) -> str:
        """Return the upstream URL for a search."""
        query = urllib.parse.urlencode(
            {
                "sAddr": _clean_postal_code(postal_code),
                "sType": "SA",
                "limitType": 2,
                "limitValue": miles_to_metres(radius_miles),
                "pageSize": self.page_size,
                "page": 1,
                "sort": 0,
            }
        )
        return f"{self.base_url}{SEARCH_PATH}?{query}"

    def search(self, postal_code: str, radius_miles: int) -> list[Facility]:
        """Return facilities within radius_miles (rounded up to a bucket), nearest first."""
        if not isinstance(postal_code, str) or not _clean_postal_code(postal_code):
            raise ValueError("postal_code must be non-empty text.")
        if isinstance(radius_miles, bool) or not isinstance(radius_miles, int):
            raise ValueError("radius_miles must be an integer.")
        if radius_miles <= 0:
            raise ValueError("radius_miles must be positive.")
        radius_miles = radius_bucket(radius_miles)

        key = self.cache_key(postal_code, radius_miles)
        cached = self._from_cache(key)
        if cached is not None:
            return cached

        url = self.search_url(postal_code, radius_miles)
        try:
            facilities = self.breaker.call(lambda: parse_response(self._fetch_json(url)))
        except pybreaker.CircuitBreakerError:
            # Open: answer at once, not after a timeout; the failure that opened it is logged.
            raise LocatorError("Locator is failing; not asked for a while.") from None
        if self.cache is not None:
            payload = json.dumps([facility.to_dict() for facility in facilities])
            self.cache.set(key, payload.encode("utf-8"), self.cache_ttl_seconds)
        return facilities

    def _from_cache(self, key: str) -> list[Facility] | None:
        """Return cached facilities, or None on a miss or an unreadable entry."""
        if self.cache is None:
            return None
        raw = self.cache.get(key)
        if raw is None:
            return None
        try:
            return [_facility_from_cached(item) for item in json.loads(raw)]
        except (ValueError, TypeError, KeyError):
            # A stale or corrupt entry is a miss: the cache must never fail a request.
            logger.warning("Ignoring an unreadable locator cache entry.")
            return None

    def _fetch_json(self, url: str) -> Any:
        """GET url and decode its JSON body, raising LocatorError on any failure."""
        # Log and error messages never include the URL: its query carries the postal code.
        request = urllib.request.Request(
            url,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            method="GET",
        )
        # The socket timeout bounds each network wait; the deadline bounds a trickled body.
        deadline = time.monotonic() + self.timeout_seconds
        try:
            with self._opener.open(request, timeout=self.timeout_seconds) as response:
                if response.status != 200:
                    raise LocatorError(f"Locator answered HTTP {response.status}.")
                body = self._read_capped(response, deadline)
        except LocatorError:
            raise
        except urllib.error.HTTPError as exc:
            exc.close()
            kind = "a redirect" if 300 <= exc.code < 400 else f"HTTP {exc.code}"
            logger.warning("Treatment locator answered %s.", kind)
            raise LocatorError(f"Locator answered {kind}.") from None
        except (urllib.error.URLError, HTTPException, OSError, ValueError) as exc:
            # URLError wraps connection failures; TimeoutError is an OSError.
            logger.warning("Treatment locator unreachable (%s).", type(exc).__name__)
            raise LocatorError("Locator could not be reached.") from None
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            logger.warning("Treatment locator sent a body that is not JSON.")
            raise LocatorError("Locator response is not valid JSON.") from None

    def _read_capped(self, response: Any, deadline: float) -> bytes:
        """Read at most MAX_RESPONSE_BYTES before the deadline, else raise LocatorError."""
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.strip().isdigit():
            if int(declared) > MAX_RESPONSE_BYTES:
                logger.warning("Treatment locator response too large.")
                raise LocatorError("Locator response is too large.")
        chunks: list[bytes] = []
        total = 0
        while True:
            # read1 returns after one socket read, so a trickled body still meets the deadline.
            chunk = response.read1(_READ_CHUNK_BYTES)
            if not chunk:
                return b"".join(chunks)
            total += len(chunk)
            if total > MAX_RESPONSE_BYTES:
                logger.warning("Treatment locator response too large.")
                raise LocatorError("Locator response is too large.")
            if time.monotonic() > deadline:
                logger.warning("Treatment locator response too slow.")
                raise LocatorError("Locator response took too long.")
            chunks.append(chunk)


def deep_link(postal_code: str | None) -> str:
    """Return the FindTreatment.gov page for a postal code, or its search page when none."""
    if postal_code is None or not _clean_postal_code(postal_code):
        return DEEP_LINK_BASE
    query = urllib.parse.urlencode({"sAddr": _clean_postal_code(postal_code)})
    return f"{DEEP_LINK_BASE}?{query}"


def locator_from_config(
    config: Mapping[str, Any], cache: Cache | None
) -> FindTreatmentLocator | None:
    """Build the configured locator, or None when no TREATMENT_LOCATOR_URL is set.

    Called once at start-up. Every locator setting is checked even when the URL is unset; a
    bad one raises ConfigError naming its variable, so the endpoint itself never fails on it.
    """
    timeout = float_setting(
        config,
        "TREATMENT_LOCATOR_TIMEOUT_SECONDS",
        default=3.0,
        low=0,
        high=MAX_TIMEOUT_SECONDS,
        above_low=True,
    )
    ttl = int_setting(
        config, "TREATMENT_LOCATOR_CACHE_SECONDS", default=86400, low=1, high=MAX_CACHE_SECONDS
    )
    breaker_failures = int_setting(
        config, "TREATMENT_LOCATOR_BREAKER_FAILURES", default=5, low=1, high=MAX_BREAKER_FAILURES
    )
    breaker_seconds = int_setting(
        config, "TREATMENT_LOCATOR_BREAKER_SECONDS", default=60, low=1, high=MAX_BREAKER_SECONDS
    )
    base_url = url_setting(config, "TREATMENT_LOCATOR_URL", optional=True)
    if base_url is None:
        return None
    return FindTreatmentLocator(
        base_url,
        timeout_seconds=timeout,
        cache=cache,
        cache_ttl_seconds=ttl,
        breaker_failures=breaker_failures,
        breaker_seconds=breaker_seconds,
    )
