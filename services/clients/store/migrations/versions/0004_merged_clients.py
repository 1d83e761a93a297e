"""B07: duplicate candidates (the normalised e-mail, indexes on e-mail key and phone) and
merged clients (the record a client was merged into, and when).

Revision ID: 0004_merged_clients
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from services.common.db import UTCDateTime

revision = "0004_merged_clients"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("email_key", sa.String(254), nullable=True))
        batch.add_column(sa.Column("merged_into_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("merged_at", UTCDateTime(), nullable=True))
    # The key as services.common.validation.email_key computes it (trimmed, lower-case).
    op.execute("UPDATE clients SET email_key = lower(trim(email)) WHERE email IS NOT NULL")
    op.create_index("ix_clients_org_email_key", "clients", ["organization_id", "email_key"])
    op.create_index("ix_clients_org_phone", "clients", ["organization_id", "phone"])
    op.create_index("ix_clients_org_merged_into", "clients", ["organization_id", "merged_into_id"])


def downgrade() -> None:
    op.drop_index("ix_clients_org_merged_into", "clients")
    op.drop_index("ix_clients_org_phone", "clients")
    op.drop_index("ix_clients_org_email_key", "clients")
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("merged_at")
        batch.drop_column("merged_into_id")
        batch.drop_column("email_key")
