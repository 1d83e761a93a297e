"""The till's stock reservations, and the reservation id on the SALE movements they made.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from services.common.db import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("stock_movements", sa.Column("reservation_id", sa.String(64), nullable=True))
    op.create_index(
        "ix_stock_movements_org_est_reservation",
        "stock_movements",
        ["organization_id", "establishment_id", "reservation_id"],
    )
    op.create_table(
        "stock_reservations",
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("response", sa.LargeBinary, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id", "establishment_id", "id", name=op.f("pk_stock_reservations")
        ),
        sa.CheckConstraint(
            "status IN ('HELD', 'RELEASED', 'COMMITTED')",
            name=op.f("ck_stock_reservations_status_known"),
        ),
    )


def downgrade() -> None:
    op.drop_table("stock_reservations")
    op.drop_index("ix_stock_movements_org_est_reservation", "stock_movements")
    with op.batch_alter_table("stock_movements") as batch:
        batch.drop_column("reservation_id")
