"""Deposits per appointment (R17); the event tables.

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
        "deposits",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("appointment_id", sa.String(32), nullable=False),
        sa.Column("client_id", sa.String(32), nullable=False),
        sa.Column("amount", sa.Numeric(10, 2), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint(
            "organization_id", "appointment_id", name="uq_deposits_organization_id_appointment_id"
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_deposits_amount_positive")),
    )
    op.create_index(
        "ix_deposits_org_est_client",
        "deposits",
        ["organization_id", "establishment_id", "client_id"],
    )
    create_event_tables()


def downgrade() -> None:
    op.drop_table("processed_events")
    op.drop_table("outbox")
    op.drop_index("ix_deposits_org_est_client", "deposits")
    op.drop_table("deposits")
