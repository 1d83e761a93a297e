"""The audit log (B04): one row per event, written by the gateway's audit consumer.

Revision ID: 0003_audit_log
Revises: 0002 (the login throttle)
"""

import sqlalchemy as sa
from alembic import op

from services.common.db import UTCDateTime

revision = "0003_audit_log"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=True),
        sa.Column("user_id", sa.String(32), nullable=True),
        sa.Column("action", sa.String(120), nullable=False),
        sa.Column("subject", sa.String(250), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "event_id", name="pk_audit_entries"),
    )
    op.create_index(
        "ix_audit_entries_org_est_at",
        "audit_entries",
        ["organization_id", "establishment_id", "at"],
    )
    op.create_index("ix_audit_entries_org_at", "audit_entries", ["organization_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_entries_org_at", "audit_entries")
    op.drop_index("ix_audit_entries_org_est_at", "audit_entries")
    op.drop_table("audit_entries")
