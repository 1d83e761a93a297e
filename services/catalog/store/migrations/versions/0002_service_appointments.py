"""The booking service's appointments per service, for the impact of a delete (B05).

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
        "service_appointments",
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("appointment_id", sa.String(32), nullable=False),
        sa.Column("service_id", sa.String(32), nullable=False),
        sa.Column("start_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id", "appointment_id", name="pk_service_appointments"
        ),
    )
    op.create_index(
        "ix_service_appointments_org_service_status_start",
        "service_appointments",
        ["organization_id", "service_id", "status", "start_at"],
    )


def downgrade() -> None:
    op.drop_table("service_appointments")
