"""Load and validate the versioned crisis and treatment resource catalogue."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import phonenumbers

from server.common.validation import REGION_CODES
from server.resources import emergency_numbers

# Each kind and the label people read for it (the PDF prints labels, never codes).
KIND_LABELS: dict[str, str] = {
    "emergency": "Emergency",
    "crisis": "Crisis line",
    "directory": "Directory",
    "helpline": "Helpline",
    "treatment": "Treatment",
    "harm_reduction": "Harm reduction",
    "medical": "Medical / poison line",
    "clinic": "Clinic",
    "peer_support": "Peer support",
}
ENTRY_KINDS: tuple[str, ...] = tuple(KIND_LABELS)
# Counselors add their own services only. Emergency, crisis, poison (medical),
# harm-reduction and directory entries come from the catalogue alone, so nobody can plant
# a look-alike "emergency" number in a patient's crisis screen.
COUNSELOR_KINDS: tuple[str, ...] = ("clinic", "treatment", "helpline", "peer_support")
# The one directory of crisis lines with a page per country; the research saw this form
# of its URL first-hand (findahelpline.com/AU).
DIRECTORY_URL = "https://findahelpline.com/{region}"
DIRECTORY_SOURCE_URL = "https://findahelpline.com/AU"
DIRECTORY_CHECKED_ON = date(2026, 12, 1)
# Each region's own treatment-service finder where the research found one; the US uses
# the FindTreatment.gov locator, every other region the crisis-line directory.
TREATMENT_FINDERS = {
    "GB": "https://www.talktofrank.com/get-help/find-support-near-you",
    "IE": "https://www.drugs.ie/services",
    "CA": "https://www.canada.ca/en/health-canada/services/substance-use/get-help/"
    "get-help-problematic-substance-use.html",
    "AU": "https://adf.org.au/help-support/path2help/",
}

# Fixed forever: changing it would change every entry id that clients may have stored.
CATALOGUE_NAMESPACE = uuid.UUID("1b6d52b4-fb4a-4a0d-8556-19569439bcac")

DEFAULT_PATH = Path(__file__).with_name("catalogue.json")

_REQUIRED_TEXT = (
    "key",
    "name",
    "kind",
    "region",
    "description",
    "source_url",
    "verified_on",
)
_OPTIONAL_TEXT = ("phone", "url", "hours")
_ALLOWED_FIELDS = frozenset((*_REQUIRED_TEXT, *_OPTIONAL_TEXT, "sms", "second_hand"))
_SMS_FIELDS = frozenset(("number", "body"))
_KEY_RE = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
_REGION_RE = re.compile(r"^[A-Z]{2}$")
# A short code (911, 988, 116 123, 3114) as written, digits optionally grouped.
_SHORT_CODE_RE = re.compile(r"^[0-9]+(?:[ -][0-9]+)*$")
MAX_SHORT_CODE_DIGITS = 6
MAX_SMS_BODY = 160


def e164(number: str, region: str) -> str | None:
    """The number in E.164 form if it is a valid number for the region, else None."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number_for_region(parsed, region):
        return None
    if phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.PREMIUM_RATE:
        return None  # a help line that charges by the minute is not help
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def shown_number(number: str, region: str) -> str:
    """How people in the region write a stored number: national format, short codes as is."""
    if not number.startswith("+"):
        return number
    parsed = phonenumbers.parse(number, region)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def dialable(written: str, region: str) -> tuple[str, str]:
    """A curated number as (stored, shown): E.164 and national format, or a short code.

    A short code keeps the source's grouping for showing ("116 123") and is stored as the
    digits one dials ("116123"); anything else must be a valid number of the region.
    """
    written = " ".join(written.split())
    stored = e164(written, region)
    if stored is not None:
        return stored, shown_number(stored, region)
    digits = re.sub(r"[ -]", "", written)
    if _SHORT_CODE_RE.match(written) and len(digits) <= MAX_SHORT_CODE_DIGITS:
        return digits, written
    raise ValueError(
        f"{written!r} is neither a valid number for {region} nor a short code of at most "
        f"{MAX_SHORT_CODE_DIGITS} digits"
    )


def contact_text(phone: str | None, sms_number: str | None, sms_body: str | None) -> str | None:
    """One line for showing how to reach a resource, from numbers already as shown."""
    parts = []
    if phone:
        parts.append(f"Call {phone}")
    if sms_number:
        texting = f"text {sms_body} to {sms_number}" if sms_body else f"text {sms_number}"
        parts.append(texting)
    if not parts:
        return None
    text = " or ".join(parts)
    return text[0].upper() + text[1:]


@dataclass(frozen=True)
class CatalogueEntry:
    """One crisis, helpline, treatment or harm-reduction resource."""

    key: str
    name: str
    kind: str
    region: str
    phone: str | None  # E.164, or a short code's digits
    sms_number: str | None
    sms_body: str | None  # what to text; None when any text works
    display: str | None  # "Call 13 11 14", "Text MHA to 741741"; None without phone or sms
    url: str | None
    hours: str | None
    description: str
    source_url: str
    verified_on: date
    # The source is neither the service's own page nor a public body's (news, a directory,
    # another organisation): shown, but flagged until a primary source is found.
    second_hand: bool = False

    @property
    def id(self) -> str:
        """Return a UUID derived only from the key, so it is stable across releases."""
        return str(uuid.uuid5(CATALOGUE_NAMESPACE, self.key))


@dataclass(frozen=True)
class Catalogue:
    """A versioned, immutable set of resource entries."""

    version: str
    entries: tuple[CatalogueEntry, ...]

    def for_region(self, region: str) -> tuple[CatalogueEntry, ...]:
        """Return the entries for one ISO 3166-1 alpha-2 region, in file order."""
        wanted = region.upper()
        return tuple(e for e in self.entries if e.region == wanted)

    def get(self, key: str) -> CatalogueEntry | None:
        """Return the entry with this key, or None."""
        return next((e for e in self.entries if e.key == key), None)


def _parse_entry(raw: Any, index: int) -> CatalogueEntry:
    """Validate one raw JSON object and build an entry, naming it in any error."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"entry #{index}: must be an object")
    key = raw.get("key")
    label = key if isinstance(key, str) and key else f"entry #{index}"

    def fail(problem: str) -> ValueError:
        return ValueError(f"catalogue entry {label!r}: {problem}")

    unknown = sorted(set(raw) - _ALLOWED_FIELDS)
    if unknown:
        # Strict on purpose: a typo such as "phon" would otherwise hide a number.
        raise fail(f"unknown field(s) {', '.join(unknown)}")
    for field in _REQUIRED_TEXT:
        value = raw.get(field)
        if not isinstance(value, str) or not value.strip():
            raise fail(f"missing or empty required field {field!r}")
    for field in _OPTIONAL_TEXT:
        value = raw.get(field)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise fail(f"field {field!r} must be a non-empty string or null")

    sms = raw.get("sms")
    if sms is not None and (
        not isinstance(sms, Mapping)
        or set(sms) - _SMS_FIELDS
        or not isinstance(sms.get("number"), str)
        or not isinstance(sms.get("body"), str | None)
    ):
        raise fail('sms must be null or {"number": "...", "body": "..." or null}')
    if sms is not None and sms.get("body") is not None:
        if not sms["body"].strip() or len(sms["body"]) > MAX_SMS_BODY:
            raise fail(f"sms body must be 1 to {MAX_SMS_BODY} characters or null")

    if not _KEY_RE.match(raw["key"]):
        raise fail("key must be a lowercase slug")
    if raw["kind"] not in ENTRY_KINDS:
        raise fail(f"kind {raw['kind']!r} is not one of {', '.join(ENTRY_KINDS)}")
    if not _REGION_RE.match(raw["region"]):
        raise fail(f"region {raw['region']!r} is not two uppercase letters")
    if not raw["source_url"].startswith(("http://", "https://")):
        raise fail("source_url must start with http")
    url = raw.get("url")
    if url is not None and not url.startswith(("http://", "https://")):
        raise fail("url must start with http")
    if not any(raw.get(f) for f in ("phone", "sms", "url")):
        # An entry nobody can contact is useless in a crisis.
        raise fail("needs at least one of phone, sms or url")
    try:
        verified_on = date.fromisoformat(raw["verified_on"])
    except ValueError:
        raise fail(f"verified_on {raw['verified_on']!r} is not an ISO date") from None
    if not isinstance(raw.get("second_hand", False), bool):
        raise fail("second_hand must be true or false")

    def number(field: str, written: str | None) -> tuple[str | None, str | None]:
        try:
            return dialable(written, raw["region"]) if written else (None, None)
        except ValueError as error:
            raise fail(f"{field} {error}") from None

    phone, phone_shown = number("phone", raw.get("phone"))
    sms_number, sms_shown = number("sms number", sms["number"] if sms else None)
    sms_body = sms.get("body") if sms else None

    return CatalogueEntry(
        key=raw["key"],
        name=raw["name"],
        kind=raw["kind"],
        region=raw["region"],
        phone=phone,
        sms_number=sms_number,
        sms_body=sms_body,
        display=contact_text(phone_shown, sms_shown, sms_body),
        url=url,
        hours=raw.get("hours"),
        description=raw["description"],
        source_url=raw["source_url"],
        verified_on=verified_on,
        second_hand=raw.get("second_hand", False),
    )


def parse_catalogue(data: Any) -> Catalogue:
    """Validate an already-decoded catalogue document."""
    if not isinstance(data, Mapping):
        raise ValueError("catalogue: top level must be an object")
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        raise ValueError("catalogue: missing or empty 'version'")
    raw_entries = data.get("entries")
    if not isinstance(raw_entries, list):
        raise ValueError("catalogue: 'entries' must be a list")

    entries = tuple(_parse_entry(raw, i) for i, raw in enumerate(raw_entries))
    seen: set[str] = set()
    for entry in entries:
        if entry.key in seen:
            raise ValueError(f"catalogue entry {entry.key!r}: duplicate key")
        seen.add(entry.key)
    return Catalogue(version=version, entries=entries)


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Load and validate a catalogue JSON file, defaulting to the shipped, curated one."""
    source = Path(path) if path is not None else DEFAULT_PATH
    with source.open(encoding="utf-8") as fh:
        data = json.load(fh)
    return parse_catalogue(data)


def shipped_catalogue() -> Catalogue:
    """Curated entries, plus a directory and (if none is curated) an emergency per region.

    The derived emergency entry is the number both machine tables agree on; a region where
    they don't gets the fallback advice at assessment time instead.
    """
    curated = load_catalogue()
    regional = regional_entries(curated.entries, emergency_numbers.load())
    return Catalogue(version=curated.version, entries=curated.entries + regional)


def regional_entries(curated: tuple[CatalogueEntry, ...], numbers: dict) -> tuple:
    """Derived emergency numbers where no curated one exists, and a directory per region."""
    with_emergency = {entry.region for entry in curated if entry.kind == "emergency"}
    derived_on = date.fromisoformat(numbers["derived_on"])
    entries = []
    for region in REGION_CODES:
        number = numbers["numbers"].get(region)
        if number and region not in with_emergency:
            try:
                phone, shown = dialable(number, region)
            except ValueError as error:
                raise ValueError(f"emergency number of {region}: {error}") from None
            entries.append(
                CatalogueEntry(
                    key=f"{region.lower()}-emergency-number",
                    name=f"Emergency number ({number})",
                    kind="emergency",
                    region=region,
                    phone=phone,
                    sms_number=None,
                    sms_body=None,
                    display=contact_text(shown, None, None),
                    url=None,
                    hours=None,
                    description=f"Call {number} if someone may be overdosing, cannot be "
                    "woken or is struggling to breathe. "
                    f"{numbers['attribution']} If you know your local emergency number, "
                    "use that.",
                    source_url=numbers["source_url"],
                    verified_on=derived_on,
                    # A handset dialling table, not a page of the emergency service.
                    second_hand=True,
                )
            )
        entries.append(
            CatalogueEntry(
                key=f"{region.lower()}-find-a-helpline",
                name="Find A Helpline: crisis lines in your country",
                kind="directory",
                region=region,
                phone=None,
                sms_number=None,
                sms_body=None,
                display=None,
                url=DIRECTORY_URL.format(region=region),
                hours=None,
                description="A directory of free, confidential crisis and support lines "
                "(ThroughLine). Steady does not run or check the lines it lists.",
                source_url=DIRECTORY_SOURCE_URL,
                verified_on=DIRECTORY_CHECKED_ON,
            )
        )
    return tuple(entries)


def treatment_finder_url(region: str) -> str:
    """Where a person in a region (outside the US) can look for treatment services."""
    return TREATMENT_FINDERS.get(region, DIRECTORY_URL.format(region=region))


def verification_cutoff(today: date, months: int = 12) -> date:
    """Return the oldest acceptable verified_on date, `months` before today."""
    year, month0 = divmod(today.year * 12 + today.month - 1 - months, 12)
    month = month0 + 1
    # Clamp the day so e.g. 31 March minus one month lands on the last day of February.
    next_month_first = date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month_first - date(year, month, 1)).days
    return date(year, month, min(today.day, last_day))


def stale_entries(
    catalogue: Catalogue, today: date, months: int = 12
) -> tuple[CatalogueEntry, ...]:
    """Return entries last verified more than `months` before today."""
    cutoff = verification_cutoff(today, months)
    return tuple(e for e in catalogue.entries if e.verified_on < cutoff)
