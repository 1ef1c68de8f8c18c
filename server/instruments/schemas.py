"""Instrument, response and observation bodies (shape only: items are checked when scored)."""

from collections.abc import Mapping

from marshmallow import Schema, fields

from server.common.dates import DateRangeQuerySchema
from server.common.pagination import PageQuerySchema, PageSchema
from server.common.serialization import PlannedDump
from server.common.validation import Vocabulary
from server.instruments.definitions import BAND_CODES, CLINICIAN, INSTRUMENTS, PATIENT

BAND = Vocabulary(
    "InstrumentBand",
    BAND_CODES,
    description="A published severity band of an instrument (COWS only; SOWS have none)",
)
COMPLETED_BY = Vocabulary(
    "InstrumentCompletedBy",
    (PATIENT, CLINICIAN),
    description="Who completes an instrument: the patient (self-report) or a clinician",
)
TIMING = Vocabulary(
    "InstrumentTiming",
    tuple(dict.fromkeys(instrument.timing for instrument in INSTRUMENTS.values())),
    description="When an instrument is meant to be completed: daily, or at a point in time",
)


class ItemValues(fields.Dict):
    """Item id to value, documented as integers but loaded as sent.

    Which ids and values are allowed is each instrument's own: they are checked when the
    response is scored, so every error names its item (`items.<item_id>`).
    """

    def __init__(self, **kwargs):
        super().__init__(keys=fields.String(), values=fields.Integer(), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        """Accept any JSON object; its values are judged item by item when scored."""
        if not isinstance(value, Mapping):
            raise self.make_error("invalid")
        return dict(value)


def _item_values(description: str) -> ItemValues:
    """Declare a required `items` object."""
    return ItemValues(required=True, metadata={"description": description})


class OptionSchema(Schema):
    """One allowed value of an item and the words anchoring it."""

    value = fields.Integer(required=True)
    anchor = fields.String(required=True)


class ItemSchema(Schema):
    """One item: its id (the key in `items`), a neutral label and its allowed values."""

    item_id = fields.String(required=True)
    label = fields.String(required=True)
    options = fields.List(
        fields.Nested(OptionSchema),
        required=True,
        metadata={"description": "The allowed values, lowest first, with their anchors"},
    )


class TotalRangeSchema(Schema):
    """The lowest and highest possible total."""

    min = fields.Integer(required=True)
    max = fields.Integer(required=True)


class BandSchema(Schema):
    """A published severity band: totals from min to max inclusive."""

    code = fields.String(required=True, validate=BAND)
    label = fields.String(required=True)
    min = fields.Integer(required=True)
    max = fields.Integer(required=True)


class InstrumentSchema(Schema):
    """A validated instrument by its versioned id: items, total range, bands and source."""

    id = fields.String(required=True, metadata={"description": "Versioned id, e.g. cows-11"})
    version = fields.String(required=True)
    name = fields.String(required=True)
    completed_by = fields.String(required=True, validate=COMPLETED_BY)
    timing = fields.String(required=True, validate=TIMING)
    items = fields.List(fields.Nested(ItemSchema), required=True)
    total_range = fields.Nested(TotalRangeSchema, required=True)
    bands = fields.List(
        fields.Nested(BandSchema),
        required=True,
        metadata={"description": "Only bands published for this instrument; often none"},
    )
    citation = fields.String(required=True)
    interpretation = fields.String(required=True)


class InstrumentListSchema(Schema):
    """Every instrument Steady scores."""

    items = fields.List(fields.Nested(InstrumentSchema), required=True)


class ResponseInputSchema(Schema):
    """A patient's complete response: every item of the instrument, each with an allowed value."""

    items = _item_values("Every item id of the instrument to one of that item's values")


class ResponseSchema(PlannedDump):
    """A stored, scored response for one local day."""

    instrument_id = fields.String(required=True)
    instrument_version = fields.String(required=True)
    date = fields.Date(required=True)
    items = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    total = fields.Integer(required=True)
    band = fields.String(
        required=True,
        allow_none=True,
        validate=BAND,
        metadata={"description": "Null: the instrument publishes no bands (SOWS)"},
    )
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


class ListQuerySchema(DateRangeQuerySchema, PageQuerySchema):
    """Range (local days) and page of a list of responses or observations."""


class ResponsePageSchema(PageSchema):
    """One page of responses in date order, and the range they were taken from."""

    items = fields.List(fields.Nested(ResponseSchema), required=True)
    start = fields.Date(data_key="from", required=True)
    end = fields.Date(data_key="to", required=True)


class ObservationInputSchema(Schema):
    """A clinician's COWS: every item, and when the signs were observed."""

    items = _item_values("Every COWS item id to one of that item's values")
    observed_at = fields.AwareDateTime(
        required=True,
        metadata={"description": "RFC 3339 with an offset; from 2000, not in the future"},
    )


class ObserverSchema(Schema):
    """Who observed (the whole observer is null once their account is deleted)."""

    id = fields.UUID(required=True)
    display_name = fields.String(required=True)


class ObservationSchema(Schema):
    """A recorded, scored observation about the patient."""

    id = fields.UUID(required=True)
    instrument_id = fields.String(required=True)
    instrument_version = fields.String(required=True)
    observed_at = fields.AwareDateTime(required=True)
    date = fields.Date(
        required=True, metadata={"description": "The patient's local day of observed_at"}
    )
    items = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    total = fields.Integer(required=True)
    band = fields.String(
        required=True,
        allow_none=True,
        validate=BAND,
        metadata={"description": "Null below 5, where no published band applies"},
    )
    observer = fields.Nested(ObserverSchema, required=True, allow_none=True)
    created_at = fields.AwareDateTime(required=True)


class ObservationPageSchema(PageSchema):
    """One page of observations, oldest first, and the range of days they were taken from."""

    items = fields.List(fields.Nested(ObservationSchema), required=True)
    start = fields.Date(data_key="from", required=True)
    end = fields.Date(data_key="to", required=True)
