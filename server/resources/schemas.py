"""Resource bodies and queries."""

from marshmallow import Schema, fields, validate

from server.common.fields import Text
from server.common.validation import region_rule
from server.resources.catalogue import COUNSELOR_KINDS, ENTRY_KINDS


class ProviderSchema(Schema):
    """Who added a resource."""

    id = fields.UUID(required=True)
    display_name = fields.String(required=True)


class ResourceSchema(Schema):
    """A help resource; numbers carry their source and the date they were checked."""

    id = fields.UUID(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(ENTRY_KINDS))
    region = fields.String(required=True)
    phone = fields.String(required=True, allow_none=True)
    sms = fields.String(required=True, allow_none=True)
    url = fields.String(required=True, allow_none=True)
    hours = fields.String(required=True, allow_none=True)
    description = fields.String(required=True)
    source_url = fields.String(required=True, allow_none=True)
    verified_on = fields.Date(required=True, allow_none=True)
    provided_by = fields.Nested(
        ProviderSchema,
        required=True,
        allow_none=True,
        metadata={"description": "The counselor who added it; null for Steady's catalogue"},
    )


class ResourceCreateSchema(Schema):
    """A counselor's own resource (their clinic's line), shown to patients sharing with them."""

    name = Text(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(COUNSELOR_KINDS))
    region = fields.String(required=True, validate=region_rule)
    phone = Text(allow_none=True, load_default=None, validate=validate.Length(max=60))
    sms = Text(allow_none=True, load_default=None, validate=validate.Length(max=120))
    url = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Regexp(
            r"^https?://[^\x00-\x20]{1,490}$", error="Must be an http(s) URL."
        ),
    )
    hours = Text(allow_none=True, load_default=None, validate=validate.Length(max=200))
    description = Text(required=True, validate=validate.Length(min=1, max=1000))


class ResourceListSchema(Schema):
    """Resources for one region."""

    region = fields.String(required=True)
    items = fields.List(fields.Nested(ResourceSchema), required=True)


class ResourceQuerySchema(Schema):
    """Filter by region (default: the signed-in person's region, else US) and kind."""

    region = fields.String(validate=region_rule)
    kind = fields.String(validate=validate.OneOf(ENTRY_KINDS))


class TreatmentQuerySchema(Schema):
    """Where to look for treatment; the postal code goes upstream only on this request."""

    postal_code = fields.String(
        validate=validate.Regexp(
            r"^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$", error="Must be a postal code, e.g. 62701."
        ),
        metadata={
            "description": "Postal code; the locator covers US ZIP codes, anything else "
            "gets the region's helplines and the locator link"
        },
    )
    radius_miles = fields.Integer(load_default=25, validate=validate.Range(min=1, max=500))
    region = fields.String(validate=region_rule)


class FacilitySchema(Schema):
    """A treatment facility from the locator."""

    name = fields.String(required=True)
    address = fields.String(required=True)
    phone = fields.String(required=True, allow_none=True)
    website = fields.String(required=True, allow_none=True)
    distance_miles = fields.Float(required=True, allow_none=True)
    services = fields.List(fields.String(), required=True)


class TreatmentSchema(Schema):
    """Facilities near a place, or helplines and a locator link when none can be fetched."""

    source = fields.String(required=True, validate=validate.OneOf(["findtreatment", "fallback"]))
    facilities = fields.List(fields.Nested(FacilitySchema), required=True)
    helplines = fields.List(fields.Nested(ResourceSchema), required=True)
    locator_url = fields.String(required=True)


class RegionSchema(Schema):
    """What Steady knows for one ISO 3166-1 region."""

    code = fields.String(required=True, metadata={"example": "FR"})
    curated = fields.Boolean(
        required=True, metadata={"description": "Steady ships hand-checked entries for it"}
    )
    emergency = fields.String(
        required=True,
        validate=validate.OneOf(["curated", "derived", "fallback"]),
        metadata={
            "description": "Where its emergency entry comes from: a curated entry; the "
            "number Android's and libphonenumber's tables agree on; or, with no confirmed "
            "number, the fallback advice to call the local emergency number (112 or 911 "
            "from a mobile usually connects, but not everywhere)"
        },
    )
    treatment_finder_url = fields.String(required=True)


class RegionListSchema(Schema):
    """Every region a person may choose, and the default when they choose none."""

    default = fields.String(required=True, metadata={"example": "US"})
    items = fields.List(fields.Nested(RegionSchema), required=True)
