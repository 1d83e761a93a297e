"""B11: when a client's personal data was erased.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from services.common.db import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("clients", sa.Column("erased_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("clients", "erased_at")
