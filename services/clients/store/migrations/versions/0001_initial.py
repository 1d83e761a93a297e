"""The client file and its per-establishment history.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from services.common.db import UTCDateTime
from services.common.migrations import create_event_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clients",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("sort_key", sa.String(210), nullable=False),
        sa.Column("search_text", sa.String(700), nullable=False),
        sa.Column("created_in_establishment_id", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_clients_org_sort", "clients", ["organization_id", "sort_key", "id"])
    op.create_table(
        "client_establishments",
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("client_id", sa.String(32), sa.ForeignKey("clients.id"), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("first_at", UTCDateTime(), nullable=False),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "establishment_id"),
    )
    op.create_index(
        "ix_client_establishments_org_est",
        "client_establishments",
        ["organization_id", "establishment_id", "client_id"],
    )
    create_event_tables()


def downgrade() -> None:
    op.drop_table("processed_events")
    op.drop_table("outbox")
    op.drop_table("client_establishments")
    op.drop_table("clients")
