"""clickable resources: sms as a number and an optional body, and a display text

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 14:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    from server.resources.catalogue import contact_text, shown_number
    from server.resources.service import sync_catalogue

    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sms_number", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("sms_body", sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column("display", sa.String(length=200), nullable=True))
    bind = op.get_bind()
    resources = sa.table(
        "resources",
        sa.column("id", sa.Uuid(as_uuid=False)),
        sa.column("owner_id", sa.Uuid(as_uuid=False)),
        sa.column("region", sa.String),
        sa.column("phone", sa.String),
        sa.column("sms", sa.String),
        sa.column("sms_number", sa.String),
        sa.column("display", sa.String),
    )
    # Counselors' numbers were stored in E.164 already; the catalogue's rows are re-written
    # by the sync below.
    owned = bind.execute(
        sa.select(resources.c.id, resources.c.region, resources.c.phone, resources.c.sms).where(
            resources.c.owner_id.is_not(None)
        )
    ).all()
    for row in owned:
        phone = shown_number(row.phone, row.region) if row.phone else None
        sms = shown_number(row.sms, row.region) if row.sms else None
        bind.execute(
            sa.update(resources)
            .where(resources.c.id == row.id)
            .values(sms_number=row.sms, display=contact_text(phone, sms, None))
        )
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.drop_column("sms")
    sync_catalogue(bind)


def downgrade():
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sms", sa.String(length=120), nullable=True))
    op.execute("UPDATE resources SET sms = sms_number")
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.drop_column("display")
        batch_op.drop_column("sms_body")
        batch_op.drop_column("sms_number")
