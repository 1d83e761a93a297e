"""Payment terminals (R31), provider connections and provider payments (R32), and the
appointments the reports count (R27).

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
    op.create_table(
        "payment_terminals",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("serial", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_terminals")),
        sa.UniqueConstraint(
            "organization_id",
            "establishment_id",
            "serial",
            name=op.f("uq_payment_terminals_organization_id_establishment_id_serial"),
        ),
    )
    op.create_table(
        "provider_connections",
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("api_key_encrypted", sa.Text(), nullable=False),
        sa.Column("connected_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id", "establishment_id", name=op.f("pk_provider_connections")
        ),
    )
    op.create_table(
        "provider_payments",
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("payment_id", sa.String(64), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("deposit_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("checkout_url", sa.String(500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "payment_id", name=op.f("pk_provider_payments")),
    )
    op.create_index(
        "ix_provider_payments_org_deposit",
        "provider_payments",
        ["organization_id", "deposit_id"],
    )
    op.create_table(
        "report_appointments",
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("appointment_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("start", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id", "appointment_id", name=op.f("pk_report_appointments")
        ),
    )
    op.create_index(
        "ix_report_appointments_org_est_start",
        "report_appointments",
        ["organization_id", "establishment_id", "start"],
    )


def downgrade() -> None:
    op.drop_index("ix_report_appointments_org_est_start", "report_appointments")
    op.drop_table("report_appointments")
    op.drop_index("ix_provider_payments_org_deposit", "provider_payments")
    op.drop_table("provider_payments")
    op.drop_table("provider_connections")
    op.drop_table("payment_terminals")
