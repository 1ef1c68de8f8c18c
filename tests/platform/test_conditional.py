"""The If-Match / If-None-Match grammar and evaluation (pure), and changes-feed cursors."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.checkins.feed import MAX_SEQ, decode_cursor, encode_cursor
from server.common.conditional import (
    ENTITY_TAGS_PATTERN,
    Failure,
    Preconditions,
    parse_entity_tags,
)

# Werkzeug reads the empty tag "" as None; Steady's tags are never empty (see below).
ETAGC = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='"'),
    min_size=1,
    max_size=12,
)
TAGS = st.lists(st.tuples(st.booleans(), ETAGC), min_size=1, max_size=5)
OWS = st.text(alphabet=" \t", max_size=2)


@st.composite
def header_values(draw):
    """A list of entity tags as a client may send it: spaces, tabs, empty elements."""
    tags = draw(TAGS)
    parts = []
    for weak, opaque in tags:
        parts.append(draw(OWS) + ("W/" if weak else "") + f'"{opaque}"' + draw(OWS))
        parts.extend("" for _ in range(draw(st.integers(0, 1))))
    leading = "," * draw(st.integers(0, 1))
    return tags, leading + ",".join(parts)


@given(header_values())
def test_every_well_formed_list_parses_to_its_tags(generated):
    tags, value = generated
    parsed = parse_entity_tags(value)
    assert not parsed.star_tag
    assert parsed.as_set() == {opaque for weak, opaque in tags if not weak}
    assert parsed.as_set(include_weak=True) == {opaque for _, opaque in tags}


@given(st.text(max_size=30))
def test_parsing_either_succeeds_by_the_grammar_or_raises_value_error(value):
    matches = re.fullmatch(ENTITY_TAGS_PATTERN, value) is not None
    try:
        parse_entity_tags(value)
    except ValueError:
        assert not matches
    else:
        assert matches


@pytest.mark.parametrize(
    "value", ["abc", '"abc', 'abc"', "W/abc", '"a" "b"', '"a", *', "*,", " * ", '"a""b"']
)
def test_unquoted_and_mixed_values_are_refused(value):
    with pytest.raises(ValueError):
        parse_entity_tags(value)


def conditions(if_match=None, if_none_match=None) -> Preconditions:
    parse = lambda value: None if value is None else parse_entity_tags(value)  # noqa: E731
    return Preconditions(parse(if_match), parse(if_none_match))


@given(
    current=st.one_of(st.none(), ETAGC),
    if_match=st.one_of(st.none(), st.sampled_from(["*", ""]), header_values().map(lambda g: g[1])),
    if_none_match=st.one_of(
        st.none(), st.sampled_from(["*", ""]), header_values().map(lambda g: g[1])
    ),
)
def test_evaluation_follows_rfc_9110(current, if_match, if_none_match):
    failure = conditions(if_match, if_none_match).failure(current)
    match = None if if_match is None else parse_entity_tags(if_match)
    none_match = None if if_none_match is None else parse_entity_tags(if_none_match)
    # If-Match: strong comparison; "*" needs the resource to exist.
    if match is not None and (current is None or not match.contains(current)):
        assert failure in (Failure.MISSING, Failure.CHANGED, Failure.WEAK_ONLY, Failure.NO_TAGS)
        assert (failure is Failure.MISSING) == (current is None)
        return
    # If-None-Match: weak comparison; "*" fails whenever the resource exists.
    if none_match is not None and current is not None and none_match.contains_weak(current):
        assert failure is (Failure.EXISTS if none_match.star_tag else Failure.UNCHANGED)
        return
    assert failure is None


def test_the_empty_tag_is_well_formed_and_matches_nothing():
    assert conditions('""').failure("5d41402a") is Failure.CHANGED
    assert conditions(if_none_match='""').failure("5d41402a") is None


def test_an_empty_list_is_well_formed_and_holds_no_tag():
    assert not parse_entity_tags(" , ,")
    assert conditions("").failure("a") is Failure.NO_TAGS
    assert conditions(if_none_match="").failure("a") is None


def test_a_weak_only_if_match_is_told_apart():
    assert conditions('W/"a"').failure("a") is Failure.WEAK_ONLY
    assert conditions('W/"a", "b"').failure("a") is Failure.CHANGED
    assert conditions('W/"a", "a"').failure("a") is None
    assert conditions(if_none_match='W/"a"').failure("a") is Failure.UNCHANGED


@given(st.integers(0, MAX_SEQ))
def test_a_cursor_decodes_to_the_change_number_it_encodes(seq):
    cursor = encode_cursor(seq)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)
    assert decode_cursor(cursor) == seq


@given(st.text(max_size=16))
def test_decoding_any_text_gives_a_number_or_value_error(text):
    try:
        seq = decode_cursor(text)
    except ValueError:
        return
    assert 0 <= seq <= MAX_SEQ
    assert encode_cursor(seq) == text
