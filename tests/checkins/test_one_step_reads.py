"""Reads fetched in one step (SQLite: one JSON row) give the rows the plain statement does."""

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.checkins import service
from server.extensions import db
from server.vocabulary import CORE_SYMPTOMS
from tests.factories import checkin_body

FIRST_DAY = date(2024, 2, 25)  # the range crosses 29 February
optional_score = st.none() | st.integers(0, 10)
day_content = st.fixed_dictionaries(
    {
        "nausea": st.integers(0, 10),
        "aches": st.integers(0, 10),
        "anxiety": st.integers(0, 10),
        "insomnia": st.integers(0, 10),
        "diarrhea": optional_score,
        "vomiting": optional_score,
        "cravings": optional_score,
        # Any float in range: SQLite's own JSON writes REALs with 15 digits only.
        "sleep_hours": st.none() | st.floats(0, 24, allow_nan=False),
        "used_opioids": st.none() | st.booleans(),
        "crisis": st.none() | st.booleans(),
    }
)
# Offsets of logged days from FIRST_DAY (gaps included) with what was logged on each.
logs = st.dictionaries(st.integers(0, 9), day_content, min_size=0, max_size=6)
fixture_per_example = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _log(factory, days: dict):
    patient = factory.patient()
    for offset, content in days.items():
        factory.checkin(patient, FIRST_DAY + timedelta(days=offset), **content)
    return patient


@fixture_per_example
@given(days=logs, start=st.integers(0, 9), length=st.integers(1, 10))
def test_scores_in_range_match_the_plain_statement(app, factory, days, start, length):
    patient = _log(factory, days)
    first, last = FIRST_DAY + timedelta(days=start), FIRST_DAY + timedelta(days=start + length)
    params = {"patient_id": patient.id, "start": first, "end": last}
    with app.app_context():
        plain = [tuple(row) for row in db.session.execute(service._SCORES_IN_RANGE, params)]
        fetched = service.scores_in_range(patient.id, first, last)
    assert [tuple(getattr(day, name) for name in day.__slots__) for day in fetched] == plain
    assert [day.date for day in fetched] == sorted(
        FIRST_DAY + timedelta(days=offset) for offset in days if start <= offset <= start + length
    )


@fixture_per_example
@given(per_patient=st.lists(logs, min_size=1, max_size=3), limit=st.integers(1, 4))
def test_newest_per_patient_groups_and_orders_like_the_statement(app, factory, per_patient, limit):
    patients = [_log(factory, days) for days in per_patient]
    with app.app_context():
        newest = service.newest_per_patient([patient.id for patient in patients], limit)
    for patient, days in zip(patients, per_patient, strict=True):
        wanted = sorted(days, reverse=True)[:limit]
        got = newest[patient.id]
        assert [day.date for day in got] == [FIRST_DAY + timedelta(days=d) for d in wanted]
        for day, offset in zip(got, wanted, strict=True):
            content = checkin_body(**days[offset])
            content["total"] = sum(content[name] for name in CORE_SYMPTOMS)
            assert {name: getattr(day, name) for name in content} == content
