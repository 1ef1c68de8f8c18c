"""GET /resources and GET /resources/treatment through the HTTP API.

The treatment locator is exercised against a local fake FindTreatment server
started by the tests (tests/fakes.py, shared with test_locator.py), which records
every request it receives so the tests can see exactly what left the server.
"""

import functools
import time
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs

import pytest
import time_machine

from server.resources.service import KIND_ORDER
from tests import fakes
from tests.factories import Factory
from tests.fakes import ROW_FULL, ROW_MINIMAL, SEARCH_PATH, FakeFindTreatment, payload

RESOURCE_KEYS = {
    "id",
    "name",
    "kind",
    "region",
    "phone",
    "sms",
    "display",
    "url",
    "hours",
    "description",
    "source_url",
    "verified_on",
    "provided_by",
    "added_on",
    "second_hand",
}
URGENCY = KIND_ORDER

DIRECTORY = "Find A Helpline: crisis lines in your country"
US_ALL = {
    "Emergency services (911)",
    "988 Suicide & Crisis Lifeline",
    "Lifeline (older 1-800 number)",
    "Crisis Text Line (via Mental Health America)",
    "SAMHSA National Helpline",
    "FindTreatment.gov",
    "Poison Help",
    "Never Use Alone",
    "Overdose response and naloxone",
    DIRECTORY,
}
GB_ALL = {
    "Emergency services (999)",
    "Samaritans",
    "NHS 111 mental health option (England)",
    "FRANK",
    DIRECTORY,
}
AU_ALL = {
    "Emergency services (000)",
    "Lifeline",
    "Beyond Blue",
    "National Alcohol and Other Drug Hotline",
    "Family Drug Support",
    "Poisons Information Centre",
    DIRECTORY,
}
# Fallback helplines: helpline, treatment and crisis kinds of the region.
US_FALLBACK = {
    "SAMHSA National Helpline",
    "FindTreatment.gov",
    "988 Suicide & Crisis Lifeline",
    "Lifeline (older 1-800 number)",
    "Crisis Text Line (via Mental Health America)",
    DIRECTORY,
}
GB_FALLBACK = {"Samaritans", "NHS 111 mental health option (England)", "FRANK", DIRECTORY}

FACILITIES = [
    {
        "name": "Riverside Recovery Center — Outpatient Program",
        "address": "12 River Rd, Suite 4, Springfield, IL 62701",
        "phone": "217-555-0100",
        "website": "https://riverside.example.org",
        "distance_miles": 1.8,
        "services": ["Substance use treatment; Detoxification", "Buprenorphine; Naltrexone"],
    },
    {
        "name": "Hilltop Clinic",
        "address": "Chatham, IL",
        "phone": None,
        "website": None,
        "distance_miles": 6.25,
        "services": [],
    },
]


# --- a fake FindTreatment server ----------------------------------------------------------------


# These tests' replies answer with both facilities unless given another body.
Reply = functools.partial(fakes.Reply, body=payload(ROW_FULL, ROW_MINIMAL))


@pytest.fixture
def fake():
    with FakeFindTreatment() as server:
        yield server


@pytest.fixture
def located(app_factory, fake):
    """A client of an app whose treatment locator is the fake server."""
    return app_factory(TREATMENT_LOCATOR_URL=fake.url).test_client()


def names(items: list[dict]) -> set[str]:
    return {item["name"] for item in items}


def assert_catalogue_items(items: list[dict], region: str) -> None:
    for item in items:
        assert set(item) == RESOURCE_KEYS
        assert item["region"] == region
        assert item["source_url"].startswith(("https://", "http://"))
        assert date.fromisoformat(item["verified_on"])
        assert item["phone"] or item["sms"] or item["url"]
    ranks = [URGENCY.index(item["kind"]) for item in items]
    assert ranks == sorted(ranks)


# --- the catalogue ------------------------------------------------------------------------------


def test_public_list_needs_no_token_and_defaults_to_the_us(client):
    response = client.get("/api/v1/resources")
    assert response.status_code == 200
    assert response.json["region"] == "US"
    assert names(response.json["items"]) == US_ALL
    assert_catalogue_items(response.json["items"], "US")
    # Emergency first: the list reads most urgent first.
    assert response.json["items"][0]["name"] == "Emergency services (911)"


def test_signed_in_default_is_the_users_own_region(client, factory):
    patient = factory.patient(region="GB")
    mine = client.get("/api/v1/resources", headers=patient.headers)
    assert mine.json["region"] == "GB"
    assert names(mine.json["items"]) == GB_ALL
    assert_catalogue_items(mine.json["items"], "GB")

    counselor = factory.counselor(region="AU")
    theirs = client.get("/api/v1/resources", headers=counselor.headers)
    assert theirs.json["region"] == "AU"
    assert names(theirs.json["items"]) == AU_ALL

    # Asking for a region wins over the account's.
    asked = client.get("/api/v1/resources?region=US", headers=patient.headers)
    assert asked.json["region"] == "US"
    assert names(asked.json["items"]) == US_ALL


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?region=GB&kind=crisis", {"Samaritans", "NHS 111 mental health option (England)"}),
        ("?region=US&kind=harm_reduction", {"Never Use Alone", "Overdose response and naloxone"}),
        ("?region=CA&kind=harm_reduction", {"National Overdose Response Service (NORS)"}),
        ("?region=IE&kind=helpline", {"HSE Drugs and Alcohol Helpline"}),
        # No curated Irish emergency entry: the number both machine tables agree on.
        ("?region=IE&kind=emergency", {"Emergency number (112)"}),
        # A focus country with curated entries.
        (
            "?region=FR",
            {
                "SAMU medical emergency (15), or 112",
                "3114, numéro national de prévention du suicide",
                DIRECTORY,
            },
        ),
        # A region where the two tables disagree: only the directory.
        ("?region=CM", {DIRECTORY}),
    ],
)
def test_region_and_kind_filter(client, query, expected):
    response = client.get(f"/api/v1/resources{query}")
    assert response.status_code == 200
    assert names(response.json["items"]) == expected
    kind = parse_qs(query[1:]).get("kind")
    if kind:
        assert {item["kind"] for item in response.json["items"]} <= set(kind)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?region=XX", "region"),
        ("?region=gb", "region"),
        ("?region=GBR", "region"),
        ("?region=", "region"),
        ("?kind=hotline", "kind"),
        ("?kind=Crisis", "kind"),
    ],
)
def test_invalid_region_or_kind_is_422(client, query, field):
    response = client.get(f"/api/v1/resources{query}")
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert list(response.json["errors"]) == [field]


@pytest.mark.parametrize("path", ["/api/v1/resources", "/api/v1/resources/treatment"])
@pytest.mark.parametrize("query", ["", "?region=GB"])
def test_a_token_that_is_sent_must_be_valid(client, path, query):
    response = client.get(path + query, headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"


def test_an_expired_token_is_401_not_silently_anonymous(client, factory):
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False):
        patient = factory.patient(region="GB")
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        response = client.get("/api/v1/resources", headers=patient.headers)
    assert response.status_code == 401


# --- treatment: no provider configured ---------------------------------------------------------


def test_without_a_provider_the_answer_is_the_fallback(client):
    response = client.get("/api/v1/resources/treatment?postal_code=62701")
    assert response.status_code == 200
    body = response.json
    assert body["source"] == "fallback"
    assert body["facilities"] == []
    assert names(body["helplines"]) == US_FALLBACK
    assert_catalogue_items(body["helplines"], "US")
    assert body["locator_url"] == "https://findtreatment.gov/locator?sAddr=62701"


def test_fallback_without_a_postal_code_links_to_the_search_page(client):
    body = client.get("/api/v1/resources/treatment").json
    assert body["source"] == "fallback"
    assert body["locator_url"] == "https://findtreatment.gov/locator"


def test_fallback_uses_the_signed_in_persons_region(client, factory):
    patient = factory.patient(region="GB")
    body = client.get("/api/v1/resources/treatment", headers=patient.headers).json
    assert body["source"] == "fallback"
    assert names(body["helplines"]) == GB_FALLBACK
    assert_catalogue_items(body["helplines"], "GB")
    assert body["locator_url"] == "https://www.talktofrank.com/get-help/find-support-near-you"


# --- treatment: the FindTreatment provider ------------------------------------------------------


def test_provider_answers_with_facilities(located, fake):
    response = located.get("/api/v1/resources/treatment?postal_code=62701&radius_miles=10")
    assert response.status_code == 200
    assert response.json == {
        "source": "findtreatment",
        "radius_miles": 10,
        "facilities": FACILITIES,
        "helplines": [],
        "locator_url": "https://findtreatment.gov/locator?sAddr=62701",
    }
    [(path, query)] = fake.requests
    assert path == fake.prefix + SEARCH_PATH
    assert query["sAddr"] == ["62701"]
    assert query["sType"] == ["SA"]
    # 10 miles * 1609.344 = 16093.44 metres.
    assert query["limitValue"] == ["16093"]


def test_provider_answers_are_cached(located, fake):
    for _ in range(3):
        body = located.get("/api/v1/resources/treatment?postal_code=62701").json
        assert body["source"] == "findtreatment"
        assert body["facilities"] == FACILITIES
    assert len(fake.requests) == 1
    # The default radius is 25 miles: 40233.6 metres.
    assert fake.requests[0][1]["limitValue"] == ["40234"]
    # Another radius is another search.
    located.get("/api/v1/resources/treatment?postal_code=62701&radius_miles=50")
    assert len(fake.requests) == 2


def test_zip_plus_four_is_accepted(located, fake):
    body = located.get("/api/v1/resources/treatment?postal_code=62701-1234").json
    assert body["source"] == "findtreatment"
    assert fake.requests[0][1]["sAddr"] == ["62701-1234"]


@pytest.mark.parametrize(
    "reply",
    [Reply(status=500, body=b'{"error": "boom"}'), Reply(body=b"<html>maintenance</html>")],
)
def test_a_failing_provider_gives_the_fallback(located, fake, reply):
    fake.reply = reply
    response = located.get("/api/v1/resources/treatment?postal_code=62701")
    assert response.status_code == 200
    body = response.json
    assert body["source"] == "fallback"
    assert body["facilities"] == []
    assert names(body["helplines"]) == US_FALLBACK
    assert body["locator_url"] == "https://findtreatment.gov/locator?sAddr=62701"
    assert len(fake.requests) == 1


def test_a_slow_provider_times_out_into_the_fallback(app_factory, fake):
    fake.reply = Reply(delay=5.0)
    client = app_factory(
        TREATMENT_LOCATOR_URL=fake.url, TREATMENT_LOCATOR_TIMEOUT_SECONDS=0.2
    ).test_client()
    started = time.monotonic()
    response = client.get("/api/v1/resources/treatment?postal_code=62701")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert response.json["source"] == "fallback"
    assert len(fake.requests) == 1
    # Bounded by the 0.2 s timeout, nowhere near the 5 s the upstream would take.
    assert elapsed < 2.0


def test_an_unreachable_provider_gives_the_fallback(app_factory):
    # A port nothing listens on: connection refused.
    server = FakeFindTreatment()
    url = server.url
    server.close()
    client = app_factory(TREATMENT_LOCATOR_URL=url).test_client()
    body = client.get("/api/v1/resources/treatment?postal_code=62701").json
    assert body["source"] == "fallback"
    assert names(body["helplines"]) == US_FALLBACK


def test_outside_the_us_the_provider_is_never_called(app_factory, fake):
    app = app_factory(TREATMENT_LOCATOR_URL=fake.url)
    client = app.test_client()
    asked = client.get("/api/v1/resources/treatment?postal_code=62701&region=GB").json
    assert asked["source"] == "fallback"
    assert names(asked["helplines"]) == GB_FALLBACK
    # The region's own finder, never the US locator (and never the postal code).
    assert asked["locator_url"] == "https://www.talktofrank.com/get-help/find-support-near-you"

    patient = Factory(app, client).patient(region="AU")
    mine = client.get("/api/v1/resources/treatment?postal_code=62701", headers=patient.headers)
    assert mine.json["source"] == "fallback"
    assert_catalogue_items(mine.json["helplines"], "AU")
    assert fake.requests == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("postal_code=62701%3BDROP", "postal_code"),
        ("postal_code=%20", "postal_code"),
        ("postal_code=" + "1" * 11, "postal_code"),
        ("postal_code=62701&radius_miles=0", "radius_miles"),
        ("postal_code=62701&radius_miles=501", "radius_miles"),
        ("postal_code=62701&radius_miles=ten", "radius_miles"),
        ("region=XX", "region"),
    ],
)
def test_bad_treatment_query_is_422_and_nothing_is_sent(located, fake, query, field):
    response = located.get(f"/api/v1/resources/treatment?{query}")
    assert response.status_code == 422
    assert list(response.json["errors"]) == [field]
    assert fake.requests == []


@pytest.mark.parametrize("postal_code", ["SW1A 1AA", "6270", "627011", "62701-12"])
def test_postcodes_that_are_not_us_zips_get_the_fallback_not_an_error(located, fake, postal_code):
    response = located.get(
        "/api/v1/resources/treatment", query_string={"postal_code": postal_code}
    )
    assert response.status_code == 200
    assert response.json["source"] == "fallback"
    assert names(response.json["helplines"]) == US_FALLBACK
    assert response.json["locator_url"] == "https://findtreatment.gov/locator"
    assert fake.requests == []


def test_the_postal_code_goes_upstream_only_when_asked(app_factory, fake):
    app = app_factory(TREATMENT_LOCATOR_URL=fake.url)
    client = app.test_client()
    today = date(2026, 6, 15)
    with time_machine.travel(datetime(2026, 6, 15, 12, 0, tzinfo=UTC), tick=True):
        factory = Factory(app, client)
        patient = factory.patient()
        headers = patient.headers
        # A severe day, which attaches treatment resources, and a worsening history.
        factory.log(patient, today - timedelta(days=1), [{"nausea": 2}] * 4)
        severe = factory.checkin(patient, today, nausea=9, aches=9, anxiety=9, insomnia=9)
        assert severe.json["assessment"]["level"] == "severe"
        for path in (
            "/api/v1/status",
            "/api/v1/resources",
            "/api/v1/resources?kind=treatment",
            "/api/v1/trends",
            "/api/v1/checkins",
            "/api/v1/me",
            # The treatment endpoint itself without a postal code has nothing to send.
            "/api/v1/resources/treatment",
        ):
            assert client.get(path, headers=headers).status_code == 200, path
        assert fake.requests == []

        found = client.get("/api/v1/resources/treatment?postal_code=62701", headers=headers)
        assert found.json["source"] == "findtreatment"
        assert [query["sAddr"] for _, query in fake.requests] == [["62701"]]


# --- treatment: limits, radius buckets and the circuit breaker ----------------------------------

TREATMENT = "/api/v1/resources/treatment"


def test_the_locator_is_limited_per_ip(app_factory, fake):
    client = app_factory(TREATMENT_LOCATOR_URL=fake.url, LOCATOR_LIMIT_PER_IP="2 per minute")
    client = client.test_client()
    here = {"REMOTE_ADDR": "203.0.113.7"}
    first = client.get(TREATMENT, query_string={"postal_code": "62701"}, environ_base=here)
    assert first.status_code == 200
    assert "Retry-After" not in first.headers
    assert client.get(TREATMENT, environ_base=here).status_code == 200
    limited = client.get(TREATMENT, query_string={"postal_code": "62702"}, environ_base=here)
    assert limited.status_code == 429
    assert limited.content_type == "application/problem+json"
    assert int(limited.headers["Retry-After"]) > 0
    # Nothing went upstream for the refused request; another address is not affected.
    assert [query["sAddr"] for _, query in fake.requests] == [["62701"]]
    elsewhere = {"REMOTE_ADDR": "198.51.100.9"}
    assert client.get(TREATMENT, environ_base=elsewhere).status_code == 200


@pytest.mark.parametrize(
    ("asked", "used"),
    [(1, 5), (5, 5), (6, 10), (11, 25), (26, 50), (51, 100), (101, 250), (251, 500)],
)
def test_the_radius_is_rounded_up_to_a_bucket(located, fake, asked, used):
    body = located.get(TREATMENT, query_string={"postal_code": "62701", "radius_miles": asked})
    assert body.json["source"] == "findtreatment"
    assert body.json["radius_miles"] == used
    [(_, query)] = fake.requests
    assert query["limitValue"] == [str(round(used * 1609.344))]


def test_nearby_radii_share_one_cache_entry_and_one_upstream_call(located, fake):
    answers = [
        located.get(TREATMENT, query_string={"postal_code": "62701", "radius_miles": radius})
        for radius in (11, 17, 20, 24, 25)
    ]
    assert {answer.json["radius_miles"] for answer in answers} == {25}
    assert {answer.json["source"] for answer in answers} == {"findtreatment"}
    assert len(fake.requests) == 1
    located.get(TREATMENT, query_string={"postal_code": "62701", "radius_miles": 26})
    assert len(fake.requests) == 2


def test_the_fallback_says_which_radius_it_would_use(client):
    body = client.get(TREATMENT, query_string={"postal_code": "62701", "radius_miles": 30}).json
    assert (body["source"], body["radius_miles"]) == ("fallback", 50)


def test_the_breaker_opens_after_repeated_failures_and_recovers(app_factory, fake):
    client = app_factory(TREATMENT_LOCATOR_URL=fake.url).test_client()
    fake.reply = Reply(status=503, body=b"busy")
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        sources = [
            client.get(TREATMENT, query_string={"postal_code": "62701"}).json["source"]
            for _ in range(8)
        ]
        # Five failures in a row open it; the rest are answered without calling upstream.
        assert sources == ["fallback"] * 8
        assert len(fake.requests) == 5

        fake.reply = Reply()
        clock.shift(59)
        still_open = client.get(TREATMENT, query_string={"postal_code": "62701"}).json
        assert still_open["source"] == "fallback"
        assert len(fake.requests) == 5
        # After 60 s one trial call goes through; it succeeds, so the breaker closes.
        clock.shift(2)
        assert (
            client.get(TREATMENT, query_string={"postal_code": "62701"}).json["source"]
            == "findtreatment"
        )
        assert (
            client.get(TREATMENT, query_string={"postal_code": "62702"}).json["source"]
            == "findtreatment"
        )
        assert len(fake.requests) == 7


def test_a_slow_provider_holds_no_worker_once_the_breaker_is_open(app_factory, fake):
    fake.reply = Reply(delay=5.0)
    client = app_factory(
        TREATMENT_LOCATOR_URL=fake.url,
        TREATMENT_LOCATOR_TIMEOUT_SECONDS=0.2,
        TREATMENT_LOCATOR_BREAKER_FAILURES=2,
    ).test_client()
    for _ in range(4):
        body = client.get(TREATMENT, query_string={"postal_code": "62701"}).json
        assert body["source"] == "fallback"
        assert names(body["helplines"]) == US_FALLBACK
    # Two timed out; the other two never waited on the upstream at all.
    assert len(fake.requests) == 2


@pytest.mark.parametrize(
    ("region", "finder"),
    [
        ("US", "https://findtreatment.gov/locator"),
        ("GB", "https://www.talktofrank.com/get-help/find-support-near-you"),
        ("IE", "https://www.drugs.ie/services"),
        ("AU", "https://adf.org.au/help-support/path2help/"),
        (
            "CA",
            "https://www.canada.ca/en/health-canada/services/substance-use/get-help/"
            "get-help-problematic-substance-use.html",
        ),
        # Everywhere else: the international directory, for the person's own country.
        ("NZ", "https://findahelpline.com/NZ"),
        ("FR", "https://findahelpline.com/FR"),
        ("CM", "https://findahelpline.com/CM"),
    ],
)
def test_the_locator_fallback_is_the_regions_own_finder(client, region, finder):
    body = client.get(f"/api/v1/resources/treatment?region={region}").json
    assert body["source"] == "fallback"
    assert body["locator_url"] == finder
    assert DIRECTORY in names(body["helplines"])


def test_each_entry_gives_a_dialable_phone_an_sms_object_and_a_display(client):
    items = client.get("/api/v1/resources?region=US").json["items"]
    by_name = {item["name"]: item for item in items}
    lifeline = by_name["988 Suicide & Crisis Lifeline"]
    assert (lifeline["phone"], lifeline["sms"]) == ("988", {"number": "988", "body": None})
    assert lifeline["display"] == "Call 988 or text 988"
    text_line = by_name["Crisis Text Line (via Mental Health America)"]
    assert (text_line["phone"], text_line["sms"]) == (None, {"number": "741741", "body": "MHA"})
    assert text_line["display"] == "Text MHA to 741741"
    legacy = by_name["Lifeline (older 1-800 number)"]
    assert (legacy["phone"], legacy["display"]) == ("+18002738255", "Call (800) 273-8255")
    assert by_name[DIRECTORY]["display"] is None  # a link only
    au = {item["name"]: item for item in client.get("/api/v1/resources?region=AU").json["items"]}
    assert (au["Lifeline"]["phone"], au["Lifeline"]["display"]) == ("+61131114", "Call 13 11 14")
