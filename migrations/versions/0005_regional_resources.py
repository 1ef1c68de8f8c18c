"""regional resources: an emergency entry and the crisis-line directory for every region

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 13:30:00

"""

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    from alembic import op

    from server.resources.service import sync_catalogue

    sync_catalogue(op.get_bind())
    # Nobody verified a counselor's own entry: it now says when it was added instead.
    op.execute("UPDATE resources SET verified_on = NULL WHERE owner_id IS NOT NULL")


def downgrade():
    pass  # the rows are data; an older release's sync-resources removes what it doesn't ship
