"""Vocabularies: defined once, documented once, and the only words the data uses."""

from datetime import UTC, date, datetime

import pytest
from apispec import APISpec
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import Schema, fields

from server.audit import service as audit
from server.auth.models import Principal, Role
from server.common.openapi import ClientFriendlyMarshmallowPlugin
from server.common.validation import IANA_TIMEZONES, Vocabulary, constant_name
from server.sharing.models import share_status
from server.vocabulary import SHARE_STATUSES

WORD = Vocabulary("Word", ["alpha", "beta"], description="Test words")


def spec_of(*schemas: type[Schema]) -> dict:
    spec = APISpec("t", "1", "3.0.3", plugins=[ClientFriendlyMarshmallowPlugin()])
    for schema in schemas:
        spec.components.schema(schema.__name__, schema=schema)
    return spec.to_dict()["components"]["schemas"]


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("Europe/Dublin", "EUROPE_DUBLIN"),
        ("America/Port-au-Prince", "AMERICA_PORT_AU_PRINCE"),
        ("Etc/GMT+1", "ETC_GMT_PLUS_1"),
        ("Etc/GMT-1", "ETC_GMT_MINUS_1"),
        ("GMT0", "GMT0"),
        ("GMT+0", "GMT_PLUS_0"),
    ],
)
def test_constant_names_keep_signs_apart(value, name):
    assert constant_name(value) == name


def test_every_time_zone_gets_its_own_constant_name():
    names = [constant_name(zone) for zone in IANA_TIMEZONES]
    assert len(set(names)) == len(IANA_TIMEZONES)


def test_a_vocabulary_whose_values_share_a_constant_name_is_refused():
    with pytest.raises(ValueError, match="share a constant name"):
        Vocabulary("Zones", ["GMT+0", "GMT_PLUS_0"], description="clash")


def test_fields_refer_to_one_component_nullable_ones_through_all_of():
    class Holder(Schema):
        plain = fields.String(required=True, validate=WORD)
        maybe = fields.String(required=True, allow_none=True, validate=WORD)
        described = fields.String(validate=WORD, metadata={"description": "Why"})
        several = fields.List(fields.String(validate=WORD))

    schemas = spec_of(Holder)
    reference = {"$ref": "#/components/schemas/Word"}
    assert schemas["Word"] == {
        "type": "string",
        "enum": ["alpha", "beta"],
        "description": "Test words",
    }
    properties = schemas["Holder"]["properties"]
    assert properties["plain"] == reference
    assert properties["maybe"] == {"allOf": [reference], "nullable": True}
    assert properties["described"] == {"allOf": [reference], "description": "Why"}
    assert properties["several"] == {"type": "array", "items": reference}


def test_two_vocabularies_may_not_share_a_name():
    class First(Schema):
        word = fields.String(validate=WORD)

    class Second(Schema):
        word = fields.String(validate=Vocabulary("Word", ["gamma"], description="Other"))

    with pytest.raises(ValueError, match="Two vocabularies are named Word"):
        spec_of(First, Second)


def test_a_nullable_nested_object_is_all_of_and_nullable():
    class Inner(Schema):
        value = fields.Integer(required=True)

    class Outer(Schema):
        inner = fields.Nested(Inner, required=True, allow_none=True)

    assert spec_of(Outer)["Outer"]["properties"]["inner"] == {
        "allOf": [{"$ref": "#/components/schemas/Inner"}],
        "nullable": True,
    }


def test_the_access_log_takes_only_actions_of_its_vocabulary():
    actor = Principal("id", Role.COUNSELOR, "Dr Grey", "UTC", "US")
    with pytest.raises(ValueError, match="AUDIT_ACTIONS"):
        audit.record_many(actor=actor, events=[("patient-id", "notes_peeked", {})])


@given(
    revoked=st.booleans(),
    expires_on=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    today=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
)
def test_share_statuses_are_the_documented_ones(revoked, expires_on, today):
    revoked_at = datetime(2020, 1, 1, tzinfo=UTC) if revoked else None
    assert share_status(revoked_at, expires_on, today) in SHARE_STATUSES
