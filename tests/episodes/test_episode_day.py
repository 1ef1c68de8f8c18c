"""episode_day: the arithmetic (properties), and what check-ins, trends and exports carry."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.episodes.calculations import EpisodeSpan, anchor_day, episode_day

ZONES = ("America/New_York", "Pacific/Auckland", "Asia/Kolkata", "UTC", "Pacific/Kiritimati")
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


@st.composite
def spans(draw) -> EpisodeSpan:
    """An episode's span: day 0 up to 30 days before its start, open or ended."""
    started_on = draw(days)
    anchor = started_on - timedelta(days=draw(st.integers(-5, 30)))
    ended = draw(st.one_of(st.none(), st.integers(0, 400)))
    ended_on = None if ended is None else max(started_on, anchor) + timedelta(days=ended)
    return EpisodeSpan(anchor, started_on, ended_on)


@given(span=spans(), offset=st.integers(-500, 500))
def test_one_episode_counts_whole_days_from_day_0_to_its_end(span, offset):
    day = span.anchor + timedelta(days=offset)
    inside = offset >= 0 and (span.ended_on is None or day <= span.ended_on)
    assert episode_day(day, [span]) == (offset if inside else None)


@given(span=spans(), offset=st.integers(0, 400))
def test_consecutive_days_count_up_by_one(span, offset):
    day = span.anchor + timedelta(days=offset)
    today, tomorrow = episode_day(day, [span]), episode_day(day + timedelta(days=1), [span])
    if today is not None and tomorrow is not None:
        assert tomorrow == today + 1
    if today is None:
        assert tomorrow is None  # past the end, a day never comes back


@given(all_spans=st.lists(spans(), max_size=4), day=days)
def test_the_latest_covering_episode_applies(all_spans, day):
    number = episode_day(day, all_spans)
    covering = [span for span in all_spans if span.covers(day)]
    if not covering:
        assert number is None
        return
    counts = [(day - span.anchor).days for span in covering]
    assert number == min(counts) >= 0


@given(
    moment=st.datetimes(
        min_value=datetime(2001, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)
    ),
    zone=st.sampled_from(ZONES),
)
def test_day_0_is_the_local_date_of_the_last_use(moment, zone):
    local = moment.astimezone(ZoneInfo(zone))
    assert anchor_day(date(2000, 1, 1), moment, zone) == local.date()
    # Offsets stay within a day of UTC (Kiritimati is +14), so day 0 does too.
    assert abs((anchor_day(date(2000, 1, 1), moment, zone) - moment.date()).days) <= 1


@given(started_on=days, zone=st.sampled_from(ZONES))
def test_without_a_last_use_day_0_is_the_start(started_on, zone):
    assert anchor_day(started_on, None, zone) == started_on


# --- Through HTTP: the time zone and daylight-saving changes ---------------------------------

# (zone, last use as the person's clock showed it, day 0 there): each last use is 23:30 the
# night before a clock change, or (Auckland, Kolkata) a moment whose UTC date is the day before.
LAST_USES = [
    ("America/New_York", "2026-03-07T23:30:00-05:00", date(2026, 3, 7)),  # spring forward
    ("America/New_York", "2026-10-31T23:30:00-04:00", date(2026, 10, 31)),  # fall back
    ("Pacific/Auckland", "2026-04-04T23:30:00+13:00", date(2026, 4, 4)),  # clocks go back
    ("Pacific/Auckland", "2026-09-26T23:30:00+12:00", date(2026, 9, 26)),  # clocks go forward
    ("Pacific/Auckland", "2026-04-05T08:30:00+12:00", date(2026, 4, 5)),  # UTC: the 4th
    ("Asia/Kolkata", "2026-03-08T02:00:00+05:30", date(2026, 3, 8)),  # UTC: the 7th
]


def _checkins(client, patient, start: date, end: date) -> dict:
    """The patient's check-ins in a range, by date."""
    response = client.get(f"/api/v1/checkins?from={start}&to={end}", headers=patient.headers)
    assert response.status_code == 200
    return {item["date"]: item for item in response.json["items"]}


@pytest.mark.parametrize(("zone", "last_use_at", "day_0"), LAST_USES)
def test_episode_days_follow_the_patients_calendar_across_clock_changes(
    client, factory, zone, last_use_at, day_0
):
    patient = factory.patient(timezone=zone)
    logged = [day_0 + timedelta(days=n) for n in range(-1, 3)]
    for day in logged:
        factory.checkin(patient, day)
    body = {
        "started_on": (day_0 + timedelta(days=1)).isoformat(),
        "last_use_at": last_use_at,
        "substances": ["long_acting_opioid"],
        "moud": "none",
    }
    assert client.post("/api/v1/episodes", json=body, headers=patient.headers).status_code == 201
    listed = _checkins(client, patient, logged[0], logged[-1])
    assert [listed[day.isoformat()]["episode_day"] for day in logged] == [None, 0, 1, 2]
    one = client.get(f"/api/v1/checkins/{day_0 + timedelta(days=2)}", headers=patient.headers)
    assert one.json["episode_day"] == 2


def test_without_a_last_use_days_count_from_the_start_and_stop_at_the_end(client, factory):
    patient = factory.patient(timezone="Europe/Dublin")
    today = date.today()
    first = today - timedelta(days=6)
    for offset in range(7):
        factory.checkin(patient, first + timedelta(days=offset))
    body = {"started_on": str(first + timedelta(days=1)), "substances": ["kratom"], "moud": "none"}
    episode = client.post("/api/v1/episodes", json=body, headers=patient.headers).json
    client.post(
        f"/api/v1/episodes/{episode['id']}/end",
        json={"ended_on": str(first + timedelta(days=4))},
        headers=patient.headers,
    )
    listed = _checkins(client, patient, first, today)
    numbers = [listed[str(first + timedelta(days=n))]["episode_day"] for n in range(7)]
    assert numbers == [None, 0, 1, 2, 3, None, None]


def _open_episode(client, patient, started_on: date) -> None:
    body = {"started_on": str(started_on), "substances": ["short_acting_opioid"], "moud": "none"}
    assert client.post("/api/v1/episodes", json=body, headers=patient.headers).status_code == 201


def test_every_way_a_day_is_shown_carries_its_episode_day(client, factory):
    patient = factory.patient(timezone="UTC")
    today = date.today()
    factory.checkin(patient, today - timedelta(days=3))
    _open_episode(client, patient, today - timedelta(days=2))
    put = factory.checkin(patient, today - timedelta(days=1))
    assert put.json["episode_day"] == 1
    batch = client.post(
        "/api/v1/checkins/batch",
        json={
            "items": [{"date": str(today), "nausea": 1, "aches": 1, "anxiety": 1, "insomnia": 1}]
        },
        headers=patient.headers,
    )
    assert batch.json["items"][0]["checkin"]["episode_day"] == 2
    feed = client.get("/api/v1/checkins/changes", headers=patient.headers).json["items"]
    assert [item["checkin"]["episode_day"] for item in feed] == [None, 1, 2]


def test_trends_align_by_episode_day(client, factory):
    patient = factory.patient(timezone="UTC")
    today = date.today()
    start = today - timedelta(days=5)
    factory.log(patient, today, [{"nausea": n} for n in range(6)])
    _open_episode(client, patient, today - timedelta(days=2))
    query = f"/api/v1/trends?from={start}&to={today}"
    calendar = client.get(query, headers=patient.headers).json
    assert calendar["align"] == "calendar"
    assert [day["episode_day"] for day in calendar["days"]] == [None, None, None, 0, 1, 2]
    aligned = client.get(f"{query}&align=episode", headers=patient.headers).json
    assert aligned["align"] == "episode"
    assert [(day["episode_day"], day["date"], day["nausea"]) for day in aligned["days"]] == [
        (0, str(today - timedelta(days=2)), 3),
        (1, str(today - timedelta(days=1)), 4),
        (2, str(today), 5),
    ]
    # Only the layout of the days changes: the summary and counts still cover the range.
    assert {k: v for k, v in aligned.items() if k not in ("days", "align")} == {
        k: v for k, v in calendar.items() if k not in ("days", "align")
    }
    bad = client.get(f"{query}&align=dose", headers=patient.headers)
    assert bad.status_code == 422 and list(bad.json["errors"]) == ["align"]


def test_counselor_trends_align_by_episode_day(client, factory):
    patient, counselor = factory.patient(timezone="UTC"), factory.counselor()
    today = date.today()
    factory.log(patient, today, [{}, {}])
    _open_episode(client, patient, today)
    factory.share(patient, counselor)
    path = f"/api/v1/patients/{patient.id}/trends?from={today - timedelta(days=1)}&to={today}"
    days = client.get(f"{path}&align=episode", headers=counselor.headers).json["days"]
    assert [(day["date"], day["episode_day"]) for day in days] == [(str(today), 0)]
    log = client.get("/api/v1/me/access-log", headers=patient.headers).json["items"]
    assert log[0]["action"] == "trends_viewed" and log[0]["detail"]["align"] == "episode"


def test_a_counselor_without_checkins_sees_no_episode_day_in_trends(client, factory):
    """Episodes are `checkins` data: a trends-only share shows trends, not the last use."""
    patient, counselor = factory.patient(timezone="UTC"), factory.counselor()
    today = date.today()
    factory.log(patient, today, [{}, {}])
    _open_episode(client, patient, today)
    factory.share(patient, counselor, scope=["trends"])
    path = f"/api/v1/patients/{patient.id}/trends?from={today - timedelta(days=1)}&to={today}"
    days = client.get(path, headers=counselor.headers).json["days"]
    assert [day["episode_day"] for day in days] == [None, None]
    by_episode = client.get(f"{path}&align=episode", headers=counselor.headers)
    assert by_episode.status_code == 404
    log = client.get("/api/v1/me/access-log", headers=patient.headers).json["items"]
    assert [entry["action"] for entry in log].count("trends_viewed") == 1


def test_exports_carry_the_episode_day(client, factory):
    patient = factory.patient(timezone="UTC")
    today = date.today()
    factory.log(patient, today, [{}, {}])
    _open_episode(client, patient, today)
    query = f"from={today - timedelta(days=1)}&to={today}"
    response = client.get(f"/api/v1/export?format=csv&{query}", headers=patient.headers)
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(row["date"], row["episode_day"]) for row in rows] == [
        (str(today - timedelta(days=1)), ""),
        (str(today), "0"),
    ]
    pdf = client.get(f"/api/v1/export?format=pdf&{query}", headers=patient.headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
