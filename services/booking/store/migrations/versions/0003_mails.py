"""Mails for future appointments (R15): the organization's mail settings and the queue of
confirmations and reminders, one of each kind per appointment at most.

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
        "mail_settings",
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("reminder_hours", sa.Integer, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_mail_settings")),
        sa.CheckConstraint(
            "reminder_hours BETWEEN 1 AND 168",
            name=op.f("ck_mail_settings_reminder_hours_range"),
        ),
    )
    op.create_table(
        "mail_queue",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("appointment_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("client_id", sa.String(32), nullable=False),
        sa.Column("service_id", sa.String(32), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=True),
        sa.Column("subject", sa.String(300), nullable=True),
        sa.Column("body", sa.Text, nullable=True),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_queue")),
        sa.UniqueConstraint(
            "organization_id",
            "appointment_id",
            "kind",
            name=op.f("uq_mail_queue_organization_id_appointment_id_kind"),
        ),
        sa.CheckConstraint("kind IN ('confirmation', 'reminder')", name=op.f("ck_mail_queue_kind")),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'cancelled')", name=op.f("ck_mail_queue_status")
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_mail_queue_attempts")),
    )
    op.create_index(
        "ix_mail_queue_status_next_attempt", "mail_queue", ["status", "next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_mail_queue_status_next_attempt", "mail_queue")
    op.drop_table("mail_queue")
    op.drop_table("mail_settings")
