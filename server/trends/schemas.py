"""Trend bodies and queries."""

from marshmallow import Schema, fields, validate
from webargs.fields import DelimitedList

from server.checkins.schemas import DateRangeQuerySchema, OptionalExtrasSchema
from server.common.serialization import PlannedDump
from server.common.validation import Vocabulary
from server.episodes.schemas import EPISODE_DAY
from server.instruments.definitions import INSTRUMENTS
from server.instruments.schemas import BAND as INSTRUMENT_BAND
from server.trends.chart import DEFAULT_SERIES, SERIES

DIRECTION = Vocabulary(
    "TrendDirection",
    ["improving", "stable", "worsening"],
    description="Which way a score moved against the period just before",
)
INSTRUMENT_ID = Vocabulary(
    "InstrumentId", list(INSTRUMENTS), description="A validated instrument's versioned id"
)
ALIGNMENTS = ("calendar", "episode")
ALIGNMENT = Vocabulary(
    "TrendAlignment",
    ALIGNMENTS,
    description="calendar: every day of the range in date order; episode: only the days "
    "of the range a withdrawal episode numbers, ordered by episode_day (then date)",
)


class TrendsQuerySchema(DateRangeQuerySchema):
    """Range of the trends, and how their days are laid out."""

    align = fields.String(
        load_default="calendar",
        validate=ALIGNMENT,
        metadata={
            "description": "episode: `days` holds only the days with an episode_day, ordered "
            "by it (each keeps its date); the summary and counts still cover the whole range"
        },
    )


class TrendDaySchema(OptionalExtrasSchema):
    """One calendar day; scores are null where nothing was logged."""

    date = fields.Date(required=True)
    nausea = fields.Integer(required=True, allow_none=True)
    aches = fields.Integer(required=True, allow_none=True)
    anxiety = fields.Integer(required=True, allow_none=True)
    insomnia = fields.Integer(required=True, allow_none=True)
    total = fields.Integer(required=True, allow_none=True)
    total_7d_avg = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "Mean total of the check-ins in the 7 days ending this day"},
    )
    episode_day = fields.Integer(
        required=True, allow_none=True, metadata={"description": EPISODE_DAY}
    )


class _RangeStatsSchema(Schema):
    """A series' statistics over the range and its change from the period just before."""

    mean = fields.Float(required=True, allow_none=True)
    min = fields.Integer(required=True, allow_none=True)
    max = fields.Integer(required=True, allow_none=True)
    latest = fields.Integer(required=True, allow_none=True)
    previous_mean = fields.Float(required=True, allow_none=True)
    change = fields.Float(required=True, allow_none=True)


class MetricSummarySchema(_RangeStatsSchema):
    """Summary of one score over the range, compared with the period just before."""

    direction = fields.String(
        required=True,
        allow_none=True,
        validate=DIRECTION,
        metadata={
            "description": "worsening when change >= +1.0 (symptoms) or +3.0 (total), "
            "improving when <= -1.0 / -3.0, else stable; null without both periods"
        },
    )


class TrendSummarySchema(Schema):
    """Per-score summaries."""

    nausea = fields.Nested(MetricSummarySchema, required=True)
    aches = fields.Nested(MetricSummarySchema, required=True)
    anxiety = fields.Nested(MetricSummarySchema, required=True)
    insomnia = fields.Nested(MetricSummarySchema, required=True)
    total = fields.Nested(MetricSummarySchema, required=True)


class TrendInstrumentDaySchema(Schema):
    """An instrument's result on one day of the range."""

    date = fields.Date(required=True)
    total = fields.Integer(
        required=True,
        metadata={"description": "The day's total; COWS: the highest of the day's observations"},
    )
    band = fields.String(
        required=True,
        allow_none=True,
        validate=INSTRUMENT_BAND,
        metadata={"description": "The published band of the total (COWS only), else null"},
    )
    results = fields.Integer(
        required=True,
        metadata={"description": "How many results the day has (COWS may be observed often)"},
    )


class TrendInstrumentSummarySchema(_RangeStatsSchema):
    """An instrument's totals over the range, compared with the period just before."""

    change = fields.Float(
        required=True,
        allow_none=True,
        metadata={
            "description": "mean - previous_mean, null without results in both periods. No "
            "direction is given: for SOWS-Gossop a change of 2 to 4 points has been reported "
            "as clinically meaningful (second-hand); see GET /instruments"
        },
    )
    days_recorded = fields.Integer(
        required=True, metadata={"description": "Days of the range with a result"}
    )


class TrendInstrumentSeriesSchema(Schema):
    """One instrument's totals per day, on its own scale (never the 0-10 or 0-40 one)."""

    instrument_id = fields.String(required=True, validate=INSTRUMENT_ID)
    total_min = fields.Integer(required=True, metadata={"description": "Lowest possible total"})
    total_max = fields.Integer(required=True, metadata={"description": "Highest possible total"})
    days = fields.List(
        fields.Nested(TrendInstrumentDaySchema),
        required=True,
        metadata={"description": "Only the days with a result, in date order"},
    )
    summary = fields.Nested(TrendInstrumentSummarySchema, required=True)


class TrendsSchema(PlannedDump):
    """Day-by-day series and a summary for a range."""

    start = fields.Date(data_key="from", required=True)
    end = fields.Date(data_key="to", required=True)
    days = fields.List(fields.Nested(TrendDaySchema), required=True)
    align = fields.String(required=True, validate=ALIGNMENT)
    summary = fields.Nested(TrendSummarySchema, required=True)
    days_logged = fields.Integer(required=True)
    days_in_range = fields.Integer(required=True)
    current_streak = fields.Integer(
        required=True,
        metadata={"description": "Consecutive logged days ending at `to` (or the day before)"},
    )
    instruments = fields.List(
        fields.Nested(TrendInstrumentSeriesSchema),
        required=True,
        metadata={
            "description": "One series per instrument (in GET /instruments order), kept apart "
            "from the check-in scores and total. A counselor sees the clinician-observed ones "
            "(cows-11) only when the share includes `assess`"
        },
    )


class ChartQuerySchema(DateRangeQuerySchema):
    """Range and image format of the chart."""

    format = fields.String(load_default="png", validate=validate.OneOf(["png", "svg"]))
    series = DelimitedList(
        fields.String(validate=validate.OneOf(SERIES)),
        # Left out, the routes pass None: the default series.
        validate=validate.Length(min=1),
        metadata={
            "description": "Comma-separated series to draw; default "
            + ",".join(DEFAULT_SERIES)
            + ". `vomiting` and `diarrhea` add a panel of their own; an instrument id ("
            + ", ".join(INSTRUMENTS)
            + ") adds a panel of its total on the instrument's own range (a counselor needs "
            "`assess` for cows-11, else 404)"
        },
    )
