"""The schema comes only from migrations, and they match the models."""

import os
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from server.extensions import db

MIGRATIONS = os.path.join(os.path.dirname(__file__), "..", "..", "migrations")
_NOW = datetime(2026, 11, 30, tzinfo=UTC)
# The two tables as revision 0005 had them, for rows written before the sms migration.
_USERS_0005 = sa.table(
    "users",
    sa.column("id", sa.Uuid(as_uuid=False)),
    *(sa.column(name) for name in ("email", "password_hash", "role", "display_name")),
    *(sa.column(name) for name in ("timezone", "region", "created_at", "updated_at")),
)
_RESOURCES_0005 = sa.table(
    "resources",
    sa.column("id", sa.Uuid(as_uuid=False)),
    sa.column("owner_id", sa.Uuid(as_uuid=False)),
    *(sa.column(name) for name in ("name", "kind", "region", "phone", "sms", "description")),
    *(sa.column(name, sa.DateTime) for name in ("created_at", "updated_at")),
)


def test_models_and_migrations_do_not_drift(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_upgrade_from_empty_and_downgrade(app_factory, tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    app = app_factory(SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        tables = set(inspect(db.engine).get_table_names())
        assert {table.name for table in db.metadata.sorted_tables} <= tables
        downgrade(directory=MIGRATIONS, revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}


def test_a_counselors_text_number_survives_the_sms_object_migration(app_factory, tmp_path):
    url = f"sqlite:///{tmp_path / 'before.db'}"
    app = app_factory(SQLALCHEMY_DATABASE_URI=url)
    counselor, resource = str(uuid.uuid4()), str(uuid.uuid4())
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="0005")
        with db.engine.begin() as connection:
            connection.execute(
                sa.insert(_USERS_0005).values(
                    id=counselor,
                    email="c@example.org",
                    password_hash="x",
                    role="counselor",
                    display_name="Dr C",
                    timezone="UTC",
                    region="GB",
                    created_at=_NOW,
                    updated_at=_NOW,
                )
            )
            connection.execute(
                sa.insert(_RESOURCES_0005).values(
                    id=resource,
                    owner_id=counselor,
                    name="Clinic",
                    kind="clinic",
                    region="GB",
                    phone="+442079460000",
                    sms="+447400123456",
                    description="Book here.",
                    created_at=_NOW,
                    updated_at=_NOW,
                )
            )
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as connection:
            row = connection.execute(
                sa.text(
                    "SELECT sms_number, sms_body, display FROM resources WHERE name = 'Clinic'"
                )
            ).one()
    assert tuple(row) == ("+447400123456", None, "Call 020 7946 0000 or text 07400 123456")
