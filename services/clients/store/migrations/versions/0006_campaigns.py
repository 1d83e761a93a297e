"""Marketing (R30): each client's consent (marketing e-mail / SMS opt-outs, false by
default), the campaigns per establishment and the messages they recorded.

Revision ID: 0006_campaigns
Revises: 0005_forms
"""

import sqlalchemy as sa
from alembic import op

from services.common.db import UTCDateTime

revision = "0006_campaigns"
down_revision = "0005_forms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for column in ("marketing_email_opt_out", "marketing_sms_opt_out"):
        op.add_column(
            "clients", sa.Column(column, sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("subject", sa.String(300), nullable=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("audience", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.CheckConstraint("channel IN ('EMAIL', 'SMS')", name=op.f("ck_campaigns_channel")),
        sa.CheckConstraint(
            "audience IN ('ORGANIZATION', 'ESTABLISHMENT')", name=op.f("ck_campaigns_audience")
        ),
        sa.CheckConstraint(
            "status IN ('DRAFT', 'SENDING', 'SENT')", name=op.f("ck_campaigns_status")
        ),
    )
    op.create_index(
        "ix_campaigns_org_est_created",
        "campaigns",
        ["organization_id", "establishment_id", "created_at"],
    )
    op.create_table(
        "campaign_messages",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("campaign_id", sa.String(32), nullable=False),
        sa.Column("client_id", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("address", sa.String(320), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_messages")),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_messages_campaign_id_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_campaign_messages_client_id_clients")
        ),
        sa.UniqueConstraint(
            "organization_id",
            "campaign_id",
            "client_id",
            name=op.f("uq_campaign_messages_organization_id_campaign_id_client_id"),
        ),
        sa.CheckConstraint(
            "channel IN ('EMAIL', 'SMS')", name=op.f("ck_campaign_messages_channel")
        ),
        sa.CheckConstraint(
            "status IN ('PENDING', 'SENT', 'FAILED', 'SKIPPED')",
            name=op.f("ck_campaign_messages_status"),
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_campaign_messages_attempts")),
    )
    op.create_index(
        "ix_campaign_messages_status_next_attempt",
        "campaign_messages",
        ["status", "next_attempt_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_campaign_messages_status_next_attempt", "campaign_messages")
    op.drop_table("campaign_messages")
    op.drop_index("ix_campaigns_org_est_created", "campaigns")
    op.drop_table("campaigns")
    op.drop_column("clients", "marketing_sms_opt_out")
    op.drop_column("clients", "marketing_email_opt_out")
