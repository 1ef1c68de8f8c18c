"""The chart's instrument panels, read from the figure: axes, points, bands, words."""

import math
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from server.instruments.definitions import COWS, INSTRUMENTS, SOWS_GOSSOP
from server.trends.chart import (
    CHECKIN_SERIES,
    DEFAULT_SERIES,
    INSTRUMENT_SERIES,
    SERIES,
    chart_figure,
    instrument_points,
    render_chart,
)
from tests.trends.test_chart import legend_texts, span

SVG = "{http://www.w3.org/2000/svg}"
START = date(2026, 11, 2)
GOSSOP = "sows-gossop-10"
HANDELSMAN = "sows-handelsman-16"
# 5, 6 and 9 Nov: two consecutive days, then a gap.
GOSSOP_DAYS = [(date(2026, 11, 5), 12), (date(2026, 11, 6), 15), (date(2026, 11, 9), 30)]
COWS_DAYS = [(date(2026, 11, 6), 27), (date(2026, 11, 20), 4)]


def series_of(instrument_id: str, days) -> dict:
    """An instrument series as trends give it."""
    return {
        "instrument_id": instrument_id,
        "days": [{"date": day, "total": total, "band": None, "results": 1} for day, total in days],
    }


INSTRUMENTS_GIVEN = [series_of(GOSSOP, GOSSOP_DAYS), series_of("cows-11", COWS_DAYS)]


def figure(series, n=30, instruments=INSTRUMENTS_GIVEN):
    """A drawn chart of n days from START with the given series."""
    return chart_figure(span(START, n), series=series, instruments=instruments)


def lines_by_gid(fig) -> dict:
    return {line.get_gid(): line for ax in fig.axes for line in ax.get_lines() if line.get_gid()}


def points(line) -> list[tuple[date, float]]:
    """The plotted (day, value) points of a line, gaps left out."""
    return [
        (date.fromordinal(round(x)), y)
        for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True)
        if not math.isnan(y)
    ]


def texts(ax) -> dict[str, str]:
    """The texts drawn on an axes, by id."""
    return {t.get_gid(): t.get_text() for t in ax.texts if t.get_gid()}


def test_series_vocabulary_is_the_checkin_fields_and_the_instrument_ids():
    assert SERIES == (*CHECKIN_SERIES, *INSTRUMENT_SERIES)
    assert INSTRUMENT_SERIES == tuple(INSTRUMENTS)


def test_each_instrument_gets_a_panel_of_its_own_range_under_the_symptoms():
    fig = figure((*DEFAULT_SERIES, GOSSOP, HANDELSMAN, "cows-11"))
    lines = lines_by_gid(fig)
    symptoms = lines["series-nausea"].axes
    panels = [lines[f"series-{i}"].axes for i in (GOSSOP, HANDELSMAN, "cows-11")]
    # Symptoms, the total's twin, three instrument panels, the flags strip.
    assert fig.axes.index(symptoms) == 0
    assert [fig.axes.index(ax) for ax in panels] == [1, 2, 3]
    assert lines["flag-crisis"].axes is fig.axes[4]
    for ax, instrument_id in zip(panels, (GOSSOP, HANDELSMAN, "cows-11"), strict=True):
        instrument = INSTRUMENTS[instrument_id]
        assert ax is not symptoms
        assert (
            ax.get_ylabel()
            == f"{instrument.short_name}\n({instrument.total_min}–{instrument.total_max})"
        )
        low, high = ax.get_ylim()
        assert low < instrument.total_min < instrument.total_max < high
        assert (min(ax.get_yticks()), max(ax.get_yticks())) == (
            instrument.total_min,
            instrument.total_max,
        )
    assert panels[0].get_ylabel() == "SOWS-Gossop\n(0–30)"
    assert panels[2].get_ylabel() == "COWS\n(0–48)"
    # Never on the 0-10 axis (nor the total's).
    assert symptoms.get_ylim()[1] < 11
    legend = legend_texts(fig)
    assert {i.name for i in INSTRUMENTS.values()} <= set(legend)


def test_points_sit_on_their_days_joined_only_between_consecutive_days():
    fig = figure((GOSSOP, "cows-11"))
    lines = lines_by_gid(fig)
    assert points(lines[f"series-{GOSSOP}"]) == [(day, float(t)) for day, t in GOSSOP_DAYS]
    assert points(lines["series-cows-11"]) == [(day, float(t)) for day, t in COWS_DAYS]
    ys = list(lines[f"series-{GOSSOP}"].get_ydata())
    # 5 and 6 Nov joined; a break before 9 Nov.
    assert ys[:2] == [12.0, 15.0] and math.isnan(ys[2]) and ys[3] == 30.0
    assert lines[f"series-{GOSSOP}"].get_marker() not in (None, "", "None")


def test_points_helper_breaks_only_across_missing_days():
    days = [{"date": START + timedelta(days=i), "total": i} for i in (0, 1, 2, 5, 7, 8)]
    xs, ys = instrument_points(days)
    assert [math.isnan(y) for y in ys] == [False, False, False, True, False, True, False, False]
    assert [x for x in xs if not math.isnan(x)] == [float(d["date"].toordinal()) for d in days]
    assert instrument_points([]) == ([], [])


def test_cows_draws_its_published_bands_and_sows_none():
    fig = figure((GOSSOP, "cows-11"))
    lines = lines_by_gid(fig)
    cows_ax, gossop_ax = lines["series-cows-11"].axes, lines[f"series-{GOSSOP}"].axes
    boundaries = sorted(
        line.get_ydata()[0] for line in cows_ax.get_lines() if line.get_gid().startswith("band-")
    )
    assert boundaries == [band.low - 0.5 for band in COWS.bands]
    words = texts(cows_ax)
    assert [
        words[f"band-label-cows-11-{band.code}"].replace("\n", " ") for band in COWS.bands
    ] == [
        "mild",
        "moderate",
        "moderately severe",
        "severe",
    ]
    assert SOWS_GOSSOP.bands == ()
    assert not [line for line in gossop_ax.get_lines() if line.get_gid().startswith("band-")]
    assert not [gid for gid in texts(gossop_ax) if gid.startswith("band-")]


def test_an_instrument_without_results_draws_an_empty_panel_that_says_so():
    fig = figure((*DEFAULT_SERIES, HANDELSMAN))
    ax = lines_by_gid(fig)[f"series-{HANDELSMAN}"].axes
    assert texts(ax)[f"empty-{HANDELSMAN}"] == "No SOWS-Handelsman results in this range"
    assert points(lines_by_gid(fig)[f"series-{HANDELSMAN}"]) == []
    # Not given at all is the same as given with no days.
    assert texts(figure((HANDELSMAN,), instruments=()).axes[0])[f"empty-{HANDELSMAN}"]


def test_long_ranges_keep_instrument_points_daily():
    fig = figure((*DEFAULT_SERIES, GOSSOP), n=120)
    lines = lines_by_gid(fig)
    assert len(lines["series-nausea"].get_xdata()) == 18  # weekly means
    assert points(lines[f"series-{GOSSOP}"]) == [(day, float(t)) for day, t in GOSSOP_DAYS]
    assert f"{SOWS_GOSSOP.name}, daily" in legend_texts(fig)


def test_only_an_instrument_asked_for_keeps_the_check_in_notes_off_its_panel():
    days = span(START, 30)
    for day in days[:10]:
        day.update(dict.fromkeys(CHECKIN_SERIES))
    fig = chart_figure(days, series=(GOSSOP,), instruments=INSTRUMENTS_GIVEN)
    gossop_ax = lines_by_gid(fig)[f"series-{GOSSOP}"].axes
    assert fig.axes == [gossop_ax, lines_by_gid(fig)["flag-crisis"].axes]
    assert not gossop_ax.texts
    assert not gossop_ax.patches
    assert texts(fig.axes[-1])["no-checkins-before"] == " No check-ins before 12 Nov 2026"


def test_svg_desc_names_each_drawn_instruments_latest_total_and_band():
    svg = ET.fromstring(
        render_chart(
            span(START, 30),
            fmt="svg",
            series=(*DEFAULT_SERIES, GOSSOP, HANDELSMAN, "cows-11"),
            instruments=[*INSTRUMENTS_GIVEN, series_of("cows-11", [(date(2026, 11, 21), 13)])],
        )
    )
    desc = svg.find(f"{SVG}desc").text
    assert "Latest SOWS-Gossop 9 Nov 2026: total 30 of 30." in desc
    assert "No SOWS-Handelsman results in this range." in desc
    # The last series given for an instrument wins; 13 is moderate.
    assert "Latest COWS 21 Nov 2026: total 13 of 48, moderate." in desc
    words = {"".join(t.itertext()) for t in svg.iter(f"{SVG}text")}
    # Each axis label is two lines of text: the short name, then the range.
    assert {
        "SOWS-Gossop",
        "(0–30)",
        "COWS",
        "(0–48)",
        "No SOWS-Handelsman results in this range",
    } <= words


def test_desc_says_when_the_latest_cows_is_below_the_bands_and_omits_undrawn_ones():
    svg = ET.fromstring(
        render_chart(
            span(START, 30), fmt="svg", series=("cows-11",), instruments=INSTRUMENTS_GIVEN
        )
    )
    desc = svg.find(f"{SVG}desc").text
    assert "Latest COWS 20 Nov 2026: total 4 of 48, below the published bands." in desc
    assert "SOWS" not in desc


@pytest.mark.parametrize(
    ("day", "error"),
    [
        ({"date": "2026-11-05", "total": 3}, "datetime.date"),
        ({"date": date(2026, 11, 5), "total": 31}, "outside 0-30"),
        ({"date": date(2026, 11, 5), "total": True}, "int total"),
        ({"date": date(2026, 11, 5), "total": None}, "int total"),
    ],
)
def test_bad_instrument_days_raise(day, error):
    with pytest.raises(ValueError, match=error):
        chart_figure(
            span(START, 3),
            series=(GOSSOP,),
            instruments=[{"instrument_id": GOSSOP, "days": [day]}],
        )
