"""Stock levels, movements and idempotency keys per establishment; the establishments
known from tenancy events; the event tables.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from services.common.db import UTCDateTime
from services.common.migrations import create_event_tables
from services.common.tenancy_replica import create_replica_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stock_levels",
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("product_id", sa.String(32), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "establishment_id", "product_id"),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_stock_levels_quantity_not_negative")),
    )
    op.create_table(
        "stock_movements",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("product_id", sa.String(32), nullable=False),
        sa.Column("delta", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("transfer_id", sa.String(32), nullable=True),
    )
    op.create_index(
        "ix_stock_movements_org_est_product_at",
        "stock_movements",
        ["organization_id", "establishment_id", "product_id", "at"],
    )
    op.create_table(
        "stock_idempotency",
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("response", sa.LargeBinary, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "establishment_id", "key"),
    )
    create_replica_tables()
    create_event_tables()


def downgrade() -> None:
    op.drop_table("processed_events")
    op.drop_table("outbox")
    op.drop_table("known_establishments")
    op.drop_table("stock_idempotency")
    op.drop_index("ix_stock_movements_org_est_product_at", "stock_movements")
    op.drop_table("stock_movements")
    op.drop_table("stock_levels")
