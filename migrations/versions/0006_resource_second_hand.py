"""resources.second_hand: entries whose source is not the service's own or a public body's

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 14:05:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("resources") as batch:
        batch.add_column(
            sa.Column("second_hand", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    from server.resources.service import sync_catalogue

    sync_catalogue(op.get_bind())


def downgrade():
    with op.batch_alter_table("resources") as batch:
        batch.drop_column("second_hand")
