"""Migration 0009: days stored before the changes feed get change numbers and a feed."""

import os
import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy import text
from sqlalchemy.engine import make_url

from server.extensions import db
from tests.conftest import POSTGRES_URL

MIGRATIONS = os.path.join(os.path.dirname(__file__), "..", "..", "migrations")
PATIENT_A, PATIENT_B, PATIENT_C = (uuid.uuid4() for _ in range(3))


@pytest.fixture(params=["sqlite", "postgresql"])
def scratch_url(request, tmp_path):
    """A database of its own for the migration to run on (PostgreSQL when the suite uses it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'before-0009.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("the suite runs on SQLite (DATABASE_URL unset)")
    server = make_url(POSTGRES_URL)
    name = f"{server.database}_m{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _stored(value: uuid.UUID, dialect: str) -> str:
    return value.hex if dialect == "sqlite" else str(value)


def test_existing_days_are_numbered_in_the_order_they_were_written(app_factory, scratch_url):
    app = app_factory(SQLALCHEMY_DATABASE_URI=scratch_url)
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="0008")
        dialect = db.engine.dialect.name
        a, b, c = (_stored(p, dialect) for p in (PATIENT_A, PATIENT_B, PATIENT_C))
        with db.engine.begin() as connection:
            for patient in (a, b, c):
                connection.execute(
                    text(
                        "INSERT INTO users (id, email, password_hash, role, display_name, "
                        "timezone, region, created_at, updated_at) VALUES (:id, :email, 'x', "
                        "'PATIENT', 'Sam', 'UTC', 'US', '2026-01-01', '2026-01-01')"
                    ),
                    {"id": patient, "email": f"{patient}@example.org"},
                )
            # A's days: written out of date order, two at the same moment.
            for patient, day, written in (
                (a, "2026-03-03", "2026-03-03 09:00:00"),
                (a, "2026-03-01", "2026-03-04 09:00:00"),  # corrected later
                (a, "2026-03-02", "2026-03-02 09:00:00"),
                (a, "2026-03-05", "2026-03-05 09:00:00"),
                (a, "2026-03-04", "2026-03-05 09:00:00"),
                (b, "2026-03-01", "2026-03-01 08:00:00"),
            ):
                connection.execute(
                    text(
                        "INSERT INTO checkins (id, patient_id, date, nausea, aches, anxiety, "
                        "insomnia, version, created_at, updated_at) VALUES (:id, :patient, "
                        ":day, 1, 1, 1, 1, 'v', :written, :written)"
                    ),
                    {
                        "id": _stored(uuid.uuid4(), dialect),
                        "patient": patient,
                        "day": day,
                        "written": written,
                    },
                )
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as connection:
            numbered = connection.execute(
                text(
                    "SELECT patient_id, date, change_seq FROM checkins "
                    "ORDER BY patient_id, change_seq"
                )
            ).all()
            feeds = connection.execute(
                text("SELECT patient_id, last_seq, pruned_through FROM checkin_feeds")
            ).all()
        by_patient = {}
        for patient, day, seq in numbered:
            by_patient.setdefault(str(patient).replace("-", ""), []).append((str(day), seq))
        assert by_patient[PATIENT_A.hex] == [
            ("2026-03-02", 1),
            ("2026-03-03", 2),
            ("2026-03-01", 3),
            ("2026-03-04", 4),
            ("2026-03-05", 5),
        ]
        assert by_patient[PATIENT_B.hex] == [("2026-03-01", 1)]
        # A feed for each patient with days (C has none: theirs starts with their first).
        assert {(str(p).replace("-", ""), last, pruned) for p, last, pruned in feeds} == {
            (PATIENT_A.hex, 5, 0),
            (PATIENT_B.hex, 1, 0),
        }
        downgrade(directory=MIGRATIONS, revision="0008")
        inspector = sa.inspect(db.engine)
        assert "change_seq" not in {column["name"] for column in inspector.get_columns("checkins")}
        assert not {"checkin_feeds", "checkin_tombstones"} & set(inspector.get_table_names())
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT COUNT(*) FROM checkins")).scalar() == 6
        db.engine.dispose()


def test_the_checkins_table_keeps_its_check_constraints(app):
    """The SQLite rebuild that makes change_seq NOT NULL keeps the score ranges."""
    with app.app_context():
        names = {
            check["name"] for check in sa.inspect(db.engine).get_check_constraints("checkins")
        }
    assert {"ck_checkins_nausea_range", "ck_checkins_sleep_hours_range"} <= names
