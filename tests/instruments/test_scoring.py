"""Scoring of the three instruments, pinned at every edge (pure: definitions.py)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.instruments.definitions import (
    BAND_CODES,
    CLINICIAN_INSTRUMENTS,
    COWS,
    INSTRUMENTS,
    PATIENT_INSTRUMENTS,
    SOWS_GOSSOP,
    SOWS_HANDELSMAN,
    item_errors,
    score,
)

# The published point sets, written out here rather than read back from the definitions.
COWS_POINTS = {
    "resting_pulse": {0, 1, 2, 4},
    "sweating": {0, 1, 2, 3, 4},
    "restlessness": {0, 1, 3, 5},
    "pupil_size": {0, 1, 2, 5},
    "bone_or_joint_aches": {0, 1, 2, 4},
    "runny_nose_or_tearing": {0, 1, 2, 4},
    "gi_upset": {0, 1, 2, 3, 5},
    "tremor": {0, 1, 2, 4},
    "yawning": {0, 1, 2, 4},
    "anxiety_or_irritability": {0, 1, 2, 4},
    "gooseflesh_skin": {0, 3, 5},
}
EXPECTED = {
    "sows-gossop-10": (10, {0, 1, 2, 3}, 30),
    "sows-handelsman-16": (16, {0, 1, 2, 3, 4}, 64),
    "cows-11": (11, None, 48),
}


def lowest(instrument) -> dict:
    return {item.item_id: min(item.values) for item in instrument.items}


def highest(instrument) -> dict:
    return {item.item_id: max(item.values) for item in instrument.items}


def responses(instrument):
    """Every valid complete response of an instrument."""
    return st.fixed_dictionaries(
        {item.item_id: st.sampled_from(item.values) for item in instrument.items}
    )


@pytest.mark.parametrize("instrument", INSTRUMENTS.values(), ids=lambda i: i.id)
def test_each_item_allows_exactly_its_published_values(instrument):
    count, shared_values, maximum = EXPECTED[instrument.id]
    assert len(instrument.items) == count
    for item in instrument.items:
        expected = COWS_POINTS[item.item_id] if shared_values is None else shared_values
        assert set(item.values) == expected, item.item_id
    assert instrument.total_min == 0
    assert instrument.total_max == maximum
    assert len(set(instrument.item_ids)) == count


@pytest.mark.parametrize("instrument", INSTRUMENTS.values(), ids=lambda i: i.id)
def test_totals_at_zero_and_at_the_maximum(instrument):
    assert score(instrument, lowest(instrument)).total == 0
    assert score(instrument, highest(instrument)).total == EXPECTED[instrument.id][2]


@given(st.data())
def test_every_valid_combination_scores_to_its_sum(data):
    instrument = data.draw(st.sampled_from(list(INSTRUMENTS.values())))
    items = data.draw(responses(instrument))
    assert item_errors(instrument, items) == {}
    scored = score(instrument, items)
    assert scored.total == sum(items.values())
    if instrument.bands:
        assert (scored.band is None) == (scored.total < 5)
    else:
        assert scored.band is None


@given(st.data())
def test_any_value_outside_an_items_set_names_that_item_only(data):
    instrument = data.draw(st.sampled_from(list(INSTRUMENTS.values())))
    items = data.draw(responses(instrument))
    item = data.draw(st.sampled_from(instrument.items))
    bad = data.draw(
        st.one_of(
            st.integers(-1000, 1000).filter(lambda value: value not in item.values),
            st.booleans(),
            st.floats(allow_nan=False),
            st.text(max_size=3),
            st.none(),
        )
    )
    items[item.item_id] = bad
    errors = item_errors(instrument, items)
    assert list(errors) == [item.item_id]
    assert errors[item.item_id] == [
        "Must be one of: " + ", ".join(str(value) for value in item.values) + "."
    ]
    with pytest.raises(ValueError):
        score(instrument, items)


@pytest.mark.parametrize("instrument", INSTRUMENTS.values(), ids=lambda i: i.id)
def test_partial_and_extra_items_are_named_and_never_scored(instrument):
    items = lowest(instrument)
    first, last = instrument.item_ids[0], instrument.item_ids[-1]
    del items[first], items[last]
    assert set(item_errors(instrument, items)) == {first, last}
    with pytest.raises(ValueError):
        score(instrument, items)
    extra = {**lowest(instrument), "headache": 1}
    assert item_errors(instrument, extra) == {
        "headache": [f"Unknown item: {instrument.id} has no such item."]
    }
    with pytest.raises(ValueError):
        score(instrument, extra)
    assert set(item_errors(instrument, {})) == set(instrument.item_ids)


def test_values_valid_for_one_cows_item_but_not_another():
    assert item_errors(COWS, {**lowest(COWS), "gooseflesh_skin": 1}) == {
        "gooseflesh_skin": ["Must be one of: 0, 3, 5."]
    }
    assert item_errors(COWS, {**lowest(COWS), "resting_pulse": 3}) == {
        "resting_pulse": ["Must be one of: 0, 1, 2, 4."]
    }
    # 3 is a gooseflesh value and 1 a pulse value: each is fine where it belongs.
    assert item_errors(COWS, {**lowest(COWS), "gooseflesh_skin": 3, "resting_pulse": 1}) == {}


def cows_totalling(total: int) -> dict:
    """A valid COWS response with the given total (greedy over the items' values)."""
    items, left = {}, total
    for item in COWS.items:
        value = max(v for v in item.values if v <= left)
        items[item.item_id] = value
        left -= value
    assert left == 0
    return items


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, None),
        (4, None),
        (5, "mild"),
        (12, "mild"),
        (13, "moderate"),
        (24, "moderate"),
        (25, "moderately_severe"),
        (36, "moderately_severe"),
        (37, "severe"),
        (48, "severe"),
    ],
)
def test_cows_band_edges(total, band):
    scored = score(COWS, cows_totalling(total))
    assert scored.total == total
    assert (scored.band.code if scored.band else None) == band


@pytest.mark.parametrize("instrument", [SOWS_GOSSOP, SOWS_HANDELSMAN], ids=lambda i: i.id)
def test_neither_sows_has_a_band_at_any_total(instrument):
    assert instrument.bands == ()
    for total in range(instrument.total_max + 1):
        assert instrument.band_for(total) is None


def test_who_completes_what_and_the_band_vocabulary():
    assert PATIENT_INSTRUMENTS == ("sows-gossop-10", "sows-handelsman-16")
    assert CLINICIAN_INSTRUMENTS == ("cows-11",)
    assert BAND_CODES == ("mild", "moderate", "moderately_severe", "severe")
    # The bands tile 5-48 without gaps or overlaps.
    edges = [(band.low, band.high) for band in COWS.bands]
    assert edges == [(5, 12), (13, 24), (25, 36), (37, 48)]
