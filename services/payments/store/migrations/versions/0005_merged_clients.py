"""B07: the client ids merged into another record (clients.client.merged).

Revision ID: 0005_merged_clients
Revises: 0004
"""

from services.common.client_aliases import create_merged_clients_table

revision = "0005_merged_clients"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_merged_clients_table()


def downgrade() -> None:
    from alembic import op

    op.drop_index("ix_merged_clients_org_kept", "merged_clients")
    op.drop_table("merged_clients")
