"""Migration 0006: existing alerts join the share that raised them, worded for counselors."""

import importlib.util
import json
import os
import uuid

from flask_migrate import downgrade, upgrade
from hypothesis import given, settings
from sqlalchemy import text

from server.assessments.judgement import assess
from server.extensions import db
from tests.assessments.test_counselor_wording import days

MIGRATIONS = os.path.join(os.path.dirname(__file__), "..", "..", "migrations")
_spec = importlib.util.spec_from_file_location(
    "alerts_belong_to_shares",
    os.path.join(MIGRATIONS, "versions", "0008_alerts_belong_to_shares.py"),
)
migration = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(migration)


@settings(max_examples=300, deadline=None)
@given(days())
def test_every_old_patient_wording_is_reworded_for_the_counselor(judged_days):
    current, history = judged_days
    for reason in assess(current, history).reasons:
        stored = {"code": reason.code, "message": reason.message}
        assert migration.for_counselor(stored) == {
            "code": reason.code,
            "message": reason.counselor_message,
        }


def test_an_unrecognised_text_is_kept():
    stored = {"code": "severe_symptoms", "message": "Something a later release wrote."}
    assert migration.for_counselor(stored) == stored


def _id() -> str:
    return uuid.uuid4().hex


def test_existing_alerts_join_the_share_they_were_raised_under(app_factory, tmp_path):
    app = app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'old.db'}")
    patient, counselor, first, second = _id(), _id(), _id(), _id()
    raised_first, raised_second, orphan = _id(), _id(), _id()
    old = '[{"code": "crisis", "message": "You said you feel unsafe or in crisis. Call."}]'
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="0005")
        with db.engine.begin() as connection:
            for user, role in ((patient, "patient"), (counselor, "counselor")):
                connection.execute(
                    text(
                        "INSERT INTO users (id, email, password_hash, role, display_name, "
                        "timezone, region, created_at, updated_at) VALUES (:id, :email, 'x', "
                        ":role, 'Sam', 'UTC', 'US', '2026-01-01', '2026-01-01')"
                    ),
                    {"id": user, "email": f"{user}@example.org", "role": role.upper()},
                )
            for share, created in (
                (first, "2026-02-01 10:00:00"),
                (second, "2026-03-01 10:00:00"),
            ):
                connection.execute(
                    text(
                        "INSERT INTO shares (id, patient_id, counselor_id, counselor_name, "
                        "purpose, scope, include_notes, created_at, expires_on) VALUES (:id, "
                        ":patient, :counselor, 'Dr Lee', 'review', '[\"status\"]', false, "
                        ":created, '2026-12-31')"
                    ),
                    {"id": share, "patient": patient, "counselor": counselor, "created": created},
                )
            for alert, day, created in (
                (orphan, "2026-01-15", "2026-01-15 10:00:00"),
                (raised_first, "2026-02-10", "2026-02-10 10:00:00"),
                (raised_second, "2026-03-10", "2026-03-10 10:00:00"),
            ):
                connection.execute(
                    text(
                        "INSERT INTO alerts (id, patient_id, counselor_id, checkin_date, level, "
                        "reasons, created_at, updated_at) VALUES (:id, :patient, :counselor, "
                        ":day, 'crisis', :reasons, :created, :created)"
                    ),
                    {
                        "id": alert,
                        "patient": patient,
                        "counselor": counselor,
                        "day": day,
                        "reasons": old,
                        "created": created,
                    },
                )
        upgrade(directory=MIGRATIONS, revision="0008")
        with db.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, share_id, reasons FROM alerts ORDER BY checkin_date")
            ).all()
        # Compared as UUIDs and parsed JSON: drivers hand them back in different shapes.
        assert [(uuid.UUID(str(row.id)), uuid.UUID(str(row.share_id))) for row in rows] == [
            (uuid.UUID(raised_first), uuid.UUID(first)),
            (uuid.UUID(raised_second), uuid.UUID(second)),
        ]
        for row in rows:
            [reason] = json.loads(row.reasons) if isinstance(row.reasons, str) else row.reasons
            assert reason["message"].startswith("The patient reported feeling unsafe")
        downgrade(directory=MIGRATIONS, revision="0007")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM alerts")).scalar() == 2
