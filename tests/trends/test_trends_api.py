"""GET /trends and GET /trends/chart through the HTTP API.

Expected numbers are worked out by hand in the comments, never by calling the
code under test.
"""

import struct
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from tests.factories import trend_summary as summary

FIXED_NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
TODAY = date(2026, 6, 15)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NS = "{http://www.w3.org/2000/svg}"
DAY_KEYS = {
    "date",
    "nausea",
    "aches",
    "anxiety",
    "insomnia",
    "diarrhea",
    "vomiting",
    "cravings",
    "sleep_hours",
    "used_opioids",
    "crisis",
    "total",
    "total_7d_avg",
    "episode_day",
}


@pytest.fixture(autouse=True)
def fixed_clock():
    """The default range ends on the patient's today; pin it."""
    with time_machine.travel(FIXED_NOW, tick=True):
        yield


def scores(nausea, aches, anxiety, insomnia, **extra) -> dict:
    return {"nausea": nausea, "aches": aches, "anxiety": anxiety, "insomnia": insomnia, **extra}


def log_days(factory, patient, days: dict[str, dict]) -> None:
    for day, body in days.items():
        factory.checkin(patient, date.fromisoformat(day), **body)


def trends(client, patient, query: str = ""):
    return client.get(f"/api/v1/trends{query}", headers=patient.headers)


# Two weeks, the second one being the range 8-14 June; today (15 June) is not logged yet.
#            nausea aches anxiety insomnia   total
TWO_WEEKS = {
    "2026-06-01": scores(6, 6, 6, 6),  # 24   previous period only
    "2026-06-03": scores(5, 6, 5, 6),  # 22
    "2026-06-05": scores(5, 5, 5, 5),  # 20
    "2026-06-07": scores(4, 5, 4, 5),  # 18
    "2026-06-08": scores(4, 4, 4, 4),  # 16   range starts
    # 9 June: not logged
    "2026-06-10": scores(
        3, 4, 3, 4, diarrhea=2, vomiting=0, cravings=5, sleep_hours=6.5, used_opioids=False,
        crisis=False, note="private words",
    ),  # 14
    "2026-06-11": scores(3, 3, 3, 3),  # 12
    # 12 June: not logged
    "2026-06-13": scores(2, 3, 2, 3),  # 10
    "2026-06-14": scores(2, 2, 3, 2),  # 9
}  # fmt: skip


def test_a_week_matches_hand_computed_numbers(client, factory):
    patient = factory.patient()
    log_days(factory, patient, TWO_WEEKS)
    response = trends(client, patient, "?from=2026-06-08&to=2026-06-14")
    assert response.status_code == 200
    body = response.json
    assert (body["from"], body["to"]) == ("2026-06-08", "2026-06-14")
    assert (body["days_in_range"], body["days_logged"]) == (7, 5)
    # 14 and 13 June are logged, 12 June is not.
    assert body["current_streak"] == 2

    # total_7d_avg: mean total of the check-ins in the 7 days ending that day.
    assert [(d["date"], d["total"], d["total_7d_avg"]) for d in body["days"]] == [
        ("2026-06-08", 16, 19.0),  # 2..8 June: 22 20 18 16 -> 76/4
        ("2026-06-09", None, 19.0),  # 3..9 June: 22 20 18 16 -> 76/4
        ("2026-06-10", 14, 17.0),  # 4..10 June: 20 18 16 14 -> 68/4
        ("2026-06-11", 12, 16.0),  # 5..11 June: 20 18 16 14 12 -> 80/5
        ("2026-06-12", None, 15.0),  # 6..12 June: 18 16 14 12 -> 60/4
        ("2026-06-13", 10, 14.0),  # 7..13 June: 18 16 14 12 10 -> 70/5
        ("2026-06-14", 9, 12.2),  # 8..14 June: 16 14 12 10 9 -> 61/5
    ]
    by_date = {d["date"]: d for d in body["days"]}
    # Every optional field comes through; the private note never does.
    assert by_date["2026-06-10"] == {
        "date": "2026-06-10",
        "nausea": 3,
        "aches": 4,
        "anxiety": 3,
        "insomnia": 4,
        "diarrhea": 2,
        "vomiting": 0,
        "cravings": 5,
        "sleep_hours": 6.5,
        "used_opioids": False,
        "crisis": False,
        "total": 14,
        "total_7d_avg": 17.0,
        "episode_day": None,
    }
    # A day without a check-in is a gap (nulls), not zeros.
    assert by_date["2026-06-09"] == dict.fromkeys(DAY_KEYS) | {
        "date": "2026-06-09",
        "total_7d_avg": 19.0,
    }

    # Range 8..14 June (logged 8, 10, 11, 13, 14) against 1..7 June (logged 1, 3, 5, 7).
    assert body["summary"] == {
        # 4 3 3 2 2 -> 14/5 = 2.8; before 6 5 5 4 -> 20/4 = 5.0; change -2.2
        "nausea": summary(2.8, 2, 4, 2, 5.0, -2.2, "improving"),
        # 4 4 3 3 2 -> 16/5 = 3.2; before 6 6 5 5 -> 22/4 = 5.5; change -2.3
        "aches": summary(3.2, 2, 4, 2, 5.5, -2.3, "improving"),
        # 4 3 3 2 3 -> 15/5 = 3.0; before 6 5 5 4 -> 20/4 = 5.0; change -2.0
        "anxiety": summary(3.0, 2, 4, 3, 5.0, -2.0, "improving"),
        # 4 4 3 3 2 -> 16/5 = 3.2; before 6 6 5 5 -> 22/4 = 5.5; change -2.3
        "insomnia": summary(3.2, 2, 4, 2, 5.5, -2.3, "improving"),
        # 16 14 12 10 9 -> 61/5 = 12.2; before 24 22 20 18 -> 84/4 = 21.0; change -8.8
        "total": summary(12.2, 9, 16, 9, 21.0, -8.8, "improving"),
    }


@pytest.mark.parametrize(
    ("last_day", "total_summary"),
    [
        # 11 and 11 -> 11.0, before 8 and 8 -> 8.0: +3.0 is exactly the worsening edge.
        (scores(3, 3, 1, 4), summary(11.0, 11, 11, 11, 8.0, 3.0, "worsening")),
        # 11 and 10 -> 10.5: +2.5 stays stable.
        (scores(3, 2, 1, 4), summary(10.5, 10, 11, 10, 8.0, 2.5, "stable")),
    ],
)
def test_direction_edges_against_the_period_before(client, factory, last_day, total_summary):
    patient = factory.patient()
    log_days(
        factory,
        patient,
        {
            "2026-06-12": scores(2, 2, 2, 2),  # 8
            "2026-06-13": scores(2, 2, 2, 2),  # 8
            "2026-06-14": scores(3, 2, 1, 5),  # 11
            "2026-06-15": last_day,
        },
    )
    body = trends(client, patient, "?from=2026-06-14&to=2026-06-15").json
    assert body["summary"]["total"] == total_summary
    # Nausea 3 and 3 -> 3.0 vs 2.0: +1.0 is exactly the symptom edge.
    assert body["summary"]["nausea"] == summary(3.0, 3, 3, 3, 2.0, 1.0, "worsening")
    # Anxiety 1 and 1 -> 1.0 vs 2.0: -1.0 is exactly the improving edge.
    assert body["summary"]["anxiety"] == summary(1.0, 1, 1, 1, 2.0, -1.0, "improving")
    # Insomnia 5 then 4 -> 4.5 vs 2.0: +2.5.
    assert body["summary"]["insomnia"] == summary(4.5, 4, 5, 4, 2.0, 2.5, "worsening")
    # 14 June: 8 8 11 -> 27/3 = 9.0.
    assert body["days"][0]["total_7d_avg"] == 9.0
    assert body["current_streak"] == 4


def test_aches_half_a_point_up_is_stable(client, factory):
    patient = factory.patient()
    log_days(
        factory,
        patient,
        {
            "2026-06-13": scores(2, 2, 2, 2),
            "2026-06-14": scores(2, 2, 2, 2),
            "2026-06-15": scores(2, 3, 2, 2),
        },
    )
    body = trends(client, patient, "?from=2026-06-14&to=2026-06-15").json
    # Range 2 and 3 -> 2.5; the period before (12-13 June) has only the 13th: 2.0.
    assert body["summary"]["aches"] == summary(2.5, 2, 3, 3, 2.0, 0.5, "stable")


def test_empty_range_is_all_gaps(client, factory):
    patient = factory.patient()
    body = trends(client, patient, "?from=2026-06-01&to=2026-06-03").json
    assert body["days_logged"] == 0
    assert body["days_in_range"] == 3
    assert body["current_streak"] == 0
    assert [d["date"] for d in body["days"]] == ["2026-06-01", "2026-06-02", "2026-06-03"]
    assert all(d[key] is None for d in body["days"] for key in DAY_KEYS - {"date"})
    assert body["summary"]["total"] == summary(None, None, None, None, None, None, None)


def test_default_range_is_the_last_30_days(client, factory):
    patient = factory.patient()
    # 16 May is 30 days before today, one day too early; 17 May is the first day.
    log_days(
        factory,
        patient,
        {
            "2026-05-16": scores(5, 5, 5, 5),
            "2026-05-17": scores(4, 4, 4, 4),
            "2026-06-15": scores(3, 3, 3, 3),
        },
    )
    body = trends(client, patient).json
    assert (body["from"], body["to"]) == ("2026-05-17", "2026-06-15")
    assert body["days_in_range"] == len(body["days"]) == 30
    assert body["days_logged"] == 2
    dates = [date.fromisoformat(d["date"]) for d in body["days"]]
    assert dates == [date(2026, 5, 17) + timedelta(days=n) for n in range(30)]
    # The 16 May check-in is only in the previous period (17 April - 16 May).
    assert body["summary"]["total"]["previous_mean"] == 20.0
    assert body["summary"]["total"]["mean"] == 14.0  # (16 + 12) / 2


@pytest.mark.parametrize(
    ("now", "timezone", "expected"),
    [
        # 23:30 UTC on 15 June is 13:30 on 16 June in Kiritimati (UTC+14).
        ("2026-06-15T23:30:00+00:00", "Pacific/Kiritimati", ("2026-05-18", "2026-06-16")),
        # 00:30 UTC on 16 June is 13:30 on 15 June in Pago Pago (UTC-11).
        ("2026-06-16T00:30:00+00:00", "Pacific/Pago_Pago", ("2026-05-17", "2026-06-15")),
        # The same two moments for someone on UTC.
        ("2026-06-15T23:30:00+00:00", "UTC", ("2026-05-17", "2026-06-15")),
        ("2026-06-16T00:30:00+00:00", "UTC", ("2026-05-18", "2026-06-16")),
    ],
)
def test_default_range_follows_the_patients_time_zone(client, factory, now, timezone, expected):
    with time_machine.travel(datetime.fromisoformat(now), tick=True):
        patient = factory.patient(timezone=timezone)
        local_today = date.fromisoformat(expected[1])
        factory.checkin(patient, local_today, **scores(2, 3, 4, 5))
        body = trends(client, patient).json
    assert (body["from"], body["to"]) == expected
    assert body["days_in_range"] == 30
    assert body["days"][-1]["total"] == 14
    assert body["current_streak"] == 1


def test_streak_reaches_back_beyond_the_range(client, factory):
    patient = factory.patient()
    # A gap on 6 May, then 40 days in a row: 7 May .. 15 June.
    factory.log(patient, date(2026, 5, 5), [scores(6, 6, 6, 6)] * 3)
    factory.log(patient, TODAY, [scores(4, 4, 4, 4)] * 40)
    body = trends(client, patient, "?from=2026-06-13&to=2026-06-15").json
    assert body["days_in_range"] == 3
    assert body["current_streak"] == 40
    # Ending on 10 June: 7..31 May (25 days) + 1..10 June (10 days).
    assert trends(client, patient, "?from=2026-06-01&to=2026-06-10").json["current_streak"] == 35
    # Ending on 5 May: 3, 4 and 5 May.
    assert trends(client, patient, "?from=2026-05-01&to=2026-05-05").json["current_streak"] == 3
    # Ending on 6 May, the gap: the day before still counts, so 3.
    assert trends(client, patient, "?from=2026-05-01&to=2026-05-06").json["current_streak"] == 3

    # Not having logged today yet does not break the streak: 7 May .. 14 June is 39 days.
    assert client.delete("/api/v1/checkins/2026-06-15", headers=patient.headers).status_code == 204
    assert trends(client, patient).json["current_streak"] == 39


def test_only_my_own_checkins_count(client, factory):
    alice, bob = factory.patient(), factory.patient()
    log_days(factory, alice, {"2026-06-14": scores(9, 9, 9, 9)})
    log_days(factory, bob, {"2026-06-14": scores(1, 1, 1, 1)})
    body = trends(client, bob, "?from=2026-06-14&to=2026-06-14").json
    assert body["days"][0]["total"] == 4
    assert body["summary"]["total"]["max"] == 4


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        # 14 June 2025 .. 15 June 2026 is 367 days; one too many.
        ("?from=2025-06-14&to=2026-06-15", 422, "from"),
        # 15 June 2025 .. 15 June 2026 is 366 days: allowed.
        ("?from=2025-06-15&to=2026-06-15", 200, None),
        # Only `from`, long ago: the range runs to today and is far too long.
        ("?from=2020-01-01", 422, "from"),
        ("?from=2026-06-10&to=2026-06-01", 422, "from"),
        ("?from=junk", 422, "from"),
        ("?to=2026-13-01", 422, "to"),
    ],
)
def test_range_limits(client, factory, query, status, field):
    patient = factory.patient()
    for path in ("/api/v1/trends", "/api/v1/trends/chart"):
        response = client.get(path + query, headers=patient.headers)
        assert response.status_code == status, (path, response.get_data(as_text=True)[:300])
        if field:
            assert response.content_type == "application/problem+json"
            assert field in response.json["errors"]
    if status == 200:
        body = trends(client, patient, query).json
        assert body["days_in_range"] == len(body["days"]) == 366
        assert body["days"][0]["date"] == "2025-06-15"


@pytest.mark.parametrize("path", ["/api/v1/trends", "/api/v1/trends/chart"])
def test_counselors_get_403_and_anonymous_401(client, factory, path):
    counselor = factory.counselor()
    assert client.get(path, headers=counselor.headers).status_code == 403
    anonymous = client.get(path)
    assert anonymous.status_code == 401
    assert anonymous.content_type == "application/problem+json"


# --- the chart --------------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which must come first."""
    assert data[:8] == PNG_SIGNATURE
    length, chunk_type = struct.unpack(">I4s", data[8:16])
    assert (length, chunk_type) == (13, b"IHDR")
    return struct.unpack(">II", data[16:24])


def log_a_year_with_gaps(factory, patient) -> None:
    """Every 9th day over the past year, then the last ten days in a row."""
    for offset in range(10, 365, 9):
        factory.checkin(patient, TODAY - timedelta(days=offset), **scores(offset % 11, 5, 6, 7))
    factory.log(patient, TODAY, [scores(n % 11, 10 - n % 11, 3, 2) for n in range(10)])


@pytest.mark.parametrize(
    "query",
    [
        "?from=2026-06-15&to=2026-06-15",  # 1 day
        "",  # the default 30 days
        "?from=2025-06-15&to=2026-06-15",  # 366 days
    ],
)
def test_png_chart_for_one_day_a_month_and_a_year(client, factory, query):
    patient = factory.patient()
    log_a_year_with_gaps(factory, patient)
    response = client.get(f"/api/v1/trends/chart{query}", headers=patient.headers)
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "no-store"
    data = response.data
    width, height = png_size(data)
    # Landscape, readable on a phone and in a report, not a poster.
    assert 600 <= width <= 2400 and 300 <= height <= 1600 and width > height
    assert 5 * 1024 < len(data) < 1024 * 1024


@pytest.mark.parametrize(
    "query",
    [
        "?format=svg&from=2026-06-15&to=2026-06-15",
        "?format=svg",
        "?format=svg&from=2025-06-15&to=2026-06-15",
    ],
)
def test_svg_chart_for_one_day_a_month_and_a_year(client, factory, query):
    patient = factory.patient()
    log_a_year_with_gaps(factory, patient)
    response = client.get(f"/api/v1/trends/chart{query}", headers=patient.headers)
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{SVG_NS}svg"
    assert root.get("viewBox")
    # Lines, axes and text were drawn, not an empty canvas.
    assert len(root.findall(f".//{SVG_NS}path")) > 20
    assert 5 * 1024 < len(response.data) < 3 * 1024 * 1024


def test_chart_without_checkins_still_renders(client, factory):
    patient = factory.patient()
    response = client.get("/api/v1/trends/chart", headers=patient.headers)
    assert response.status_code == 200
    assert png_size(response.data)[0] > 0


@pytest.mark.parametrize("image_format", ["gif", "PNG", "pdf", ""])
def test_unknown_chart_format_is_422(client, factory, image_format):
    patient = factory.patient()
    response = client.get(f"/api/v1/trends/chart?format={image_format}", headers=patient.headers)
    assert response.status_code == 422
    assert "format" in response.json["errors"]
