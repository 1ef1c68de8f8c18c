"""Trend bodies and queries."""

from marshmallow import Schema, fields, validate
from webargs.fields import DelimitedList

from server.checkins.schemas import DateRangeQuerySchema, OptionalExtrasSchema
from server.common.serialization import PlannedDump
from server.common.validation import Vocabulary
from server.episodes.schemas import EPISODE_DAY
from server.trends.chart import DEFAULT_SERIES, SERIES

DIRECTION = Vocabulary(
    "TrendDirection",
    ["improving", "stable", "worsening"],
    description="Which way a score moved against the period just before",
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


class MetricSummarySchema(Schema):
    """Summary of one score over the range, compared with the period just before."""

    mean = fields.Float(required=True, allow_none=True)
    min = fields.Integer(required=True, allow_none=True)
    max = fields.Integer(required=True, allow_none=True)
    latest = fields.Integer(required=True, allow_none=True)
    previous_mean = fields.Float(required=True, allow_none=True)
    change = fields.Float(required=True, allow_none=True)
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
            + ". `vomiting` and `diarrhea` add a panel of their own"
        },
    )
