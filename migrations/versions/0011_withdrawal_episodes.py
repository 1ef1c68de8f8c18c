"""withdrawal episodes, and what a person took on a day (check-ins' taken list)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 19:00:00

At most one open episode per patient is held by a partial unique index. Days stored
before this revision took nothing recorded (taken is null).

"""

import sqlalchemy as sa
from alembic import op

import server.db

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

OPEN = sa.text("ended_on IS NULL")


def upgrade():
    op.create_table(
        "episodes",
        sa.Column("id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("patient_id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("last_use_at", server.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("substances", sa.JSON(), nullable=False),
        sa.Column("moud", sa.String(length=20), nullable=False),
        sa.Column("moud_started_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("created_at", server.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", server.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["users.id"],
            name=op.f("fk_episodes_patient_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_episodes")),
    )
    op.create_index(op.f("ix_episodes_patient_id"), "episodes", ["patient_id"], unique=False)
    op.create_index(
        "uq_episodes_one_open",
        "episodes",
        ["patient_id"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("taken", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_column("taken")
    op.drop_index("uq_episodes_one_open", table_name="episodes")
    op.drop_index(op.f("ix_episodes_patient_id"), table_name="episodes")
    op.drop_table("episodes")
