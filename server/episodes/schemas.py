"""Withdrawal episode bodies, and the vocabularies of what a person took."""

from marshmallow import Schema, ValidationError, fields, post_load, validate

from server.common.pagination import PageQuerySchema, PageSchema
from server.common.serialization import PlannedDump
from server.common.validation import Vocabulary
from server.vocabulary import MOUD, SUBSTANCES, TAKEN_SUBSTANCES

SUBSTANCE = Vocabulary(
    "Substance", SUBSTANCES, description="What a withdrawal episode is from, as the person says"
)
MOUD_RULE = Vocabulary(
    "Moud",
    MOUD,
    description="The medicine for opioid use disorder (MOUD) the person is on, or none",
)
TAKEN_SUBSTANCE = Vocabulary(
    "TakenSubstance",
    TAKEN_SUBSTANCES,
    description="A substance or medicine a person took on a day (a Substance or a Moud)",
)

EPISODE_DAY = (
    "Whole days since day 0 of the withdrawal episode covering this day (0 on the local "
    "date of last_use_at, else on started_on); null outside every episode"
)


def _each_once(values: list) -> None:
    """Refuse a list naming a value twice."""
    if len(set(values)) != len(values):
        raise ValidationError("Each substance may appear once.")


def _substances(**kwargs):
    """Declare the non-empty list of distinct substances of an episode."""
    return fields.List(
        fields.String(validate=SUBSTANCE),
        validate=[validate.Length(min=1, max=len(SUBSTANCES)), _each_once],
        metadata={"uniqueItems": True, "description": "One or more, each at most once"},
        **kwargs,
    )


STARTED_ON = "The first day of the episode (not after today in your time zone)"
LAST_USE_AT = (
    "When you last used, with its UTC offset: not in the future, and at most 30 days before "
    "started_on; its local date is day 0 of the episode"
)
MOUD_STARTED_ON = "When you began the medicine; only with a moud other than none"


class EpisodeInputSchema(Schema):
    """A new withdrawal episode (left-out optional fields are null)."""

    started_on = fields.Date(required=True, metadata={"description": STARTED_ON})
    last_use_at = fields.AwareDateTime(allow_none=True, metadata={"description": LAST_USE_AT})
    substances = _substances(required=True)
    moud = fields.String(required=True, validate=MOUD_RULE)
    moud_started_on = fields.Date(allow_none=True, metadata={"description": MOUD_STARTED_ON})

    @post_load
    def _absent_is_null(self, data, **_kwargs):
        """Store a left-out optional field as null."""
        data.setdefault("last_use_at", None)
        data.setdefault("moud_started_on", None)
        return data


class EpisodePatchSchema(Schema):
    """A correction: only the fields sent change (null clears an optional one)."""

    started_on = fields.Date(metadata={"description": STARTED_ON})
    last_use_at = fields.AwareDateTime(allow_none=True, metadata={"description": LAST_USE_AT})
    substances = _substances()
    moud = fields.String(validate=MOUD_RULE)
    moud_started_on = fields.Date(allow_none=True, metadata={"description": MOUD_STARTED_ON})


class EpisodeEndSchema(Schema):
    """When the episode ended (the body may be left out)."""

    # The JSON body parser answers a missing body with {} for this schema (common/openapi).
    body_optional = True

    ended_on = fields.Date(
        metadata={
            "description": "The last day of the episode: default today in your time zone; "
            "not before started_on or the day of last use, not after today"
        }
    )


class EpisodeSchema(PlannedDump):
    """A withdrawal episode as the person recorded it."""

    id = fields.UUID(required=True)
    started_on = fields.Date(required=True)
    last_use_at = fields.AwareDateTime(required=True, allow_none=True)
    substances = fields.List(fields.String(validate=SUBSTANCE), required=True)
    moud = fields.String(required=True, validate=MOUD_RULE)
    moud_started_on = fields.Date(required=True, allow_none=True)
    ended_on = fields.Date(
        required=True, allow_none=True, metadata={"description": "null while the episode is open"}
    )
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


class EpisodeListQuerySchema(PageQuerySchema):
    """Which page of episodes."""


class EpisodePageSchema(PageSchema):
    """One page of episodes, the most recently started first."""

    items = fields.List(fields.Nested(EpisodeSchema), required=True)
