"""instruments: patients' SOWS responses and clinicians' COWS observations

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 18:45:50

Both tables hold a patient's data and go with the account; an observation stays when its
observer's account goes (observer_id becomes null).

"""

import sqlalchemy as sa
from alembic import op

import server.db

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "instrument_observations",
        sa.Column("id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("patient_id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("observer_id", sa.Uuid(as_uuid=False), nullable=True),
        sa.Column("instrument_id", sa.String(length=40), nullable=False),
        sa.Column("instrument_version", sa.String(length=16), nullable=False),
        sa.Column("observed_at", server.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("band", sa.String(length=24), nullable=True),
        sa.Column("created_at", server.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", server.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["observer_id"],
            ["users.id"],
            name=op.f("fk_instrument_observations_observer_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["users.id"],
            name=op.f("fk_instrument_observations_patient_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instrument_observations")),
    )
    with op.batch_alter_table("instrument_observations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_instrument_observations_observer_id"), ["observer_id"], unique=False
        )
        batch_op.create_index(
            "ix_instrument_observations_patient_date", ["patient_id", "date"], unique=False
        )

    op.create_table(
        "instrument_responses",
        sa.Column("id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("patient_id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("instrument_id", sa.String(length=40), nullable=False),
        sa.Column("instrument_version", sa.String(length=16), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("band", sa.String(length=24), nullable=True),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("created_at", server.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", server.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["users.id"],
            name=op.f("fk_instrument_responses_patient_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instrument_responses")),
        sa.UniqueConstraint(
            "patient_id", "instrument_id", "date", name="uq_instrument_responses_patient_day"
        ),
    )


def downgrade():
    op.drop_table("instrument_responses")
    with op.batch_alter_table("instrument_observations", schema=None) as batch_op:
        batch_op.drop_index("ix_instrument_observations_patient_date")
        batch_op.drop_index(batch_op.f("ix_instrument_observations_observer_id"))

    op.drop_table("instrument_observations")
