"""alerts belong to the share that raised them

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 14:00:00

Existing alerts are given the share they were raised under: the newest share between the
same patient and counselor created no later than the alert. An alert without one (which
no share could have raised) is deleted. The reasons' wording is left as stored.

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

RAISED_UNDER = """
UPDATE alerts SET share_id = (
    SELECT shares.id FROM shares
    WHERE shares.patient_id = alerts.patient_id
      AND shares.counselor_id = alerts.counselor_id
      AND shares.created_at <= alerts.created_at
    ORDER BY shares.created_at DESC
    LIMIT 1
)
"""


def upgrade():
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("share_id", sa.Uuid(as_uuid=False), nullable=True))
    op.execute(RAISED_UNDER)
    op.execute("DELETE FROM alerts WHERE share_id IS NULL")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.alter_column("share_id", existing_type=sa.Uuid(as_uuid=False), nullable=False)
        batch_op.drop_constraint("uq_alerts_day", type_="unique")
        batch_op.create_unique_constraint("uq_alerts_share_day", ["share_id", "checkin_date"])
        batch_op.create_foreign_key(
            batch_op.f("fk_alerts_share_id_shares"),
            "shares",
            ["share_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade():
    # Back to one alert per patient, counselor and day: keep the newest of each.
    op.execute(
        """
        DELETE FROM alerts WHERE EXISTS (
            SELECT 1 FROM alerts AS newer
            WHERE newer.patient_id = alerts.patient_id
              AND newer.counselor_id = alerts.counselor_id
              AND newer.checkin_date = alerts.checkin_date
              AND newer.created_at > alerts.created_at
        )
        """
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_alerts_share_id_shares"), type_="foreignkey")
        batch_op.drop_constraint("uq_alerts_share_day", type_="unique")
        batch_op.create_unique_constraint(
            "uq_alerts_day", ["patient_id", "counselor_id", "checkin_date"]
        )
        batch_op.drop_column("share_id")
