"""Traces: the outbox keeps the W3C traceparent of the span that wrote each event.

Revision ID: 0007_outbox_trace
Revises: 0006_campaigns
"""

from services.common.migrations import add_outbox_traceparent, drop_outbox_traceparent

revision = "0007_outbox_trace"
down_revision = "0006_campaigns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_traceparent()


def downgrade() -> None:
    drop_outbox_traceparent()
