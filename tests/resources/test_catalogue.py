"""Tests for the crisis and treatment resource catalogue."""

import copy
import json
import re
import urllib.parse
import uuid
from dataclasses import fields
from datetime import date
from pathlib import Path

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat

from server.common.validation import REGION_CODES
from server.resources.catalogue import (
    CATALOGUE_NAMESPACE,
    DEFAULT_PATH,
    ENTRY_KINDS,
    Catalogue,
    CatalogueEntry,
    contact_text,
    dialable,
    e164,
    load_catalogue,
    regional_entries,
    shipped_catalogue,
    stale_entries,
    verification_cutoff,
)

# Word boundaries so "overdose" is allowed but "dose" on its own is not.
DOSING_RE = re.compile(r"\b(mg|mgs|dose|doses|dosage|dosing|milligrams?)\b", re.I)
TEXT_FIELDS = (
    "key",
    "name",
    "phone",
    "sms_number",
    "sms_body",
    "display",
    "url",
    "hours",
    "description",
)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    """The shipped catalogue (curated and per-region entries), once per module."""
    return shipped_catalogue()


@pytest.fixture
def raw_doc() -> dict:
    """Return a fresh copy of the shipped JSON for mutation."""
    return json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))


def write_doc(tmp_path: Path, doc: dict) -> Path:
    """Write a catalogue document to a temporary file."""
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_shipped_file_loads(catalogue: Catalogue) -> None:
    """The shipped catalogue parses, is versioned and non-empty."""
    assert catalogue.version == "2026-12-01"
    assert len(catalogue.entries) >= 15
    assert all(isinstance(e, CatalogueEntry) for e in catalogue.entries)
    assert {e.kind for e in catalogue.entries} <= set(ENTRY_KINDS)


def test_every_entry_is_sourced_and_fresh(catalogue: Catalogue) -> None:
    """Each entry has a source and was verified within the last 12 months."""
    today = date.today()
    cutoff = verification_cutoff(today)
    for entry in catalogue.entries:
        assert entry.source_url.startswith("http"), entry.key
        assert entry.verified_on <= today, f"{entry.key} verified in the future"
        assert entry.verified_on >= cutoff, (
            f"{entry.key} last verified {entry.verified_on}; re-check it against "
            "its source and update verified_on"
        )
    assert stale_entries(catalogue, today) == ()


def test_staleness_check_catches_old_entry(catalogue: Catalogue) -> None:
    """An entry verified 13 months ago is reported as stale."""
    entry = catalogue.entries[0]
    old = CatalogueEntry(
        **{f.name: getattr(entry, f.name) for f in fields(entry)}
        | {"verified_on": date(2025, 10, 24)}
    )
    stale = stale_entries(Catalogue("x", (old,)), today=date(2026, 11, 24))
    assert stale == (old,)
    fresh = stale_entries(Catalogue("x", (old,)), today=date(2026, 10, 24))
    assert fresh == ()


@pytest.mark.parametrize(
    ("today", "cutoff"),
    [
        (date(2026, 11, 24), date(2025, 11, 24)),
        (date(2024, 2, 29), date(2023, 2, 28)),
        (date(2026, 1, 1), date(2025, 1, 1)),
    ],
)
def test_verification_cutoff(today: date, cutoff: date) -> None:
    """The cutoff is 12 calendar months back, clamped at month end."""
    assert verification_cutoff(today) == cutoff


@pytest.mark.parametrize("region", ["US", "CA", "GB", "AU"])
def test_region_has_emergency_and_crisis(catalogue: Catalogue, region: str) -> None:
    """Regions with a confirmed emergency number list it and a crisis line."""
    kinds = {e.kind for e in catalogue.for_region(region)}
    assert "emergency" in kinds
    assert "crisis" in kinds


def test_ireland_gets_the_number_both_machine_tables_agree_on(catalogue: Catalogue) -> None:
    """No curated Irish emergency entry: the derived one, attributed to its sources."""
    emergency = [e for e in catalogue.for_region("IE") if e.kind == "emergency"]
    assert [(e.key, e.phone) for e in emergency] == [("ie-emergency-number", "112")]
    assert "Apache-2.0" in emergency[0].description
    assert emergency[0].source_url.startswith("https://android.googlesource.com/")


def test_derived_numbers_only_where_the_tables_agree_and_nothing_is_curated() -> None:
    numbers = {"derived_on": "2026-12-01", "source_url": "https://x.example/", "attribution": "A."}
    numbers["numbers"] = {"FR": "112", "DE": "112"}
    curated = (load_catalogue(DEFAULT_PATH).get("de-112-emergency"),)
    derived = regional_entries(curated, numbers)
    emergency = {e.region: e.phone for e in derived if e.kind == "emergency"}
    assert emergency == {"FR": "112"}  # DE has a curated entry; no other region has data
    directories = [e for e in derived if e.kind == "directory"]
    assert len(directories) == len(REGION_CODES)
    assert {e.url for e in directories if e.region == "CM"} == {"https://findahelpline.com/CM"}


def test_every_region_has_a_directory_and_at_most_one_catalogue_emergency_source(
    catalogue: Catalogue,
) -> None:
    for region in REGION_CODES:
        entries = catalogue.for_region(region)
        assert [e.kind for e in entries].count("directory") == 1, region
        keys = {e.key for e in entries if e.kind == "emergency"}
        assert not (f"{region.lower()}-emergency-number" in keys and len(keys) > 1), region


def test_us_overdose_and_treatment_entries(catalogue: Catalogue) -> None:
    """The US naloxone guidance and FindTreatment.gov entries are present."""
    naloxone = catalogue.get("us-naloxone-overdose-response")
    assert naloxone is not None
    assert naloxone.kind == "harm_reduction"
    assert naloxone.url == ("https://www.hhs.gov/opioids/treatment/overdose-response/index.html")
    for step in ("911", "naloxone", "breathing", "side", "stay"):
        assert step in naloxone.description
    treatment = catalogue.get("us-findtreatment-gov")
    assert treatment is not None
    assert treatment.kind == "treatment"
    assert treatment.url == "https://findtreatment.gov"


def test_unconfirmed_numbers_are_left_out(catalogue: Catalogue) -> None:
    """Numbers the reference marks as unconfirmed or ended never ship."""
    blob = json.dumps([e.__dict__ for e in catalogue.entries], default=str)
    for number in ("0800 77 66 00", "85258", "Press 3"):
        assert number not in blob
    frank = catalogue.get("gb-frank")
    assert frank is not None and frank.phone is None


def test_no_dosing_text(catalogue: Catalogue) -> None:
    """No entry gives dosing information for any substance."""
    for entry in catalogue.entries:
        for name in TEXT_FIELDS:
            value = getattr(entry, name) or ""
            # Keys and directory links carry the region: MG is Madagascar, not a unit.
            value = value.removeprefix(f"{entry.region.lower()}-").removesuffix(entry.region)
            assert not DOSING_RE.search(value), f"{entry.key}.{name}: {value!r}"


def test_dosing_regex_allows_overdose() -> None:
    """The dosing check does not flag the word overdose."""
    assert not DOSING_RE.search("overdose response")
    assert DOSING_RE.search("a second dose")
    assert DOSING_RE.search("4 mg spray")


def test_ids_unique_and_stable(catalogue: Catalogue) -> None:
    """Ids are unique UUIDs derived from the key alone."""
    ids = [e.id for e in catalogue.entries]
    assert len(set(ids)) == len(ids)
    assert len({e.key for e in catalogue.entries}) == len(ids)
    entry = catalogue.get("us-988-lifeline")
    assert entry is not None
    assert entry.id == str(uuid.uuid5(CATALOGUE_NAMESPACE, "us-988-lifeline"))
    # Pinned literal: if this changes, clients holding old ids break.
    assert entry.id == "27136b90-9f64-544f-84de-eacfe00e012f"
    assert load_catalogue().get("us-988-lifeline").id == entry.id


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"kind": "hotline"}, "kind"),
        ({"region": "us"}, "region"),
        ({"region": "USA"}, "region"),
        ({"verified_on": "24/11/2026"}, "verified_on"),
        ({"source_url": "samhsa.gov"}, "source_url"),
        ({"source_url": None}, "source_url"),
        ({"description": ""}, "description"),
        ({"phone": None, "sms": None, "url": None}, "phone, sms or url"),
        ({"phon": "123"}, "unknown field"),
        ({"phone": "1-800-273-825"}, "phone '1-800-273-825' is neither a valid number for US"),
        ({"phone": "0800 111 0 111"}, "phone"),  # a German number in a US entry
        ({"phone": "1-900-555-0199"}, "phone"),  # premium rate
        ({"sms": "Text MHA to 741741"}, "sms must be"),
        ({"sms": {"number": "741741", "text": "MHA"}}, "sms must be"),
        ({"sms": {"number": "Text MHA to 741741", "body": None}}, "sms number"),
        ({"sms": {"number": "741741", "body": ""}}, "sms body"),
        ({"sms": {"number": "741741", "body": "x" * 161}}, "sms body"),
    ],
)
def test_malformed_entry_names_key(
    tmp_path: Path, raw_doc: dict, change: dict, problem: str
) -> None:
    """A malformed entry raises ValueError naming its key and the problem."""
    doc = copy.deepcopy(raw_doc)
    doc["entries"][0].update(change)
    key = doc["entries"][0]["key"]
    with pytest.raises(ValueError, match=re.escape(key)) as excinfo:
        load_catalogue(write_doc(tmp_path, doc))
    assert problem in str(excinfo.value)


def test_missing_required_field(tmp_path: Path, raw_doc: dict) -> None:
    """Dropping a required field is reported with the entry key."""
    del raw_doc["entries"][2]["name"]
    key = raw_doc["entries"][2]["key"]
    with pytest.raises(ValueError, match=rf"{re.escape(key)}.*'name'"):
        load_catalogue(write_doc(tmp_path, raw_doc))


def test_missing_key_uses_index(tmp_path: Path, raw_doc: dict) -> None:
    """An entry with no key is named by its position instead."""
    del raw_doc["entries"][1]["key"]
    with pytest.raises(ValueError, match=r"entry #1"):
        load_catalogue(write_doc(tmp_path, raw_doc))


def test_duplicate_key_rejected(tmp_path: Path, raw_doc: dict) -> None:
    """Two entries with one key would collide on id, so loading fails."""
    raw_doc["entries"].append(copy.deepcopy(raw_doc["entries"][0]))
    with pytest.raises(ValueError, match="duplicate"):
        load_catalogue(write_doc(tmp_path, raw_doc))


# Sources that are neither the service's own page nor a public body's.
THIRD_PARTY_HOSTS = ("wikipedia.org", "legalclarity.org", "familyandcaregivertoolkit.org")
OWN_COUNTRY_TLD = {"US": (".gov", ".org", ".com"), "GB": (".uk", ".org"), "AU": (".au",)}


def test_third_party_and_foreign_sources_are_flagged_second_hand(catalogue: Catalogue) -> None:
    """A Wikipedia page, a legal blog or another country's site is never shown as primary."""
    for entry in catalogue.entries:
        host = urllib.parse.urlsplit(entry.source_url).hostname
        third_party = host.endswith(THIRD_PARTY_HOSTS)
        own_tlds = OWN_COUNTRY_TLD.get(entry.region)
        # The directory is international by design; everything else should be local.
        foreign = own_tlds and entry.kind != "directory" and not host.endswith(own_tlds)
        if third_party or foreign:
            assert entry.second_hand, (entry.key, host)


def test_named_second_hand_entries(catalogue: Catalogue) -> None:
    flagged = {e.key for e in catalogue.entries if e.second_hand}
    assert {"gb-frank", "us-findtreatment-gov", "us-never-use-alone"} <= flagged
    assert "ie-emergency-number" in flagged  # a dialling table, not the service's page
    assert not {"us-911-emergency", "fr-3114", "gb-samaritans", "us-find-a-helpline"} & flagged


def test_second_hand_must_be_a_boolean(tmp_path: Path, raw_doc: dict) -> None:
    raw_doc["entries"][0]["second_hand"] = "yes"
    with pytest.raises(ValueError, match="second_hand"):
        load_catalogue(write_doc(tmp_path, raw_doc))


# Short codes in the catalogue that phonenumbers' short-number metadata does not list (yet);
# each was checked against its entry's source_url instead.
UNLISTED_SHORT_CODES = {("NL", "113"), ("IN", "14416"), ("PH", "1553"), ("BR", "188")}
DOUBLED_WORD = re.compile(r"\b([^\W\d_]+)\W+\1\b", re.IGNORECASE)  # "Call Call 988"


def _numbers(catalogue: Catalogue) -> list[tuple[CatalogueEntry, str]]:
    return [
        (entry, number)
        for entry in catalogue.entries
        for number in (entry.phone, entry.sms_number)
        if number is not None
    ]


def test_every_number_is_e164_or_a_short_code_of_its_region(catalogue: Catalogue) -> None:
    """A tel: or sms: link works as given: a valid E.164 number, or a known short code."""
    unlisted = set()
    for entry, number in _numbers(catalogue):
        if number.startswith("+"):
            parsed = phonenumbers.parse(number)
            assert phonenumbers.is_valid_number_for_region(parsed, entry.region), entry.key
            assert phonenumbers.format_number(parsed, PhoneNumberFormat.E164) == number
            continue
        assert number.isdigit() and len(number) <= 6, entry.key
        parsed = phonenumbers.parse(number, entry.region)
        if not phonenumbers.is_valid_short_number_for_region(parsed, entry.region):
            assert (entry.region, number) in UNLISTED_SHORT_CODES, entry.key
            unlisted.add((entry.region, number))
    assert unlisted == UNLISTED_SHORT_CODES  # drop an exception once it is not needed


def test_texting_is_a_number_and_a_body_never_free_text(catalogue: Catalogue) -> None:
    """Every entry one can text says where and what; nothing is a sentence to read."""
    texting = {e.key: (e.sms_number, e.sms_body) for e in catalogue.entries if e.sms_number}
    assert texting == {
        "us-988-lifeline": ("988", None),
        "us-crisis-text-line-mha": ("741741", "MHA"),
        "us-samhsa-national-helpline": ("435748", None),
        "ca-988-suicide-crisis-helpline": ("988", None),
        "ie-50808-text-line": ("50808", "TALK"),
        "nz-1737": ("1737", None),
    }
    assert all(e.sms_body is None for e in catalogue.entries if not e.sms_number)


def test_display_says_how_to_reach_it_once(catalogue: Catalogue) -> None:
    """Display has a Call and a text part exactly where there is a phone and sms number."""
    for entry in catalogue.entries:
        assert not DOUBLED_WORD.search(entry.name), entry.key
        assert not entry.name.lower().startswith(("call ", "text ", "phone")), entry.key
        if entry.phone is None and entry.sms_number is None:
            assert entry.display is None, entry.key
            continue
        assert not DOUBLED_WORD.search(entry.display), entry.key
        assert entry.display.startswith("Call ") == (entry.phone is not None), entry.key
        assert entry.display.count("Call") <= 1 and entry.display.lower().count("text") <= 1
        assert ("text " in entry.display.lower()) == (entry.sms_number is not None), entry.key


@pytest.mark.parametrize(
    ("key", "display"),
    [
        ("us-988-lifeline", "Call 988 or text 988"),
        ("us-crisis-text-line-mha", "Text MHA to 741741"),
        ("us-lifeline-legacy-number", "Call (800) 273-8255"),
        ("ca-988-suicide-crisis-helpline", "Call 9-8-8 or text 9-8-8"),
        ("gb-samaritans", "Call 116 123"),
        ("au-lifeline", "Call 13 11 14"),
        ("it-telefono-amico", "Call 02 2327 2327"),
        ("ie-emergency-number", "Call 112"),
    ],
)
def test_display_writes_numbers_as_the_region_does(
    catalogue: Catalogue, key: str, display: str
) -> None:
    """National numbers in the region's national format; short codes as the source groups them."""
    assert catalogue.get(key).display == display


@given(st.from_regex(r"\A\+?[0-9 ()-]{1,18}\Z"), st.sampled_from(["US", "GB", "AU", "DE", "IN"]))
def test_a_curated_number_is_stored_dialable_and_shown_as_written_or_national(
    written: str, region: str
) -> None:
    """Whatever is written, loading stores a dialable form that the shown text leads back to."""
    try:
        stored, shown = dialable(written, region)
    except ValueError:
        assert e164(written, region) is None
        return
    if stored.startswith("+"):
        assert e164(shown, region) == stored == e164(written, region)
    else:
        assert e164(written, region) is None
        assert stored.isdigit() and len(stored) <= 6
        assert re.sub(r"[ -]", "", shown) == stored


def test_contact_text_joins_call_and_text() -> None:
    """Call, text, or both in one sentence; nothing when there is neither."""
    assert contact_text("988", "988", None) == "Call 988 or text 988"
    assert contact_text(None, "741741", "MHA") == "Text MHA to 741741"
    assert contact_text("(800) 662-4357", None, None) == "Call (800) 662-4357"
    assert contact_text(None, None, None) is None
