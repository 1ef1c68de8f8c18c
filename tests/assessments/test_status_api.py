"""The judgement of each check-in, through PUT /checkins/{date} and GET /status.

Every case logs a realistic history through the API first: two earlier weeks of
withdrawal (a peak, then easing, with missed days) and a "last week" chosen per
test, then judges today's check-in. The expected numbers in the reasons are
worked out by hand in the comments next to each week.
"""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from server.resources.service import KIND_ORDER

FIXED_NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
TODAY = date(2026, 6, 15)

# Most urgent first: the order resources must come in.
URGENCY = KIND_ORDER
DOSING_RE = re.compile(
    r"\b(mg|mcg|ml|dose|doses|dosage|dosing|milligrams?|micrograms?|taper\w*)\b", re.I
)
JUDGEMENTAL_RE = re.compile(r"\b(relapse\w*|dirty|fail\w*|addict\w*|abuser?s?)\b", re.I)


def scores(nausea, aches, anxiety, insomnia, **extra) -> dict:
    """A full check-in body."""
    return {
        "nausea": nausea,
        "aches": aches,
        "anxiety": anxiety,
        "insomnia": insomnia,
        "used_opioids": False,
        **extra,
    }


# 25 May - 7 June (TODAY-21 .. TODAY-8): the first two weeks, using at first, then a
# withdrawal peak and easing, with missed days. Older than the 7-day baseline window,
# so none of it may count towards today's judgement.
EARLY_WEEKS = [
    scores(5, 6, 6, 7, used_opioids=True),
    scores(7, 8, 7, 8, vomiting=5, diarrhea=4),
    scores(8, 8, 8, 8, vomiting=6, diarrhea=5),
    None,
    scores(7, 7, 8, 7, diarrhea=3),
    scores(6, 7, 6, 7),
    None,
    scores(6, 6, 5, 6),
    scores(5, 5, 5, 6),
    scores(5, 5, 4, 5),
    None,
    scores(4, 5, 4, 5),
    scores(4, 4, 4, 5),
    scores(4, 4, 3, 4),
]

# 8-14 June (TODAY-7 .. TODAY-1), five check-ins, gaps on the 9th and 12th.
# Totals 16, 14, 14, 14, 12 -> mean 70 / 5 = 14.0.
# Means: nausea 17/5 = 3.4, aches 18/5 = 3.6, anxiety 18/5 = 3.6, insomnia 17/5 = 3.4.
STEADY_WEEK = [
    scores(4, 4, 4, 4),
    None,
    scores(3, 4, 3, 4),
    scores(4, 3, 4, 3),
    None,
    scores(3, 4, 3, 4),
    scores(3, 3, 4, 2),
]

# A calm week: totals 7, 7, 6, 7, 8 -> mean 35 / 5 = 7.0; anxiety 1, 1, 1, 1, 1 -> 1.0.
LOW_WEEK = [
    scores(2, 2, 1, 2),
    scores(2, 2, 1, 2),
    None,
    scores(2, 1, 1, 2),
    scores(2, 2, 1, 2),
    None,
    scores(2, 2, 1, 3),
]

# A hard week: every total 27 -> mean 27.0; nausea 34/5 = 6.8, aches 6.8, anxiety 6.8,
# insomnia 33/5 = 6.6.
HEAVY_WEEK = [
    scores(7, 7, 7, 6),
    scores(7, 6, 7, 7),
    None,
    scores(7, 7, 6, 7),
    scores(6, 7, 7, 7),
    None,
    scores(7, 7, 7, 6),
]

# Every region's crisis and severe days also list the crisis-line directory.
DIRECTORY = "Find A Helpline: crisis lines in your country"
US_CRISIS = {
    "Emergency services (911)",
    "988 Suicide & Crisis Lifeline",
    "Lifeline (older 1-800 number)",
    "Crisis Text Line (via Mental Health America)",
    DIRECTORY,
}
GB_CRISIS = {
    "Emergency services (999)",
    "Samaritans",
    "NHS 111 mental health option (England)",
    DIRECTORY,
}
# No curated Irish emergency entry: the number both machine tables agree on.
IE_CRISIS = {"Emergency number (112)", "Samaritans Ireland", "50808 crisis text line", DIRECTORY}
AU_CRISIS = {"Emergency services (000)", "Lifeline", DIRECTORY}


@pytest.fixture(autouse=True)
def fixed_clock():
    """'Today' decides which days may be logged; pin it (tests may travel further)."""
    with time_machine.travel(FIXED_NOW, tick=True):
        yield


def put_day(client, person, day: date, body: dict):
    return client.put(f"/api/v1/checkins/{day.isoformat()}", json=body, headers=person.headers)


def status(client, person):
    response = client.get("/api/v1/status", headers=person.headers)
    assert response.status_code == 200, response.json
    return response.json


def log_history(factory, patient, last_week: list, *, early=EARLY_WEEKS) -> None:
    """Log the early weeks, then the 7 days before today."""
    assert len(last_week) == 7
    factory.log(patient, TODAY - timedelta(days=8), early)
    factory.log(patient, TODAY - timedelta(days=1), last_week)


def judge_today(client, patient, body: dict, day: date = TODAY) -> dict:
    """PUT the day and check GET /status says exactly the same; return the assessment."""
    response = put_day(client, patient, day, body)
    assert response.status_code == 201, response.json
    assessment = response.json["assessment"]
    assert assessment["checkin_date"] == day.isoformat()
    assert status(client, patient) == assessment
    return assessment


def codes(assessment: dict) -> list[str]:
    return [reason["code"] for reason in assessment["reasons"]]


def message(assessment: dict, code: str) -> str:
    [found] = [r["message"] for r in assessment["reasons"] if r["code"] == code]
    return found


def names(assessment: dict) -> set[str]:
    return {resource["name"] for resource in assessment["resources"]}


def kinds(assessment: dict) -> list[str]:
    return [resource["kind"] for resource in assessment["resources"]]


def assert_resources_well_formed(assessment: dict, region: str) -> None:
    """Region matches, every entry is sourced and dated, most urgent kinds first."""
    for resource in assessment["resources"]:
        assert resource["region"] == region
        assert resource["source_url"].startswith(("https://", "http://"))
        assert date.fromisoformat(resource["verified_on"]).year >= 2025
    ranks = [URGENCY.index(kind) for kind in kinds(assessment)]
    assert ranks == sorted(ranks)


# --- no data, no baseline --------------------------------------------------------------------


def test_status_before_any_checkin_is_no_data(client, factory):
    patient = factory.patient()
    body = status(client, patient)
    assert body["level"] == "no_data"
    assert body["reasons"] == []
    assert body["resources"] == []
    assert body["checkin_date"] is None
    assert "not an emergency service" in body["notice"]


def test_first_ever_checkin_is_stable_with_no_baseline(client, factory):
    patient = factory.patient()
    # A rough first day (total 7+6+6+6 = 25), but nothing to compare it with.
    assessment = judge_today(client, patient, scores(7, 6, 6, 6))
    assert assessment["level"] == "stable"
    assert codes(assessment) == ["no_baseline"]
    assert "(0 in the last 7 days; 3 needed)" in message(assessment, "no_baseline")
    assert assessment["resources"] == []
    assert "not a diagnosis" in assessment["notice"]


def test_two_checkins_in_the_window_are_not_a_baseline(client, factory):
    patient = factory.patient()
    # Only 10 and 14 June fall in the window 8-14 June; the early weeks are older.
    week = [None, None, scores(3, 4, 3, 4), None, None, None, scores(3, 3, 4, 2)]
    log_history(factory, patient, week)
    # Total 5+5+5+5 = 20 is well above 14 and 12, but two check-ins are not a baseline.
    assessment = judge_today(client, patient, scores(5, 5, 5, 5))
    assert assessment["level"] == "stable"
    assert codes(assessment) == ["no_baseline"]
    assert "(2 in the last 7 days; 3 needed)" in message(assessment, "no_baseline")


def test_a_checkin_exactly_seven_days_before_completes_the_baseline(client, factory):
    patient = factory.patient()
    # 8 June is TODAY-7, the first day of the window: 16, 14, 12 -> mean 14.0.
    week = [scores(4, 4, 4, 4), None, scores(3, 4, 3, 4), None, None, None, scores(3, 3, 4, 2)]
    log_history(factory, patient, week)
    # 20 >= 14.0 + 5; every symptom 5 is below the minimum of 6.
    assessment = judge_today(client, patient, scores(5, 5, 5, 5))
    assert assessment["level"] == "worsening"
    assert assessment["reasons"] == [
        {"code": "worsening_total", "message": "Total 20, up from a 7-day average of 14.0."}
    ]


# --- stable and improving ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "level", "expected_codes"),
    [
        # Total 4+4+4+4 = 16: between 14.0 - 5 and 14.0 + 5.
        (scores(4, 4, 4, 4), "stable", []),
        # Total 10 = 14.0 - 4: not yet improving.
        (scores(2, 3, 3, 2), "stable", []),
        # Total 9 = 14.0 - 5: improving, exactly at the edge.
        (scores(2, 3, 2, 2), "improving", ["improving"]),
        # Total 4: well below.
        (scores(1, 1, 1, 1), "improving", ["improving"]),
    ],
)
def test_stable_and_improving_against_a_steady_week(client, factory, body, level, expected_codes):
    patient = factory.patient()
    log_history(factory, patient, STEADY_WEEK)
    assessment = judge_today(client, patient, body)
    assert assessment["level"] == level
    assert codes(assessment) == expected_codes
    # Nothing to surface when things are steady or easing.
    assert assessment["resources"] == []


def test_improving_reason_gives_the_numbers(client, factory):
    patient = factory.patient()
    log_history(factory, patient, STEADY_WEEK)
    assessment = judge_today(client, patient, scores(2, 3, 2, 2))
    assert assessment["reasons"] == [
        {"code": "improving", "message": "Total 9, down from a 7-day average of 14.0."}
    ]


# --- worsening --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # 19 = 14.0 + 5, every symptom 5 (< 6): the total rule alone, exactly at the edge.
        (scores(5, 5, 5, 4), ["Total 19, up from a 7-day average of 14.0."]),
        # 18: one point short.
        (scores(5, 5, 4, 4), []),
    ],
)
def test_worsening_total_edge(client, factory, body, expected):
    patient = factory.patient()
    log_history(factory, patient, STEADY_WEEK)
    assessment = judge_today(client, patient, body)
    assert [r["message"] for r in assessment["reasons"]] == expected
    assert assessment["level"] == ("worsening" if expected else "stable")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # Anxiety 7 >= 3.6 + 3 and >= 6; total 3+4+7+3 = 17 < 19.
        (scores(3, 4, 7, 3), ["Anxiety 7, up from a 7-day average of 3.6."]),
        # Anxiety 6 is >= 6 but below 3.6 + 3 = 6.6.
        (scores(3, 4, 6, 3), []),
    ],
)
def test_worsening_symptom_needs_mean_plus_three(client, factory, body, expected):
    patient = factory.patient()
    log_history(factory, patient, STEADY_WEEK)
    assessment = judge_today(client, patient, body)
    assert [r["message"] for r in assessment["reasons"]] == expected
    assert codes(assessment) == ["worsening_symptom"] * len(expected)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # Anxiety 6 >= 1.0 + 3 and >= 6; total 1+1+6+2 = 10 < 7.0 + 5.
        (scores(1, 1, 6, 2), ["Anxiety 6, up from a 7-day average of 1.0."]),
        # Anxiety 5 >= 1.0 + 3 but below the minimum of 6.
        (scores(1, 1, 5, 2), []),
    ],
)
def test_worsening_symptom_needs_at_least_six(client, factory, body, expected):
    patient = factory.patient()
    log_history(factory, patient, LOW_WEEK)
    assessment = judge_today(client, patient, body)
    assert [r["message"] for r in assessment["reasons"]] == expected
    assert assessment["level"] == ("worsening" if expected else "stable")


def test_worsening_attaches_treatment_and_helplines(client, factory):
    patient = factory.patient()
    log_history(factory, patient, STEADY_WEEK)
    assessment = judge_today(client, patient, scores(5, 5, 5, 4))
    assert assessment["level"] == "worsening"
    assert set(kinds(assessment)) == {"treatment", "helpline"}
    assert names(assessment) == {"FindTreatment.gov", "SAMHSA National Helpline"}
    assert_resources_well_formed(assessment, "US")


# --- severe -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "level", "expected"),
    [
        # Nausea 9: severe by score (9 < 6.8 + 3, so not also "worsening").
        (scores(9, 6, 6, 6), "severe", ["Nausea 9 is severe (9 or more)."]),
        (scores(6, 6, 6, 9), "severe", ["Insomnia 9 is severe (9 or more)."]),
        # Total 8+8+7+7 = 30: severe by total; no score reaches 9.
        (scores(8, 8, 7, 7), "severe", ["Total 30 of 40 is severe (30 or more)."]),
        # Total 29 with scores of 8: neither edge; 29 < 27.0 + 5, 8 < 6.8 + 3.
        (scores(8, 7, 7, 7), "stable", None),
    ],
)
def test_severe_edges_against_a_heavy_week(client, factory, body, level, expected):
    patient = factory.patient()
    log_history(factory, patient, HEAVY_WEEK)
    assessment = judge_today(client, patient, body)
    assert assessment["level"] == level
    if expected is None:
        assert assessment["reasons"] == []
        assert assessment["resources"] == []
        return
    assert codes(assessment) == ["severe_symptoms"]
    [text] = expected
    assert message(assessment, "severe_symptoms") == (
        f"{text} Please consider contacting your care team or a clinician today."
    )


def test_severe_score_and_total_share_one_reason(client, factory):
    patient = factory.patient()
    log_history(factory, patient, HEAVY_WEEK)
    # 9+9+6+6 = 30: two scores at 9 and the total at 30; 30 < 27.0 + 5 and 9 < 6.8 + 3,
    # so nothing is "worsening" against this week.
    assessment = judge_today(client, patient, scores(9, 9, 6, 6))
    assert assessment["reasons"] == [
        {
            "code": "severe_symptoms",
            "message": "Nausea 9 and aches 9 are severe (9 or more). Total 30 of 40 is severe "
            "(30 or more). Please consider contacting your care team or a clinician today.",
        }
    ]


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        (
            "US",
            US_CRISIS | {"SAMHSA National Helpline", "FindTreatment.gov", "Poison Help"},
        ),
        ("GB", GB_CRISIS | {"FRANK"}),
        ("IE", IE_CRISIS | {"HSE Drugs and Alcohol Helpline"}),
        (
            "AU",
            AU_CRISIS
            | {
                "Beyond Blue",
                "National Alcohol and Other Drug Hotline",
                "Family Drug Support",
                "Poisons Information Centre",
            },
        ),
    ],
)
def test_severe_resources_follow_the_patients_region(client, factory, region, expected):
    patient = factory.patient(region=region)
    log_history(factory, patient, HEAVY_WEEK)
    assessment = judge_today(client, patient, scores(9, 7, 7, 7))
    assert assessment["level"] == "severe"
    assert names(assessment) == expected
    # Crisis lines, medical advice and treatment; nothing for harm reduction here.
    assert set(kinds(assessment)) <= {
        "crisis",
        "emergency",
        "directory",
        "medical",
        "treatment",
        "helpline",
    }
    assert_resources_well_formed(assessment, region)


def test_changing_region_changes_the_resources_of_the_status(client, factory):
    patient = factory.patient(region="US")
    log_history(factory, patient, HEAVY_WEEK)
    assessment = judge_today(client, patient, scores(8, 8, 7, 7))
    assert {r["region"] for r in assessment["resources"]} == {"US"}
    moved = client.patch("/api/v1/me", json={"region": "GB"}, headers=patient.headers)
    assert moved.status_code == 200
    after = status(client, patient)
    assert after["level"] == "severe"
    assert names(after) == GB_CRISIS | {"FRANK"}


# --- dehydration ------------------------------------------------------------------------------


def with_day(week: list, days_before_today: int, body: dict | None) -> list:
    """A copy of a 7-day week with one day replaced (1 = yesterday)."""
    changed = list(week)
    changed[7 - days_before_today] = body
    return changed


@pytest.mark.parametrize(
    ("yesterday_vomiting", "today_diarrhea", "fires"),
    [(7, 7, True), (9, 8, True), (6, 9, False), (8, 6, False)],
)
def test_dehydration_on_two_consecutive_logged_days(
    client, factory, yesterday_vomiting, today_diarrhea, fires
):
    patient = factory.patient()
    week = with_day(STEADY_WEEK, 1, scores(3, 3, 4, 2, vomiting=yesterday_vomiting))
    log_history(factory, patient, week)
    # Core scores stay moderate (total 14), so only the gut scores can raise the level.
    assessment = judge_today(client, patient, scores(3, 4, 3, 4, diarrhea=today_diarrhea))
    if not fires:
        assert assessment["level"] == "stable"
        assert assessment["reasons"] == []
        return
    assert assessment["level"] == "severe"
    assert codes(assessment) == ["dehydration_risk"]
    text = message(assessment, "dehydration_risk")
    assert f"(today {today_diarrhea}, yesterday {yesterday_vomiting})" in text
    assert "seek medical care" in text
    assert {"medical", "emergency"} <= set(kinds(assessment))
    assert "Poison Help" in names(assessment)
    assert_resources_well_formed(assessment, "US")


def test_dehydration_does_not_fire_across_a_gap_day(client, factory):
    patient = factory.patient()
    # Vomiting 8 two days ago, nothing logged yesterday, vomiting 8 today.
    week = with_day(STEADY_WEEK, 2, scores(3, 4, 3, 4, vomiting=8))
    week = with_day(week, 1, None)
    log_history(factory, patient, week)
    assessment = judge_today(client, patient, scores(3, 4, 3, 4, vomiting=8))
    assert "dehydration_risk" not in codes(assessment)
    assert assessment["level"] == "stable"

    # Filling in yesterday afterwards makes today's status fire: status is judged afresh.
    backfill = put_day(client, patient, TODAY - timedelta(days=1), scores(3, 4, 3, 4, vomiting=7))
    assert backfill.json["assessment"]["checkin_date"] == "2026-06-14"
    # Yesterday itself follows the 8 on the 13th: also two days in a row.
    assert codes(backfill.json["assessment"]) == ["dehydration_risk"]
    now = status(client, patient)
    assert now["checkin_date"] == "2026-06-15"
    assert now["level"] == "severe"
    assert codes(now) == ["dehydration_risk"]


# --- overdose risk ----------------------------------------------------------------------------


def test_use_after_three_logged_days_without_use_is_overdose_risk(client, factory):
    patient = factory.patient()
    # The last three logged days (11, 13, 14 June; the 12th is a gap) report no use.
    log_history(factory, patient, STEADY_WEEK)
    assessment = judge_today(client, patient, scores(4, 4, 4, 4, used_opioids=True))
    assert assessment["level"] == "worsening"
    assert codes(assessment) == ["overdose_risk"]
    text = message(assessment, "overdose_risk")
    assert "after 3 check-ins with no use" in text
    assert "naloxone" in text
    for reason in assessment["reasons"]:
        assert not DOSING_RE.search(reason["message"])
        assert not JUDGEMENTAL_RE.search(reason["message"])
    for resource in assessment["resources"]:
        assert not DOSING_RE.search(resource["description"])
    assert {"harm_reduction", "emergency"} <= set(kinds(assessment))
    assert {"Never Use Alone", "Overdose response and naloxone", "Emergency services (911)"} <= (
        names(assessment)
    )
    assert_resources_well_formed(assessment, "US")


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        (
            "US",
            {
                "Emergency services (911)",
                "Never Use Alone",
                "Overdose response and naloxone",
                "FindTreatment.gov",
                "SAMHSA National Helpline",
            },
        ),
        ("CA", {"Emergency services (911)", "National Overdose Response Service (NORS)"}),
        ("GB", {"Emergency services (999)", "FRANK"}),
        (
            "AU",
            {
                "Emergency services (000)",
                "Beyond Blue",
                "National Alcohol and Other Drug Hotline",
                "Family Drug Support",
            },
        ),
    ],
)
def test_overdose_resources_follow_the_region(client, factory, region, expected):
    patient = factory.patient(region=region)
    log_history(factory, patient, STEADY_WEEK)
    assessment = judge_today(client, patient, scores(4, 4, 4, 4, used_opioids=True))
    assert names(assessment) == expected
    assert_resources_well_formed(assessment, region)


def test_use_after_weeks_without_checkins_is_overdose_risk(client, factory):
    patient = factory.patient()
    # The early weeks end on 7 June with three logged days without use (4, 6, 7 June);
    # then nothing for a week. The break is longer than the 7-day window, not shorter.
    factory.log(patient, TODAY - timedelta(days=8), EARLY_WEEKS)
    assessment = judge_today(client, patient, scores(4, 4, 4, 4, used_opioids=True))
    assert assessment["level"] == "worsening"
    assert codes(assessment) == ["overdose_risk", "no_baseline"]
    assert {"harm_reduction", "emergency"} <= set(kinds(assessment))


def test_use_on_one_of_the_last_three_logged_days_is_not_a_break(client, factory):
    patient = factory.patient()
    week = with_day(STEADY_WEEK, 2, scores(3, 4, 3, 4, used_opioids=True))
    log_history(factory, patient, week)
    assessment = judge_today(client, patient, scores(4, 4, 4, 4, used_opioids=True))
    assert "overdose_risk" not in codes(assessment)
    assert assessment["level"] == "stable"


def test_two_days_without_use_are_not_enough(client, factory):
    patient = factory.patient()
    factory.log(patient, TODAY - timedelta(days=1), [scores(4, 4, 4, 4), scores(4, 4, 4, 4)])
    assessment = judge_today(client, patient, scores(4, 4, 4, 4, used_opioids=True))
    assert "overdose_risk" not in codes(assessment)
    assert codes(assessment) == ["no_baseline"]


def test_overdose_risk_does_not_lower_a_severe_day(client, factory):
    patient = factory.patient()
    log_history(factory, patient, STEADY_WEEK)
    assessment = judge_today(client, patient, scores(9, 4, 4, 4, used_opioids=True))
    assert assessment["level"] == "severe"
    # 9 >= 3.4 + 3 and >= 6: nausea is also worse than the week; total 21 >= 19.
    assert codes(assessment) == [
        "severe_symptoms",
        "overdose_risk",
        "worsening_total",
        "worsening_symptom",
    ]
    # Severe brings crisis lines and medical help; the use brings harm reduction.
    assert {"crisis", "medical", "harm_reduction", "emergency"} <= set(kinds(assessment))
    assert_resources_well_formed(assessment, "US")


# --- crisis -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "expected"),
    [("US", US_CRISIS), ("GB", GB_CRISIS), ("IE", IE_CRISIS), ("AU", AU_CRISIS)],
)
def test_crisis_surfaces_crisis_lines_for_the_region(client, factory, region, expected):
    patient = factory.patient(region=region)
    log_history(factory, patient, STEADY_WEEK)
    # Scores as usual: the crisis answer alone decides.
    assessment = judge_today(client, patient, scores(3, 4, 3, 4, crisis=True))
    assert assessment["level"] == "crisis"
    assert codes(assessment) == ["crisis"]
    assert "crisis line" in message(assessment, "crisis")
    assert names(assessment) == expected
    assert set(kinds(assessment)) <= {"emergency", "crisis", "directory"}
    assert_resources_well_formed(assessment, region)


def test_crisis_wins_over_everything_and_its_lines_come_first(client, factory):
    patient = factory.patient()
    week = with_day(STEADY_WEEK, 1, scores(3, 3, 4, 2, vomiting=8))
    log_history(factory, patient, week)
    body = scores(9, 9, 9, 9, crisis=True, vomiting=8, used_opioids=True)
    assessment = judge_today(client, patient, body)
    assert assessment["level"] == "crisis"
    # Reasons most urgent first; each symptom 9 >= its mean + 3 has its own reason.
    assert codes(assessment) == [
        "crisis",
        "severe_symptoms",
        "dehydration_risk",
        "overdose_risk",
        "worsening_total",
        *["worsening_symptom"] * 4,
    ]
    assert kinds(assessment)[0] in ("emergency", "crisis")
    assert {"Emergency services (911)", "988 Suicide & Crisis Lifeline"} <= names(assessment)
    assert_resources_well_formed(assessment, "US")


# --- status follows the latest check-in -------------------------------------------------------


def test_status_is_the_latest_day_not_the_latest_write(client, factory):
    patient = factory.patient()
    log_history(factory, patient, STEADY_WEEK)
    judge_today(client, patient, scores(4, 4, 4, 4))
    # Correcting an earlier day returns that day's judgement...
    earlier = put_day(client, patient, TODAY - timedelta(days=4), scores(3, 4, 3, 4, crisis=True))
    assert earlier.status_code == 200
    assert earlier.json["assessment"]["level"] == "crisis"
    assert earlier.json["assessment"]["checkin_date"] == "2026-06-11"
    # ...but the status stays on today.
    now = status(client, patient)
    assert (now["checkin_date"], now["level"]) == ("2026-06-15", "stable")

    # Deleting today makes yesterday the latest.
    assert client.delete("/api/v1/checkins/2026-06-15", headers=patient.headers).status_code == 204
    assert status(client, patient)["checkin_date"] == "2026-06-14"


def test_a_retried_put_returns_the_same_assessment(client, factory):
    patient = factory.patient()
    log_history(factory, patient, STEADY_WEEK)
    body = scores(5, 5, 5, 4)
    first = put_day(client, patient, TODAY, body)
    retry = put_day(client, patient, TODAY, body)
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json["assessment"] == first.json["assessment"]
    assert retry.json["assessment"]["level"] == "worsening"


def test_status_is_per_patient(client, factory):
    alice, bob = factory.patient(), factory.patient()
    judge_today(client, alice, scores(3, 4, 3, 4, crisis=True))
    assert status(client, bob)["level"] == "no_data"


# --- time zones around midnight UTC -----------------------------------------------------------


def test_kiritimati_is_judged_on_its_own_calendar_day(client, factory):
    # 23:30 UTC on 15 June is 13:30 on 16 June in Kiritimati (UTC+14).
    with time_machine.travel(datetime(2026, 6, 15, 23, 30, tzinfo=UTC), tick=True):
        ahead = factory.patient(timezone="Pacific/Kiritimati")
        local_today = date(2026, 6, 16)
        # 9, 12 and 15 June: the 9th is exactly 7 days before the 16th. Totals 14 -> mean 14.0.
        for offset in (7, 4, 1):
            factory.checkin(ahead, local_today - timedelta(days=offset), **scores(3, 4, 3, 4))
        assessment = judge_today(client, ahead, scores(5, 5, 5, 4), day=local_today)
        assert assessment["level"] == "worsening"
        assert assessment["reasons"] == [
            {"code": "worsening_total", "message": "Total 19, up from a 7-day average of 14.0."}
        ]


def test_pago_pago_cannot_log_tomorrow_just_after_midnight_utc(client, factory):
    # 00:30 UTC on 16 June is still 13:30 on 15 June in Pago Pago (UTC-11).
    with time_machine.travel(datetime(2026, 6, 16, 0, 30, tzinfo=UTC), tick=True):
        behind = factory.patient(timezone="Pacific/Pago_Pago")
        assert put_day(client, behind, date(2026, 6, 16), scores(3, 4, 3, 4)).status_code == 422
        assert status(client, behind)["level"] == "no_data"
        assessment = judge_today(client, behind, scores(3, 4, 3, 4), day=date(2026, 6, 15))
        assert codes(assessment) == ["no_baseline"]


def _steady_words(node, key=None):
    """Every string of a response Steady wrote: the person's own amounts and notes left out."""
    if key in ("amount", "note"):
        return
    if isinstance(node, dict):
        for name, value in node.items():
            yield from _steady_words(value, name)
    elif isinstance(node, list):
        for value in node:
            yield from _steady_words(value)
    elif isinstance(node, str):
        yield node


def test_what_was_taken_and_episodes_never_bring_dosing_advice(client, factory):
    patient, counselor = factory.patient(), factory.counselor()
    log_history(factory, patient, STEADY_WEEK)
    episode = {
        "started_on": str(TODAY - timedelta(days=3)),
        "substances": ["kratom", "short_acting_opioid"],
        "moud": "methadone",
        "moud_started_on": str(TODAY - timedelta(days=2)),
    }
    created = client.post("/api/v1/episodes", json=episode, headers=patient.headers)
    assert created.status_code == 201
    factory.share(patient, counselor)
    taken = [
        {"substance": "kratom", "amount": "4 g of powder, more than usual"},
        {"substance": "methadone", "amount": "60 mg at the clinic"},
        {"substance": "short_acting_opioid", "amount": None},
    ]
    body = scores(7, 6, 8, 7, used_opioids=True, taken=taken)
    assessment = judge_today(client, patient, body)
    assert "overdose_risk" in codes(assessment)
    patient_reads = [
        put_day(client, patient, TODAY, body).json,  # the retry: the same answer again
        client.get(f"/api/v1/checkins/{TODAY}", headers=patient.headers).json,
        client.get("/api/v1/checkins", headers=patient.headers).json,
        client.get("/api/v1/episodes", headers=patient.headers).json,
        client.get("/api/v1/trends?align=episode", headers=patient.headers).json,
        status(client, patient),
    ]
    base = f"/api/v1/patients/{patient.id}"
    counselor_reads = [
        client.get(f"{base}/{view}", headers=counselor.headers).json
        for view in ("checkins", "episodes", "status", "trends")
    ]
    # Amounts are shown exactly as written: never compared, converted or judged.
    assert patient_reads[1]["taken"] == taken
    for read in patient_reads + counselor_reads:
        for words in _steady_words(read):
            assert not DOSING_RE.search(words), words
            assert not JUDGEMENTAL_RE.search(words), words


# --- who may ask ------------------------------------------------------------------------------


def test_counselors_get_403_anonymous_and_bad_tokens_401(client, factory):
    counselor = factory.counselor()
    assert client.get("/api/v1/status", headers=counselor.headers).status_code == 403
    anonymous = client.get("/api/v1/status")
    assert anonymous.status_code == 401
    assert anonymous.content_type == "application/problem+json"
    forged = client.get("/api/v1/status", headers={"Authorization": "Bearer not-a-token"})
    assert forged.status_code == 401
