"""The instrument rules of the judgement (pure): COWS bands and the SOWS-Gossop baseline.

Results are built with the real instrument definitions (item values scored by `score`),
so a band here is the band the server would store.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.assessments.judgement import (
    SEVERE_COWS_BANDS,
    SOWS_GOSSOP_MAX_TOTAL,
    Thresholds,
    assess,
)
from server.config import ConfigError
from server.instruments.definitions import COWS, SOWS_GOSSOP, SOWS_HANDELSMAN, score
from tests.assessments.test_status_api import DOSING_RE, JUDGEMENTAL_RE
from tests.conftest import make_test_app
from tests.factories import CheckinRecord
from tests.instruments.recording import items_totalling

TODAY = dt.date(2025, 3, 10)
# Three calm earlier days: a check-in baseline, so no check-in rule fires on a calm day.
CALM_WEEK = [CheckinRecord(date=TODAY - dt.timedelta(days=n)) for n in (1, 2, 3)]


@dataclasses.dataclass(frozen=True)
class Result:
    """A scored instrument result as the reads hand it to the judgement."""

    instrument_id: str
    date: dt.date
    total: int
    band: str | None


def result(instrument, total: int, days_before: int = 0) -> Result:
    """A result of `instrument` totalling `total`, scored and banded by its definition."""
    scored = score(instrument, items_totalling(instrument, total))
    band = scored.band.code if scored.band else None
    return Result(instrument.id, TODAY - dt.timedelta(days=days_before), scored.total, band)


def sows(total: int, days_before: int = 0) -> Result:
    return result(SOWS_GOSSOP, total, days_before)


def cows(total: int, days_before: int = 0) -> Result:
    return result(COWS, total, days_before)


def judged(*results: Result, thresholds: Thresholds = Thresholds(), **today):  # noqa: B008
    return assess(CheckinRecord(date=TODAY, **today), CALM_WEEK, thresholds, results)


def codes(assessment) -> list[str]:
    return [reason.code for reason in assessment.reasons]


# --- the definitions the rules rely on ---------------------------------------------------


def test_the_severe_bands_are_the_cows_bands_from_25_to_48():
    severe = [band for band in COWS.bands if band.code in SEVERE_COWS_BANDS]
    assert [band.code for band in severe] == list(SEVERE_COWS_BANDS)
    assert (min(b.low for b in severe), max(b.high for b in severe)) == (25, COWS.total_max)


def test_the_delta_bound_is_the_sows_gossop_maximum():
    assert SOWS_GOSSOP_MAX_TOTAL == SOWS_GOSSOP.total_max
    assert Thresholds.BOUNDS["sows_worsening_delta"] == (1, SOWS_GOSSOP.total_max)


# --- COWS -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "expected"),
    [(0, None), (4, None), (12, None), (13, None), (24, None), (25, "moderately severe")]
    + [(36, "moderately severe"), (37, "severe"), (48, "severe")],
)
def test_cows_band_edges(total, expected):
    assessment = judged(cows(total))
    if expected is None:
        assert assessment.level == "stable"
        assert codes(assessment) == []
        return
    assert (assessment.level, codes(assessment)) == ("severe", ["cows_severe"])
    [reason] = assessment.reasons
    assert f"totalled {total}, in the {expected} band" in reason.message
    assert f"totalled {total}, in the {expected} band" in reason.counselor_message


@given(st.integers(0, 48))
def test_cows_is_severe_exactly_from_25(total):
    assert ("cows_severe" in codes(judged(cows(total)))) == (total >= 25)


def test_the_days_highest_cows_observation_counts_once():
    assessment = judged(cows(10), cows(30), cows(26))
    assert codes(assessment) == ["cows_severe"]
    assert "totalled 30" in assessment.reasons[0].message


@pytest.mark.parametrize("days_before", [1, 3])
def test_a_cows_observation_of_another_day_does_not_count(days_before):
    assert codes(judged(cows(40, days_before))) == []


def test_cows_wording_names_the_instrument_total_and_band():
    [reason] = judged(cows(27)).reasons
    assert reason.message == (
        "A clinician's COWS (Clinical Opiate Withdrawal Scale) observation today totalled 27, "
        "in the moderately severe band. Please consider contacting your care team or a "
        "clinician today."
    )
    assert reason.counselor_message == (
        "The patient's COWS (Clinical Opiate Withdrawal Scale) observation on this day "
        "totalled 27, in the moderately severe band. They were asked to consider contacting "
        "their care team or a clinician that day."
    )


# --- SOWS-Gossop against its 7-day baseline ---------------------------------------------------


def test_sows_wording_names_the_instrument_total_and_baseline():
    [reason] = judged(sows(8, 2), sows(9, 1), sows(13)).reasons
    assert reason.code == "sows_worsening"
    assert reason.message == (
        "Your SOWS-Gossop (Short Opiate Withdrawal Scale) total is 13, 4 or more points "
        "above your 7-day average of 8.5."
    )
    assert reason.counselor_message == (
        "The patient's SOWS-Gossop (Short Opiate Withdrawal Scale) total was 13, 4 or more "
        "points above their 7-day average of 8.5."
    )


@given(
    baseline=st.integers(0, 26),
    days=st.sets(st.integers(1, 7), min_size=2, max_size=7),
    delta=st.integers(1, 4),
)
def test_exactly_delta_above_a_flat_baseline_fires_and_one_less_does_not(baseline, days, delta):
    thresholds = Thresholds(sows_worsening_delta=delta)
    earlier = [sows(baseline, n) for n in days]
    at = judged(*earlier, sows(baseline + delta), thresholds=thresholds)
    below = judged(*earlier, sows(baseline + delta - 1), thresholds=thresholds)
    assert (at.level, codes(at)) == ("worsening", ["sows_worsening"])
    assert codes(below) == []


@given(
    totals=st.dictionaries(st.integers(1, 7), st.integers(0, 30), min_size=2),
    today=st.integers(0, 30),
)
def test_sows_fires_exactly_when_the_total_reaches_mean_plus_four(totals, today):
    earlier = [sows(total, days_before) for days_before, total in totals.items()]
    fired = "sows_worsening" in codes(judged(*earlier, sows(today)))
    # today >= mean + 4, in whole numbers: no rounding can tip it.
    assert fired == (today * len(totals) >= sum(totals.values()) + 4 * len(totals))


def test_one_baseline_response_is_too_few_and_two_are_enough():
    assert codes(judged(sows(2, 1), sows(20))) == []
    assert codes(judged(sows(2, 1), sows(2, 5), sows(20))) == ["sows_worsening"]


def test_the_minimum_of_baseline_responses_is_configurable():
    three = Thresholds(sows_baseline_min_responses=3)
    assert codes(judged(sows(2, 1), sows(2, 5), sows(20), thresholds=three)) == []
    assert codes(judged(sows(2, 1), sows(2, 2), sows(2, 5), sows(20), thresholds=three)) == [
        "sows_worsening"
    ]


def test_the_baseline_window_is_the_seven_days_before():
    # Day -7 counts, day -8 does not: with it, the mean would be 12 and 14 no rise.
    assert codes(judged(sows(2, 7), sows(4, 6), sows(14))) == ["sows_worsening"]
    assert codes(judged(sows(30, 8), sows(2, 7), sows(4, 6), sows(14))) == ["sows_worsening"]
    assert codes(judged(sows(2, 8), sows(2, 9), sows(14))) == []


def test_responses_on_or_after_the_day_are_not_its_baseline():
    later = TODAY + dt.timedelta(days=1)
    assert codes(judged(sows(2, 1), Result(SOWS_GOSSOP.id, later, 0, None), sows(9))) == []


def test_no_response_on_the_day_means_no_sows_reason():
    assert codes(judged(sows(2, 1), sows(2, 2))) == []


def test_sows_handelsman_is_not_judged():
    rising = [result(SOWS_HANDELSMAN, 0, 1), result(SOWS_HANDELSMAN, 0, 2)]
    assert codes(judged(*rising, result(SOWS_HANDELSMAN, 64))) == []


def test_a_worse_sows_suppresses_improving():
    earlier = [CheckinRecord(date=TODAY - dt.timedelta(days=n), nausea=9) for n in (1, 2, 3)]
    today = CheckinRecord(date=TODAY)
    assert codes(assess(today, earlier)) == ["improving"]
    assert codes(assess(today, earlier, Thresholds(), [sows(0, 1), sows(0, 2), sows(4)])) == [
        "sows_worsening"
    ]


def test_instrument_reasons_sit_in_rule_order_beside_the_others():
    assessment = judged(sows(0, 1), sows(0, 2), sows(9), cows(30), nausea=9, crisis=True)
    assert assessment.level == "crisis"
    assert codes(assessment) == ["crisis", "severe_symptoms", "cows_severe"] + [
        "worsening_total",
        "worsening_symptom",
        "sows_worsening",
    ]


# --- without instrument data nothing changes ----------------------------------------------

score_value = st.integers(0, 10)


@st.composite
def days_and_results(draw):
    """A check-in, earlier ones, and instrument results around it."""
    offsets = draw(st.sets(st.integers(1, 10), max_size=8))

    def checkin(offset: int) -> CheckinRecord:
        return CheckinRecord(
            date=TODAY - dt.timedelta(days=offset),
            nausea=draw(score_value),
            aches=draw(score_value),
            anxiety=draw(score_value),
            insomnia=draw(score_value),
            used_opioids=draw(st.none() | st.booleans()),
        )

    results = draw(
        st.lists(
            st.builds(
                lambda instrument, total, days_before: result(
                    instrument, min(total, instrument.total_max), days_before
                ),
                st.sampled_from([SOWS_GOSSOP, SOWS_HANDELSMAN, COWS]),
                st.integers(0, 64),
                st.integers(-2, 10),
            ),
            max_size=10,
        )
    )
    return checkin(0), [checkin(offset) for offset in offsets], results


@given(days_and_results())
def test_instrument_results_only_ever_add_their_own_reasons(case):
    current, history, results = case
    alone = assess(current, history)
    together = assess(current, history, Thresholds(), results)
    assert assess(current, history, Thresholds(), ()) == alone
    instrument_codes = {"cows_severe", "sows_worsening"}
    added = [code for code in codes(together) if code in instrument_codes]
    if not added:
        assert together == alone
        return
    # The check-in rules' reasons stay; only "improving" gives way to an instrument reason.
    kept = [code for code in codes(alone) if code != "improving"]
    assert [code for code in codes(together) if code not in instrument_codes] == kept


@given(days_and_results())
def test_instrument_reasons_are_worded_for_each_reader_with_the_same_numbers(case):
    current, history, results = case
    numbers = re.compile(r"\d+(?:\.\d+)?")
    for reason in assess(current, history, Thresholds(), results).reasons:
        for message in (reason.message, reason.counselor_message):
            assert not DOSING_RE.search(message), message
            assert not JUDGEMENTAL_RE.search(message), message
        assert reason.counselor_message.startswith("The patient")
        assert "the patient" not in reason.message.lower()
        assert sorted(numbers.findall(reason.message)) == sorted(
            numbers.findall(reason.counselor_message)
        )


# --- settings --------------------------------------------------------------------------------


def test_the_sows_settings_default_to_four_points_and_two_responses():
    thresholds = Thresholds.from_config({})
    assert (thresholds.sows_worsening_delta, thresholds.sows_baseline_min_responses) == (4, 2)
    custom = Thresholds.from_config(
        {"JUDGEMENT_SOWS_WORSENING_DELTA": "3", "JUDGEMENT_SOWS_BASELINE_MIN_RESPONSES": 4}
    )
    assert (custom.sows_worsening_delta, custom.sows_baseline_min_responses) == (3, 4)
    assert codes(judged(sows(2, 1), sows(2, 2), sows(5), thresholds=custom)) == []
    looser = Thresholds.from_config({"JUDGEMENT_SOWS_WORSENING_DELTA": "3"})
    assert codes(judged(sows(2, 1), sows(2, 2), sows(5), thresholds=looser)) == ["sows_worsening"]


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [
        ("JUDGEMENT_SOWS_WORSENING_DELTA", "0", "must be a whole number from 1 to 30"),
        ("JUDGEMENT_SOWS_WORSENING_DELTA", "31", "must be a whole number from 1 to 30"),
        ("JUDGEMENT_SOWS_WORSENING_DELTA", "4.5", "must be a whole number from 1 to 30"),
        ("JUDGEMENT_SOWS_BASELINE_MIN_RESPONSES", "0", "must be a whole number from 1 to 90"),
        ("JUDGEMENT_SOWS_BASELINE_MIN_RESPONSES", "8", "must be at most"),
    ],
)
def test_a_bad_sows_setting_refuses_to_start_naming_its_variable(migrated, key, value, rule):
    with pytest.raises(ConfigError) as refused:
        make_test_app(migrated, **{key: value})
    message = str(refused.value)
    assert f"STEADY_{key}={value!r}" in message
    assert rule in message
    if rule == "must be at most":
        assert "STEADY_JUDGEMENT_BASELINE_DAYS (7)" in message
