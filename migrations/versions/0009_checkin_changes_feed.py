"""checkin changes feed: a change number on every day, tombstones, and each patient's feed

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 10:00:00

Days stored before this revision are numbered per patient in the order they were last
written (updated_at, then date), and each patient with days gets a feed row whose last
number is their count of days. Nothing was pruned yet, so every cursor stays valid.

"""

import sqlalchemy as sa
from alembic import op

import server.db

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

NUMBER_EXISTING_DAYS = """
UPDATE checkins SET change_seq = (
    SELECT COUNT(*) FROM checkins AS earlier
    WHERE earlier.patient_id = checkins.patient_id
      AND (earlier.updated_at < checkins.updated_at
           OR (earlier.updated_at = checkins.updated_at AND earlier.date <= checkins.date))
)
"""
FEED_OF_EACH_PATIENT = """
INSERT INTO checkin_feeds (patient_id, last_seq, pruned_through)
SELECT patient_id, MAX(change_seq), 0 FROM checkins GROUP BY patient_id
"""


def upgrade():
    op.create_table(
        "checkin_feeds",
        sa.Column("patient_id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("pruned_through", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["users.id"],
            name=op.f("fk_checkin_feeds_patient_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_checkin_feeds")),
    )
    op.create_table(
        "checkin_tombstones",
        sa.Column("patient_id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("deleted_at", server.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["users.id"],
            name=op.f("fk_checkin_tombstones_patient_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("patient_id", "date", name=op.f("pk_checkin_tombstones")),
    )
    op.create_index(
        "ix_checkin_tombstones_patient_seq",
        "checkin_tombstones",
        ["patient_id", "seq"],
        unique=False,
    )
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("change_seq", sa.Integer(), nullable=True))
    op.execute(NUMBER_EXISTING_DAYS)
    op.execute(FEED_OF_EACH_PATIENT)
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.alter_column("change_seq", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(
            "uq_checkins_patient_change_seq", ["patient_id", "change_seq"]
        )


def downgrade():
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_constraint("uq_checkins_patient_change_seq", type_="unique")
        batch_op.drop_column("change_seq")
    op.drop_index("ix_checkin_tombstones_patient_seq", table_name="checkin_tombstones")
    op.drop_table("checkin_tombstones")
    op.drop_table("checkin_feeds")
