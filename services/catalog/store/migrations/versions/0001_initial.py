"""The event tables (outbox, processed events) of the catalog service.

Revision ID: 0001
Revises:
"""

from alembic import op

from services.common.migrations import create_event_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_event_tables()


def downgrade() -> None:
    op.drop_table("processed_events")
    op.drop_table("outbox")
