"""Online booking: manage tokens, stored as their SHA-256, one per client per
establishment (R16, R26).

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
        "manage_tokens",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("client_id", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_manage_tokens")),
        sa.UniqueConstraint(
            "organization_id",
            "establishment_id",
            "client_id",
            name=op.f("uq_manage_tokens_organization_id_establishment_id_client_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("manage_tokens")
