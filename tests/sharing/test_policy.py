"""Unit tests of sharing/policy.py: every access decision, on its own."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from server.auth.models import Principal, Role
from server.errors import NotFound
from server.extensions import db
from server.sharing import policy
from server.sharing.policy import ActiveShare

PATIENT = Principal("p-1", Role.PATIENT, "Sam", "Pacific/Kiritimati", "US")
SAME_PATIENT_IN_UTC = Principal("p-1", Role.PATIENT, "Sam", "UTC", "US")
COUNSELOR = Principal("c-1", Role.COUNSELOR, "Dr Lee", "UTC", "US")
SHARED_AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _share(counselor_id="c-1", *, scope=("checkins",), include_notes=False, **overrides):
    fields = {
        "id": f"s-{counselor_id}",
        "patient_id": PATIENT.id,
        "counselor_id": counselor_id,
        "purpose": "review",
        "scope": tuple(scope),
        "include_notes": include_notes,
        "expires_on": date(2026, 3, 10),
        "revoked_at": None,
        "created_at": SHARED_AT,
        **overrides,
    }
    return ActiveShare(**fields)


def test_alerts_go_only_to_counselors_whose_share_includes_status():
    shares = [
        _share("c-1", scope=("checkins", "status")),
        _share("c-2", scope=("trends", "export")),
        _share("c-3", scope=("status",)),
    ]
    alerted = policy.alert_shares(shares, day_logged_at=SHARED_AT)
    assert [share.counselor_id for share in alerted] == ["c-1", "c-3"]
    assert policy.counselors_in(shares) == ("c-1", "c-2", "c-3")


def test_a_day_logged_before_a_share_began_alerts_no_one_under_it():
    earlier = _share("c-1", scope=("status",), created_at=datetime(2026, 2, 1, tzinfo=UTC))
    later = _share("c-2", scope=("status",), created_at=datetime(2026, 3, 2, tzinfo=UTC))
    alerted = policy.alert_shares([later, earlier], day_logged_at=SHARED_AT)
    assert alerted == (earlier,)
    assert policy.alert_shares([later], day_logged_at=later.created_at) == (later,)


@pytest.mark.parametrize(
    ("scope", "latest", "assessment"),
    [
        (("checkins",), True, False),
        (("status",), True, True),
        (("trends", "export"), False, False),
        (("checkins", "trends", "status", "export"), True, True),
    ],
)
def test_patient_list_columns_follow_the_scope(scope, latest, assessment):
    share = _share(scope=scope)
    assert policy.shows_latest_checkin(share) is latest
    assert policy.shows_assessment(share) is assessment


@pytest.mark.parametrize(
    ("scope", "observed"),
    [
        (("trends",), False),
        (("checkins", "trends", "status", "export"), False),
        (("assess",), True),
    ],
)
def test_observed_instruments_need_assess(scope, observed):
    share = _share(scope=scope)
    assert policy.may_see_observations(share) is observed
    if observed:
        policy.require_observations(share)
    else:
        with pytest.raises(NotFound):
            policy.require_observations(share)


def test_notes_only_when_the_patient_included_them():
    assert policy.may_see_notes(_share(include_notes=True)) is True
    assert policy.may_see_notes(_share(include_notes=False)) is False


def test_expiry_follows_the_patients_time_zone():
    share = _share(expires_on=date(2026, 3, 10))
    # 11:30 UTC on the 10th is already the 11th in Kiritimati (UTC+14): the share has ended.
    with time_machine.travel(datetime(2026, 3, 10, 11, 30, tzinfo=UTC), tick=False):
        assert policy.is_active(share, PATIENT) is False
        assert policy.is_active(share, SAME_PATIENT_IN_UTC) is True
    with time_machine.travel(datetime(2026, 3, 10, 9, 30, tzinfo=UTC), tick=False):
        assert policy.is_active(share, PATIENT) is True


def test_a_revoked_share_is_never_active():
    with time_machine.travel(datetime(2026, 3, 1, tzinfo=UTC), tick=False):
        revoked = _share(revoked_at=datetime(2026, 2, 28, tzinfo=UTC))
        assert policy.is_active(revoked, PATIENT) is False


def test_whose_own_resources_a_person_sees():
    assert policy.resource_owner_ids(None) == ()
    assert policy.resource_owner_ids(COUNSELOR) == ("c-1",)


def _principal(app, person) -> Principal:
    from server.auth.models import User

    user = db.session.get(User, person.id)
    return Principal(user.id, user.role, user.display_name, user.timezone, user.region)


def test_disclosure_records_what_was_read_and_nothing_when_the_read_fails(app, factory):
    patient, counselor = factory.patient(), factory.counselor()
    factory.share(patient, counselor, scope=("trends",))
    with app.test_request_context():
        viewer = _principal(app, counselor)
        with policy.disclosure(viewer, patient.id, "trends", "trends_viewed") as (
            share,
            owner,
            detail,
        ):
            assert owner.id == patient.id and share.scope == ("trends",)
            detail.update(start=date(2026, 1, 1))
        with (
            pytest.raises(RuntimeError),
            policy.disclosure(viewer, patient.id, "trends", "chart_viewed"),
        ):
            raise RuntimeError("the read failed")
        db.session.rollback()
        # Outside the scope: the same 404 as a stranger gets, and nothing is recorded.
        with pytest.raises(NotFound), policy.disclosure(viewer, patient.id, "status", "x"):
            pass
    log = factory.client.get("/api/v1/me/access-log", headers=patient.headers).json["items"]
    actions = [event["action"] for event in log]
    assert "chart_viewed" not in actions and "x" not in actions
    viewed = [event for event in log if event["action"] == "trends_viewed"]
    assert len(viewed) == 1 and viewed[0]["detail"]["start"] == "2026-01-01"
    assert viewed[0]["actor"]["id"] == counselor.id


def test_shares_of_a_patient_are_only_the_running_ones(app, factory):
    patient, first, second = factory.patient(), factory.counselor(), factory.counselor()
    kept = factory.share(patient, first, scope=("status",))
    ended = factory.share(patient, second)
    factory.client.delete(f"/api/v1/shares/{ended['id']}", headers=patient.headers)
    with app.test_request_context():
        viewer = _principal(app, patient)
        shares = policy.active_shares_of_patient(viewer)
        owners = policy.resource_owner_ids(viewer)
    assert [share.id for share in shares] == [kept["id"]]
    assert [share.counselor_id for share in shares] == [first.id]
    assert owners == (first.id,)  # the ended share's counselor's resources no longer show


def test_tomorrow_in_utc_is_not_yet_expired_anywhere():
    # Late on the 9th in UTC it is already the 10th in Kiritimati, the earliest zone.
    with time_machine.travel(datetime(2026, 3, 9, 23, 0, tzinfo=UTC), tick=False):
        share = _share(expires_on=date(2026, 3, 10))
        assert policy.is_active(share, PATIENT) is True
        assert policy.is_active(share, SAME_PATIENT_IN_UTC) is True
