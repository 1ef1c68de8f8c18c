"""The planned dump gives exactly marshmallow's output for every response it serves."""

import uuid
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, fields

from server.alerts.schemas import AlertListSchema
from server.assessments.schemas import AssessmentSchema
from server.checkins.schemas import CheckinPageSchema, SavedCheckinSchema
from server.common.serialization import PlannedDump, plan_of
from server.patients.schemas import PatientListSchema
from server.trends.calculations import compute_trends
from server.trends.schemas import TrendsSchema
from tests.factories import CheckinRecord

START = date(2025, 1, 1)
score = st.integers(0, 10)
optional_score = st.none() | score
flag = st.none() | st.booleans()

checkins = st.builds(
    CheckinRecord,
    date=st.integers(0, 60).map(lambda n: START + timedelta(days=n)),
    nausea=score,
    aches=score,
    anxiety=score,
    insomnia=score,
    diarrhea=optional_score,
    vomiting=optional_score,
    cravings=optional_score,
    sleep_hours=st.none() | st.integers(0, 24) | st.floats(0, 24),
    used_opioids=flag,
    crisis=flag,
    note=st.none() | st.text(max_size=20),
)


def _marshmallow(schema, obj):
    """What plain marshmallow makes of the object."""
    return Schema.dump(schema, obj)


def test_every_hot_response_schema_has_a_plan():
    for schema_class in (
        TrendsSchema,
        SavedCheckinSchema,
        CheckinPageSchema,
        AssessmentSchema,
        PatientListSchema,
        AlertListSchema,
    ):
        assert plan_of(schema_class()) is not None, schema_class


@settings(max_examples=60, deadline=None)
@given(st.lists(checkins, max_size=40), st.integers(0, 45), st.integers(0, 15))
def test_trends_dump_as_marshmallow_does(records, offset, length):
    start = START + timedelta(days=offset)
    trends = compute_trends(records, start, start + timedelta(days=length))
    trends["start"], trends["end"] = trends.pop("from"), trends.pop("to")
    schema = TrendsSchema()
    assert schema.dump(trends) == _marshmallow(schema, trends)


@settings(max_examples=60, deadline=None)
@given(st.lists(checkins, max_size=5), st.booleans())
def test_check_in_pages_dump_as_marshmallow_does(records, as_dicts):
    items = [record.__dict__ if as_dicts else record for record in records]
    page = {
        "items": items,
        "start": START,
        "end": START,
        "page": 1,
        "page_size": 50,
        "total_items": len(items),
        "total_pages": 1,
    }
    schema = CheckinPageSchema()
    assert schema.dump(page) == _marshmallow(schema, page)


@given(
    st.sampled_from(["crisis", "severe", "stable", "no_data"]),
    st.lists(st.tuples(st.text(max_size=5), st.text(max_size=10)), max_size=3),
    st.none() | st.just(START),
)
def test_assessments_dump_as_marshmallow_does(level, reasons, checkin_date):
    resource = {
        "id": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "name": "Line",
        "kind": "crisis",
        "region": "US",
        "phone": "988",
        "sms": {"number": "988", "body": None},
        "display": "Call 988 or text 988",
        "url": None,
        "hours": "24/7",
        "description": "Call",
        "source_url": None,
        "verified_on": START,
        "provided_by": None,
    }
    body = {
        "level": level,
        "reasons": [{"code": code, "message": message} for code, message in reasons],
        "resources": [resource],
        "checkin_date": checkin_date,
        "notice": "not an emergency service",
    }
    schema = AssessmentSchema()
    assert schema.dump(body) == _marshmallow(schema, body)


def test_edge_values_dump_as_marshmallow_does():
    class Edges(PlannedDump):
        flag = fields.Boolean()
        day = fields.Date()
        uid = fields.UUID()
        count = fields.Integer()
        ratio = fields.Float()

    moment = datetime(2025, 1, 1, 12, 30, tzinfo=UTC)
    for obj in (
        {"flag": 1, "day": moment, "uid": "0F8FAD5B-D9CB-469F-A165-70867728950E"},
        {"flag": "false", "day": START, "uid": uuid.UUID(int=7), "count": True, "ratio": 3},
        {"flag": None, "day": None, "uid": "not-a-uuid", "count": 2.9, "ratio": None},
    ):
        assert Edges().dump(obj) == _marshmallow(Edges(), obj), obj


@settings(max_examples=40, deadline=None)
@given(st.lists(checkins, min_size=1, max_size=3), st.sampled_from(["severe", "stable"]))
def test_saved_check_ins_patient_lists_and_alerts_dump_as_marshmallow_does(records, level):
    assessment = {
        "level": level,
        "reasons": [],
        "resources": [],
        "checkin_date": START,
        "notice": "n",
    }
    saved = {**records[0].__dict__, "assessment": assessment}
    schema = SavedCheckinSchema()
    assert schema.dump(saved) == _marshmallow(schema, saved)
    patient_id = "0f8fad5b-d9cb-469f-a165-70867728950e"
    rows = {
        "items": [
            {
                "id": patient_id,
                "display_name": "Sam",
                "latest_checkin_date": record.date,
                "latest_assessment": {"level": level, "reasons": []},
                "days_logged_last_7": 3,
                "share": {"id": patient_id, "scope": ["status"], "expires_on": START},
            }
            for record in records
        ]
    }
    schema = PatientListSchema()
    assert schema.dump(rows) == _marshmallow(schema, rows)
    stamp = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    alerts = {
        "items": [
            {
                "id": patient_id,
                "patient": {"id": patient_id, "display_name": "Sam"},
                "checkin_date": record.date,
                "level": level,
                "reasons": [{"code": "c", "message": "m"}],
                "created_at": stamp,
                "acknowledged_at": None,
            }
            for record in records
        ]
    }
    schema = AlertListSchema()
    assert schema.dump(alerts) == _marshmallow(schema, alerts)


def test_missing_values_are_left_out_and_timestamps_keep_their_zone():
    class Stamp(PlannedDump):
        at = fields.AwareDateTime()
        maybe = fields.Integer()

    moment = datetime(2025, 1, 1, 12, 30, tzinfo=UTC)
    assert Stamp().dump({"at": moment}) == {"at": "2025-01-01T12:30:00+00:00"}
    assert Stamp().dump({"at": moment}) == _marshmallow(Stamp(), {"at": moment})


def test_unknown_fields_fall_back_to_marshmallow():
    class Odd(PlannedDump):
        computed = fields.Function(lambda obj: obj["a"] * 2)

    assert plan_of(Odd()) is None
    assert Odd().dump({"a": 2}) == {"computed": 4}
