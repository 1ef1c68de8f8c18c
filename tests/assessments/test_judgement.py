"""Tests for the single-day judgement rules in server.assessments.judgement."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.assessments.judgement import (
    LEVELS,
    RULES,
    RULES_DOC,
    Assessment,
    Thresholds,
    assess,
    compare_levels,
    level_rank,
    most_urgent,
)
from tests.factories import CheckinRecord as Checkin

TODAY = dt.date(2025, 3, 10)


def on(days_from_today: int, **fields: object) -> Checkin:
    """Build a check-in dated relative to TODAY (0 = today, -1 = yesterday)."""
    return Checkin(date=TODAY + dt.timedelta(days=days_from_today), **fields)


def scores(n: int, a: int, x: int, i: int) -> dict[str, int]:
    """Return core scores as keyword arguments: nausea, aches, anxiety, insomnia."""
    return {"nausea": n, "aches": a, "anxiety": x, "insomnia": i}


def flat_history(days: int = 3, **fields: object) -> list[Checkin]:
    """Return check-ins on each of the `days` days before TODAY."""
    return [on(-offset, **fields) for offset in range(1, days + 1)]


def codes(assessment: Assessment) -> list[str]:
    """Return reason codes in order."""
    return [reason.code for reason in assessment.reasons]


def worded(assessment: Assessment) -> tuple[tuple[str, str], ...]:
    """Return (code, the patient's message) of each reason in order."""
    return tuple((reason.code, reason.message) for reason in assessment.reasons)


# --- levels -------------------------------------------------------------------


def test_levels_are_ordered_most_urgent_first():
    """Levels are ordered most urgent first."""
    assert LEVELS == ("crisis", "severe", "worsening", "stable", "improving")


def test_compare_levels_follows_urgency():
    """compare_levels, level_rank and most_urgent follow the LEVELS order."""
    assert compare_levels("crisis", "severe") > 0
    assert compare_levels("worsening", "severe") < 0
    assert compare_levels("stable", "stable") == 0
    assert level_rank("crisis") == 4
    assert level_rank("improving") == 0
    assert most_urgent(["stable", "severe", "worsening"]) == "severe"
    assert most_urgent([]) == "stable"


def test_compare_levels_rejects_unknown_level():
    """An unknown level name is an error, not silently least urgent."""
    with pytest.raises(ValueError, match="unknown level"):
        compare_levels("bad", "stable")


# --- first check-in / no baseline --------------------------------------------


def test_first_ever_checkin_is_stable_with_no_baseline_reason():
    """First ever check-in is stable with no baseline reason."""
    result = assess(on(0), [])
    assert (result.level, result.checkin_date) == ("stable", TODAY)
    assert worded(result) == (
        (
            "no_baseline",
            "Not enough recent check-ins to compare with yet (0 in the last 7 days; 3 needed).",
        ),
    )


def test_two_recent_checkins_are_not_a_baseline():
    """Two recent check-ins are not a baseline."""
    result = assess(on(0, **scores(8, 8, 8, 8)), flat_history(2))
    # Total 32 would be "severe" anyway; the point is no worsening can be judged.
    assert codes(result) == ["severe_symptoms", "no_baseline"]
    assert "(2 in the last 7 days; 3 needed)" in result.reasons[-1].message


def test_stable_day_with_baseline_has_no_reasons():
    """Stable day with baseline has no reasons."""
    result = assess(on(0), flat_history(3))
    assert result.level == "stable"
    assert result.reasons == ()


def test_baseline_excludes_checkins_older_than_seven_days():
    """Baseline excludes check-ins older than seven days."""
    # Days -8..-10 are outside the window; only -1 and -2 count.
    history = [on(-8), on(-9), on(-10), on(-1), on(-2)]
    result = assess(on(0, **scores(6, 6, 6, 6)), history)
    assert result.level == "stable"
    assert codes(result) == ["no_baseline"]
    assert "(2 in the last 7 days; 3 needed)" in result.reasons[0].message


def test_baseline_includes_checkin_exactly_seven_days_before():
    """Baseline includes check-in exactly seven days before."""
    history = [on(-7), on(-6), on(-5)]
    # Baseline total 8.0; total 13 is exactly +5.
    result = assess(on(0, **scores(4, 3, 3, 3)), history)
    assert codes(result) == ["worsening_total"]
    assert result.reasons[0].message == "Total 13, up from a 7-day average of 8.0."


def test_history_on_or_after_the_current_day_is_ignored():
    """History on or after the current day is ignored."""
    history = [on(0, **scores(0, 0, 0, 0)), on(1), on(2), on(-1)]
    result = assess(on(0), history)
    assert codes(result) == ["no_baseline"]
    assert "(1 in the last 7 days" in result.reasons[0].message


def test_history_order_does_not_matter():
    """History order does not matter."""
    history = [on(-d, **scores(d % 4, 2, 3, 1)) for d in range(1, 10)]
    current = on(0, **scores(8, 7, 6, 6), used_opioids=True)
    shuffled = history[:]
    random.Random(4).shuffle(shuffled)
    assert assess(current, history) == assess(current, shuffled)


# --- crisis -------------------------------------------------------------------


def test_crisis_flag_makes_level_crisis():
    """Crisis flag makes level crisis."""
    result = assess(on(0, crisis=True), flat_history(3))
    assert result.level == "crisis"
    assert codes(result) == ["crisis"]
    message = result.reasons[0].message
    assert "unsafe or in crisis" in message
    assert "crisis line" in message
    assert "emergency number now" in message


@pytest.mark.parametrize("flag", [False, None])
def test_crisis_false_or_unanswered_does_not_fire(flag):
    """Crisis false or unanswered does not fire."""
    result = assess(on(0, crisis=flag), flat_history(3))
    assert result.level == "stable"
    assert "crisis" not in codes(result)


# --- severe symptoms ------------------------------------------------------------


@pytest.mark.parametrize("symptom", ["nausea", "aches", "anxiety", "insomnia"])
def test_each_core_symptom_at_nine_is_severe(symptom):
    """Each core symptom at nine is severe."""
    result = assess(on(0, **{symptom: 9}), [])
    assert result.level == "severe"
    assert result.reasons[0].code == "severe_symptoms"
    assert result.reasons[0].message.startswith(f"{symptom.capitalize()} 9 is severe (9 or more).")


@pytest.mark.parametrize("symptom", ["nausea", "aches", "anxiety", "insomnia"])
def test_core_symptom_at_eight_is_not_severe(symptom):
    """Core symptom at eight is not severe."""
    result = assess(on(0, **{symptom: 8}), [])
    assert result.level == "stable"
    assert codes(result) == ["no_baseline"]


def test_several_severe_symptoms_share_one_reason():
    """Several severe symptoms share one reason."""
    result = assess(on(0, **scores(9, 10, 2, 2)), [])
    severe = [r for r in result.reasons if r.code == "severe_symptoms"]
    assert len(severe) == 1
    assert severe[0].message.startswith("Nausea 9 and aches 10 are severe (9 or more).")


def test_total_of_thirty_is_severe():
    """Total of thirty is severe."""
    result = assess(on(0, **scores(8, 8, 7, 7)), [])
    assert result.level == "severe"
    assert result.reasons[0].message.startswith("Total 30 of 40 is severe (30 or more).")


def test_total_of_twenty_nine_is_not_severe():
    """Total of twenty nine is not severe."""
    result = assess(on(0, **scores(8, 8, 7, 6)), [])
    assert result.level == "stable"


def test_severe_score_and_total_are_listed_together():
    """Severe score and total are listed together."""
    result = assess(on(0, **scores(9, 8, 8, 8)), [])
    assert result.reasons[0].message.startswith(
        "Nausea 9 is severe (9 or more). Total 33 of 40 is severe (30 or more)."
    )


# --- dehydration ----------------------------------------------------------------


def test_vomiting_then_diarrhoea_at_seven_on_consecutive_days_is_dehydration_risk():
    """Vomiting then diarrhoea at seven on consecutive days is dehydration risk."""
    history = [on(-1, diarrhea=7), on(-2), on(-3)]
    result = assess(on(0, vomiting=7), history)
    assert result.level == "severe"
    assert codes(result) == ["dehydration_risk"]
    message = result.reasons[0].message
    assert "(today 7, yesterday 7)" in message
    assert "seek medical care today" in message
    assert "dehydration" in message


def test_dehydration_needs_both_days_at_threshold():
    """Dehydration needs both days at threshold."""
    history = [on(-1, diarrhea=6, vomiting=6), on(-2), on(-3)]
    assert assess(on(0, vomiting=9), history).level == "stable"
    history = [on(-1, vomiting=9), on(-2), on(-3)]
    assert assess(on(0, diarrhea=6), history).level == "stable"


def test_dehydration_with_a_gap_day_does_not_fire():
    """Dehydration with a gap day does not fire."""
    # Day -1 not logged: -2 and today are not consecutive logged days.
    history = [on(-2, vomiting=9), on(-3, vomiting=9), on(-4)]
    result = assess(on(0, vomiting=9), history)
    assert "dehydration_risk" not in codes(result)


def test_dehydration_with_unanswered_gut_scores_yesterday_does_not_fire():
    """Dehydration with unanswered gut scores yesterday does not fire."""
    history = [on(-1), on(-2, vomiting=9), on(-3)]
    assert "dehydration_risk" not in codes(assess(on(0, diarrhea=10), history))


def test_dehydration_is_at_least_severe_and_crisis_still_wins():
    """Dehydration is at least severe and crisis still wins."""
    history = [on(-1, vomiting=8), on(-2), on(-3)]
    result = assess(on(0, vomiting=8, crisis=True), history)
    assert result.level == "crisis"
    assert codes(result) == ["crisis", "dehydration_risk"]


# --- overdose risk --------------------------------------------------------------


def test_use_after_three_checkins_without_use_is_overdose_risk():
    """Use after three check-ins without use is overdose risk."""
    history = [
        on(-1, used_opioids=False),
        on(-2, used_opioids=None),
        on(-3, used_opioids=False),
    ]
    result = assess(on(0, used_opioids=True), history)
    assert result.level == "worsening"
    assert codes(result) == ["overdose_risk"]
    message = result.reasons[0].message
    assert "after 3 check-ins with no use" in message
    assert "Tolerance drops quickly" in message
    assert "naloxone" in message
    assert "emergency number" in message
    lowered = message.lower()
    for dosing_word in ("mg", "dose of", "less than", "half", "smaller amount"):
        assert dosing_word not in lowered


def test_overdose_with_only_two_prior_checkins_does_not_fire():
    """Overdose with only two prior check-ins does not fire."""
    history = [on(-1, used_opioids=False), on(-2, used_opioids=False)]
    result = assess(on(0, used_opioids=True), history)
    assert "overdose_risk" not in codes(result)
    assert result.level == "stable"


def test_overdose_does_not_fire_if_any_of_last_three_reported_use():
    """Overdose does not fire if any of last three reported use."""
    history = [
        on(-1, used_opioids=False),
        on(-2, used_opioids=True),
        on(-3, used_opioids=False),
        on(-4, used_opioids=False),
    ]
    assert "overdose_risk" not in codes(assess(on(0, used_opioids=True), history))


def test_overdose_only_looks_at_the_most_recent_three_checkins():
    """Overdose only looks at the most recent three check-ins."""
    history = [
        on(-1, used_opioids=False),
        on(-2, used_opioids=False),
        on(-3, used_opioids=False),
        on(-4, used_opioids=True),
    ]
    assert codes(assess(on(0, used_opioids=True), history)) == ["overdose_risk"]


def test_overdose_counts_logged_checkins_not_calendar_days():
    """Overdose counts logged check-ins not calendar days."""
    # Three check-ins spread over three weeks still count as the last three.
    history = [on(-5), on(-12), on(-20)]
    result = assess(on(0, used_opioids=True), history)
    assert codes(result) == ["overdose_risk", "no_baseline"]
    assert result.level == "worsening"


@pytest.mark.parametrize("flag", [False, None])
def test_overdose_needs_use_reported_today(flag):
    """Overdose needs use reported today."""
    result = assess(on(0, used_opioids=flag), flat_history(3, used_opioids=False))
    assert "overdose_risk" not in codes(result)


# --- worsening total -------------------------------------------------------------


def test_total_exactly_five_above_baseline_is_worsening():
    """Total exactly five above baseline is worsening."""
    history = flat_history(3, **scores(3, 3, 3, 3))  # baseline total 12.0
    result = assess(on(0, **scores(5, 4, 4, 4)), history)  # total 17
    assert result.level == "worsening"
    assert worded(result) == (("worsening_total", "Total 17, up from a 7-day average of 12.0."),)


def test_total_four_above_baseline_is_stable():
    """Total four above baseline is stable."""
    history = flat_history(3, **scores(3, 3, 3, 3))
    result = assess(on(0, **scores(4, 4, 4, 4)), history)  # total 16
    assert result.level == "stable"
    assert result.reasons == ()


def test_worsening_total_message_rounds_average_to_one_decimal():
    """Worsening total message rounds average to one decimal."""
    history = [
        on(-1, **scores(4, 4, 4, 4)),  # 16
        on(-2, **scores(5, 4, 4, 4)),  # 17
        on(-4, **scores(5, 5, 5, 4)),  # 19 -> mean 52/3 = 17.33
    ]
    result = assess(on(0, **scores(6, 6, 6, 6)), history)  # 24
    assert worded(result) == (("worsening_total", "Total 24, up from a 7-day average of 17.3."),)


# --- worsening symptom --------------------------------------------------------------


def test_symptom_three_above_baseline_and_at_least_six_is_worsening():
    """Symptom three above baseline and at least six is worsening."""
    history = [on(-1, anxiety=3), on(-2, anxiety=3), on(-3, anxiety=4)]  # 3.33
    result = assess(on(0, anxiety=7), history)
    assert result.level == "worsening"
    assert worded(result) == (("worsening_symptom", "Anxiety 7, up from a 7-day average of 3.3."),)


def test_symptom_exactly_at_delta_and_minimum_fires_one_below_does_not():
    """Symptom exactly at delta and minimum fires one below does not."""
    history = flat_history(3, insomnia=3)  # mean 3.0, so 6 is +3 and at the minimum
    assert codes(assess(on(0, insomnia=6), history)) == ["worsening_symptom"]
    assert assess(on(0, insomnia=5), history).level == "stable"


def test_symptom_rise_below_the_minimum_score_is_not_worsening():
    """Symptom rise below the minimum score is not worsening."""
    history = flat_history(3, nausea=1)  # nausea mean 1.0, total mean 7.0
    assert assess(on(0, nausea=5), history).level == "stable"  # +4 but below 6
    # Nausea 6 also lifts the total to 12, exactly +5.
    assert codes(assess(on(0, nausea=6), history)) == [
        "worsening_total",
        "worsening_symptom",
    ]


def test_each_worsening_symptom_gets_its_own_reason_in_symptom_order():
    """Each worsening symptom gets its own reason in symptom order."""
    history = flat_history(3, **scores(1, 1, 1, 1))  # total 4.0
    result = assess(on(0, **scores(6, 2, 7, 8)), history)  # total 23
    assert result.level == "worsening"
    assert [r.message for r in result.reasons] == [
        "Total 23, up from a 7-day average of 4.0.",
        "Nausea 6, up from a 7-day average of 1.0.",
        "Anxiety 7, up from a 7-day average of 1.0.",
        "Insomnia 8, up from a 7-day average of 1.0.",
    ]
    assert codes(result) == ["worsening_total"] + ["worsening_symptom"] * 3


# --- improving --------------------------------------------------------------------


def test_total_five_below_baseline_is_improving():
    """Total five below baseline is improving."""
    history = flat_history(3, **scores(5, 5, 5, 5))  # 20.0
    result = assess(on(0, **scores(4, 4, 4, 3)), history)  # 15
    assert result.level == "improving"
    assert worded(result) == (("improving", "Total 15, down from a 7-day average of 20.0."),)


def test_total_four_below_baseline_is_stable():
    """Total four below baseline is stable."""
    history = flat_history(3, **scores(5, 5, 5, 5))
    result = assess(on(0, **scores(4, 4, 4, 4)), history)  # 16
    assert result.level == "stable"
    assert result.reasons == ()


def test_improving_is_not_reported_when_a_warning_fired():
    """Improving is not reported when a warning fired."""
    history = flat_history(3, **scores(5, 5, 5, 5), used_opioids=False)
    result = assess(on(0, **scores(1, 1, 1, 1), used_opioids=True), history)
    assert result.level == "worsening"
    assert codes(result) == ["overdose_risk"]


def test_improving_needs_a_baseline():
    """Improving needs a baseline."""
    history = [on(-1, **scores(9, 9, 9, 9)), on(-2, **scores(9, 9, 9, 9))]
    result = assess(on(0, **scores(1, 1, 1, 1)), history)
    assert result.level == "stable"
    assert codes(result) == ["no_baseline"]


# --- precedence -------------------------------------------------------------------


def test_most_urgent_level_wins_and_reasons_are_most_urgent_first():
    """Most urgent level wins and reasons are most urgent first."""
    history = [
        on(-1, vomiting=8, used_opioids=False),
        on(-2, used_opioids=False),
        on(-3, used_opioids=False),
    ]
    current = on(0, **scores(9, 6, 6, 6), vomiting=9, used_opioids=True, crisis=True)
    result = assess(current, history)
    assert result.level == "crisis"
    assert codes(result) == [
        "crisis",
        "severe_symptoms",
        "dehydration_risk",
        "overdose_risk",
        "worsening_total",
        "worsening_symptom",
        "worsening_symptom",
        "worsening_symptom",
        "worsening_symptom",
    ]


def test_severe_beats_worsening():
    """Severe beats worsening."""
    history = flat_history(3)  # all 2s, total 8
    result = assess(on(0, **scores(9, 2, 2, 2)), history)  # total 15
    assert result.level == "severe"
    assert codes(result) == ["severe_symptoms", "worsening_total", "worsening_symptom"]


def test_no_baseline_reason_sits_alongside_other_reasons():
    """No baseline reason sits alongside other reasons."""
    result = assess(on(0, nausea=10), [])
    assert result.level == "severe"
    assert codes(result) == ["severe_symptoms", "no_baseline"]


# --- thresholds -------------------------------------------------------------------


def test_from_config_with_no_keys_gives_defaults():
    """From config with no keys gives defaults."""
    assert Thresholds.from_config({}) == Thresholds()
    assert Thresholds.from_config({"UNRELATED": 1}) == Thresholds()


def test_from_config_reads_every_key_and_converts_strings():
    """From config reads every key and converts strings."""
    config = {
        "JUDGEMENT_SEVERE_SCORE": "8",
        "JUDGEMENT_SEVERE_TOTAL": 28,
        "JUDGEMENT_DEHYDRATION_SCORE": "6",
        "JUDGEMENT_OVERDOSE_BREAK_DAYS": 2,
        "JUDGEMENT_BASELINE_DAYS": "10",
        "JUDGEMENT_BASELINE_MIN_CHECKINS": 2,
        "JUDGEMENT_WORSENING_TOTAL_DELTA": "4.5",
        "JUDGEMENT_WORSENING_SYMPTOM_DELTA": 2,
        "JUDGEMENT_WORSENING_SYMPTOM_MIN": "5",
        "JUDGEMENT_IMPROVING_TOTAL_DELTA": "6",
    }
    assert Thresholds.from_config(config) == Thresholds(
        severe_score=8,
        severe_total=28,
        dehydration_score=6,
        overdose_break_days=2,
        baseline_days=10,
        baseline_min_checkins=2,
        worsening_total_delta=4.5,
        worsening_symptom_delta=2.0,
        worsening_symptom_min=5,
        improving_total_delta=6.0,
    )


def test_thresholds_reject_empty_windows():
    """Thresholds reject empty windows."""
    with pytest.raises(ValueError, match="baseline_days"):
        Thresholds(baseline_days=0)


def test_lower_severe_score_from_config_makes_eight_severe():
    """Lower severe score from config makes eight severe."""
    thresholds = Thresholds.from_config({"JUDGEMENT_SEVERE_SCORE": "8"})
    result = assess(on(0, nausea=8), [], thresholds)
    assert result.level == "severe"
    assert result.reasons[0].message.startswith("Nausea 8 is severe (8 or more).")


def test_lower_dehydration_score_from_config_fires_at_six():
    """Lower dehydration score from config fires at six."""
    thresholds = Thresholds.from_config({"JUDGEMENT_DEHYDRATION_SCORE": 6})
    history = [on(-1, diarrhea=6), on(-2), on(-3)]
    assert assess(on(0, diarrhea=6), history).level == "stable"
    assert codes(assess(on(0, diarrhea=6), history, thresholds)) == ["dehydration_risk"]


def test_shorter_overdose_break_from_config_fires_with_two_prior_checkins():
    """Shorter overdose break from config fires with two prior check-ins."""
    thresholds = Thresholds.from_config({"JUDGEMENT_OVERDOSE_BREAK_DAYS": 2})
    history = [on(-1), on(-2)]
    assert "overdose_risk" in codes(assess(on(0, used_opioids=True), history, thresholds))


def test_longer_baseline_window_from_config_uses_older_checkins():
    """Longer baseline window from config uses older check-ins."""
    thresholds = Thresholds.from_config({"JUDGEMENT_BASELINE_DAYS": 10})
    history = [on(-8), on(-9), on(-10)]  # all total 8
    current = on(0, **scores(4, 3, 3, 3))  # total 13
    assert codes(assess(current, history)) == ["no_baseline"]
    result = assess(current, history, thresholds)
    assert worded(result) == (("worsening_total", "Total 13, up from a 10-day average of 8.0."),)


def test_fewer_baseline_checkins_needed_from_config():
    """Fewer baseline check-ins needed from config."""
    thresholds = Thresholds.from_config({"JUDGEMENT_BASELINE_MIN_CHECKINS": 2})
    history = flat_history(2, **scores(5, 5, 5, 5))
    assert assess(on(0), history, thresholds).level == "improving"


def test_delta_overrides_from_config_change_outcomes():
    """Delta overrides from config change outcomes."""
    history = flat_history(3, **scores(3, 3, 3, 3))  # total 12, each symptom 3
    current = on(0, **scores(4, 4, 4, 4))  # total 16: +4
    assert assess(current, history).level == "stable"
    looser = Thresholds.from_config({"JUDGEMENT_WORSENING_TOTAL_DELTA": 4})
    assert assess(current, history, looser).level == "worsening"

    symptom = on(0, nausea=5)  # +2 over 3, below 6
    config = {
        "JUDGEMENT_WORSENING_SYMPTOM_DELTA": 2,
        "JUDGEMENT_WORSENING_SYMPTOM_MIN": 5,
    }
    assert assess(symptom, flat_history(3, nausea=3)).level == "stable"
    assert codes(assess(symptom, flat_history(3, nausea=3), Thresholds.from_config(config))) == [
        "worsening_symptom"
    ]

    better = on(0, **scores(2, 2, 2, 2))  # total 8: -4
    assert assess(better, history).level == "stable"
    easier = Thresholds.from_config({"JUDGEMENT_IMPROVING_TOTAL_DELTA": 4})
    assert assess(better, history, easier).level == "improving"


# --- rules table ------------------------------------------------------------------


def test_rules_doc_lists_every_rule_in_order_with_threshold_names():
    """RULES_DOC lists every rule in order and names every threshold."""
    assert [(code, level) for code, level, _ in RULES_DOC] == [
        ("crisis", "crisis"),
        ("severe_symptoms", "severe"),
        ("dehydration_risk", "severe"),
        ("cows_severe", "severe"),
        ("overdose_risk", "worsening"),
        ("worsening_total", "worsening"),
        ("worsening_symptom", "worsening"),
        ("sows_worsening", "worsening"),
        ("improving", "improving"),
        ("no_baseline", "stable"),
    ]
    text = " ".join(description for _, _, description in RULES_DOC)
    for field in dataclasses.fields(Thresholds):
        assert field.name.upper() in text
    assert "SEVERE_SCORE (9)" in text
    assert "WORSENING_TOTAL_DELTA (5)" in text


# --- properties -------------------------------------------------------------------

score = st.integers(min_value=0, max_value=10)
optional_score = st.none() | score
optional_flag = st.none() | st.booleans()


@st.composite
def checkins_on(draw: st.DrawFn, offset: int) -> Checkin:
    """Draw a random check-in on TODAY + offset."""
    return on(
        offset,
        nausea=draw(score),
        aches=draw(score),
        anxiety=draw(score),
        insomnia=draw(score),
        diarrhea=draw(optional_score),
        vomiting=draw(optional_score),
        used_opioids=draw(optional_flag),
        crisis=draw(optional_flag),
    )


@st.composite
def days_with_history(draw: st.DrawFn) -> tuple[Checkin, list[Checkin]]:
    """Draw today's check-in plus a random history on distinct earlier days."""
    offsets = draw(st.sets(st.integers(min_value=-14, max_value=-1), max_size=14))
    history = [draw(checkins_on(offset)) for offset in sorted(offsets)]
    return draw(checkins_on(0)), history


RULE_ORDER = {rule.code: index for index, rule in enumerate(RULES)}


@given(days_with_history())
def test_level_is_always_a_known_level_and_reasons_are_most_urgent_first(case):
    """Level is always in LEVELS and reasons come most urgent first."""
    current, history = case
    result = assess(current, history)
    assert result.level in LEVELS
    assert result.checkin_date == current.date
    order = [RULE_ORDER[code] for code in codes(result)]
    assert order == sorted(order)
    assert (result.level == "crisis") == (current.crisis is True)
    if "improving" in codes(result):
        assert set(codes(result)) == {"improving"}
    if result.level == "stable":
        assert set(codes(result)) <= {"no_baseline"}


@given(days_with_history())
def test_no_baseline_reason_appears_exactly_when_window_has_under_three(case):
    """no_baseline appears exactly when the 7-day window has under 3 check-ins."""
    current, history = case
    in_window = sum(1 for c in history if (current.date - c.date).days <= 7)
    result = assess(current, history)
    assert ("no_baseline" in codes(result)) == (in_window < 3)


@given(score, score, score, score)
def test_severe_symptoms_fires_exactly_at_its_thresholds(n, a, x, i):
    """severe_symptoms fires exactly when a score >= 9 or the total >= 30."""
    result = assess(on(0, **scores(n, a, x, i)), [])
    expected = max(n, a, x, i) >= 9 or n + a + x + i >= 30
    assert ("severe_symptoms" in codes(result)) == expected
    assert (result.level == "severe") == expected
