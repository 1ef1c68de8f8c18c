"""Resource bodies and queries."""

import ipaddress
import urllib.parse

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from server.common.fields import Text
from server.common.validation import Vocabulary, region_rule
from server.resources.catalogue import COUNSELOR_KINDS, ENTRY_KINDS, MAX_SMS_BODY, e164

KIND = Vocabulary("ResourceKind", ENTRY_KINDS, description="What sort of help a resource is")
COUNSELOR_KIND = Vocabulary(
    "CounselorResourceKind",
    COUNSELOR_KINDS,
    description="The kinds of resource a counselor may add",
    error="Must be one of: {choices}. Emergency, crisis, poison, harm-reduction and "
    "directory entries come from Steady's catalogue only.",
)


def public_https_url(value: str) -> None:
    """Refuse links that are not https, carry a user name or point at a non-public host."""
    message = "Must be an https URL of a public web site."
    if any(ord(character) <= 0x20 for character in value):
        raise ValidationError(message)
    try:
        parts = urllib.parse.urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        raise ValidationError(message) from None
    # "https://988lifeline.org@evil.example/" reads as 988lifeline.org but goes elsewhere.
    if parts.scheme != "https" or not host or parts.username is not None or "@" in parts.netloc:
        raise ValidationError(message)
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise ValidationError(message)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if "." not in host:
            raise ValidationError(message) from None  # a bare intranet name
        return
    if not address.is_global:
        raise ValidationError(message)


class ProviderSchema(Schema):
    """Who added a resource."""

    id = fields.UUID(required=True)
    display_name = fields.String(required=True)


class SmsSchema(Schema):
    """Where to send a text message, and what to write."""

    number = fields.String(
        required=True,
        metadata={"description": "E.164 (starting with +) or a short code sent to as is"},
    )
    body = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The text to send, e.g. MHA; null when any text works"},
    )


class ResourceSchema(Schema):
    """A help resource; numbers carry their source and the date they were checked."""

    id = fields.UUID(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=KIND)
    region = fields.String(required=True, validate=region_rule)
    phone = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "E.164 (starting with +), or a short code dialled as is "
            "(911, 988, 116123); for a tel: link",
            "example": "+18002738255",
        },
    )
    sms = fields.Nested(
        SmsSchema,
        required=True,
        allow_none=True,
        metadata={"description": "For an sms: link; null when the entry takes no texts"},
    )
    display = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "How to reach it, for people to read, numbers in the region's "
            "own format; null without phone and sms",
            "example": "Call 988 or text 988",
        },
    )
    url = fields.String(required=True, allow_none=True)
    hours = fields.String(required=True, allow_none=True)
    description = fields.String(required=True)
    source_url = fields.String(required=True, allow_none=True)
    verified_on = fields.Date(
        required=True,
        allow_none=True,
        metadata={
            "description": "When Steady checked it against its source; null for "
            "counselors' entries and the fallback advice"
        },
    )
    second_hand = fields.Boolean(
        required=True,
        metadata={
            "description": "True when the source is neither the service's own page nor a "
            "public body's (news, another organisation, a dialling table): check it first"
        },
    )
    added_on = fields.Date(
        required=True,
        allow_none=True,
        metadata={"description": "The day (UTC) a counselor added it; null for the catalogue"},
    )
    provided_by = fields.Nested(
        ProviderSchema,
        required=True,
        allow_none=True,
        metadata={"description": "The counselor who added it; null for Steady's catalogue"},
    )


class SmsCreateSchema(Schema):
    """A number that takes text messages, and what to text it if that matters."""

    number = Text(required=True, validate=validate.Length(min=1, max=60))
    body = Text(
        allow_none=True,
        validate=validate.Length(min=1, max=MAX_SMS_BODY),
        metadata={"description": "null when any text works"},
    )


class SmsField(fields.Nested):
    """An sms object; older clients send the number alone as a string, which still works."""

    def __init__(self, **kwargs):
        super().__init__(SmsCreateSchema, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = {"number": value}
        return super()._deserialize(value, attr, data, **kwargs)


class ResourceCreateSchema(Schema):
    """A counselor's own resource (their clinic's line), shown to patients sharing with them."""

    name = Text(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=COUNSELOR_KIND)
    region = fields.String(required=True, validate=region_rule)
    phone = Text(
        allow_none=True,
        validate=validate.Length(max=60),
        metadata={"description": "A real number for `region`; stored in E.164 form"},
    )
    sms = SmsField(
        allow_none=True,
        metadata={
            "description": "A number of `region` that takes text messages (stored in E.164 "
            "form) and what to text, if it matters; a plain string is taken as the number"
        },
    )
    url = fields.String(
        allow_none=True,
        validate=[validate.Length(max=500), public_https_url],
        metadata={
            "description": "https, with a public host name (no user name, no local or "
            "private address)"
        },
    )
    hours = Text(allow_none=True, validate=validate.Length(max=200))
    description = Text(required=True, validate=validate.Length(min=1, max=1000))

    @validates_schema
    def _numbers_are_real(self, data, **_kwargs):
        """Phone and SMS numbers must be valid numbers of the entry's region."""
        region = data.get("region")
        if not region:
            return
        errors = {}
        if data.get("phone") is not None and e164(data["phone"], region) is None:
            errors["phone"] = [f"Must be a valid phone number for {region}."]
        if data.get("sms") is not None and e164(data["sms"]["number"], region) is None:
            errors["sms"] = {"number": [f"Must be a valid phone number for {region}."]}
        if errors:
            raise ValidationError(errors)

    @post_load
    def _store_e164(self, data, **_kwargs):
        """Keep numbers in E.164 form; what was left out is stored as null."""
        for name in ("phone", "url", "hours"):
            data.setdefault(name, None)
        region = data["region"]
        if data.get("phone") is not None:
            data["phone"] = e164(data["phone"], region)
        sms = data.pop("sms", None) or {}
        data["sms_number"] = e164(sms["number"], region) if sms else None
        data["sms_body"] = sms.get("body")
        return data


class ResourceListSchema(Schema):
    """Resources for one region."""

    region = fields.String(required=True, validate=region_rule)
    items = fields.List(fields.Nested(ResourceSchema), required=True)


class ResourceQuerySchema(Schema):
    """Filter by region (default: the signed-in person's region, else US) and kind."""

    region = fields.String(validate=region_rule)
    kind = fields.String(validate=KIND)


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
    radius_miles = fields.Integer(
        load_default=25,
        validate=validate.Range(min=1, max=500),
        metadata={
            "description": "Search radius; rounded up to 5, 10, 25, 50, 100, 250 or 500 miles"
        },
    )
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
    radius_miles = fields.Integer(
        required=True,
        metadata={"description": "The radius searched: the one asked for, rounded up to a bucket"},
    )
    facilities = fields.List(fields.Nested(FacilitySchema), required=True)
    helplines = fields.List(fields.Nested(ResourceSchema), required=True)
    locator_url = fields.String(required=True)


class RegionSchema(Schema):
    """What Steady knows for one ISO 3166-1 region."""

    code = fields.String(required=True, validate=region_rule, metadata={"example": "FR"})
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

    default = fields.String(required=True, validate=region_rule, metadata={"example": "US"})
    items = fields.List(fields.Nested(RegionSchema), required=True)
