"""Loyalty cards per establishment (R23) and the receipts that credited them.

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
    op.create_table(
        "loyalty_cards",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("client_id", sa.String(32), nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_cards")),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_loyalty_cards_client_id_clients")
        ),
        sa.UniqueConstraint(
            "organization_id",
            "establishment_id",
            "client_id",
            name=op.f("uq_loyalty_cards_organization_id_establishment_id_client_id"),
        ),
        sa.CheckConstraint("points >= 0", name=op.f("ck_loyalty_cards_points_not_negative")),
    )
    op.create_table(
        "loyalty_credits",
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("receipt_id", sa.String(64), nullable=False),
        sa.Column("card_id", sa.String(32), nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "receipt_id", name=op.f("pk_loyalty_credits")),
        sa.ForeignKeyConstraint(
            ["card_id"], ["loyalty_cards.id"], name=op.f("fk_loyalty_credits_card_id_loyalty_cards")
        ),
    )


def downgrade() -> None:
    op.drop_table("loyalty_credits")
    op.drop_table("loyalty_cards")
