"""The inline chart's geometry and the dashboard's wording (pure functions)."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from server.dashboard.chart import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH, build_chart
from server.dashboard.words import LEVEL_LABELS, SCOPE_LABELS, SERIES_LABELS, signed
from server.vocabulary import CORE_SYMPTOMS, LEVELS, NO_DATA, SCOPES

START = date(2025, 3, 1)


def day(offset: int, score: int | None) -> dict:
    scores = dict.fromkeys(CORE_SYMPTOMS, score)
    total = None if score is None else score * len(CORE_SYMPTOMS)
    return {"date": START + timedelta(days=offset), **scores, "total": total}


def test_a_missing_day_breaks_every_line_instead_of_reading_as_zero():
    chart = build_chart([day(0, 2), day(1, 3), day(2, None), day(3, 5)])
    for series in chart.series:
        assert len(series.segments) == 2
        assert len(series.points) == 3
        assert len(series.segments[0].split()) == 2


def test_scores_and_totals_share_the_gridlines():
    chart = build_chart([day(0, 10), day(1, 0)])
    nausea = next(s for s in chart.series if s.name == "nausea")
    total = next(s for s in chart.series if s.name == "total")
    assert nausea.points[0][1] == total.points[0][1] == TOP  # 10 of 10 and 40 of 40
    assert nausea.points[1][1] == total.points[1][1] == HEIGHT - BOTTOM
    assert [(score, whole) for _y, score, whole in chart.score_ticks][-1] == (10, 40)


def test_every_series_looks_different_without_colour():
    chart = build_chart([day(0, 1)])
    styles = [(series.dash, series.marker) for series in chart.series]
    assert len(set(styles)) == len(styles) == len(CORE_SYMPTOMS) + 1


def test_an_empty_range_says_so():
    chart = build_chart([day(0, None), day(1, None)])
    assert not chart.has_data
    assert all(series.segments == () for series in chart.series)


@given(st.lists(st.one_of(st.none(), st.integers(0, 10)), min_size=1, max_size=366))
def test_points_stay_inside_the_plot_and_ticks_include_both_ends(scores):
    chart = build_chart([day(i, score) for i, score in enumerate(scores)])
    left, top, right, bottom = chart.plot
    for series in chart.series:
        for x, y in series.points:
            assert left < x < right and top <= y <= bottom
    ticks = [tick for _x, tick in chart.date_ticks]
    assert ticks[0] == START and ticks[-1] == START + timedelta(days=len(scores) - 1)
    assert ticks == sorted(set(ticks)) and len(ticks) <= 7
    assert (left, right) == (LEFT, WIDTH - RIGHT)


def test_every_word_of_the_vocabulary_has_a_label():
    assert set(LEVEL_LABELS) == {*LEVELS, NO_DATA}
    assert set(SCOPE_LABELS) == set(SCOPES)
    assert set(SERIES_LABELS) == {*CORE_SYMPTOMS, "total"}


def test_changes_carry_their_sign():
    assert [signed(v) for v in (1.5, -2.0, 0.0, None)] == ["+1.5", "−2", "0", "—"]
