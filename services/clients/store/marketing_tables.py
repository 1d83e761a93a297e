"""The tables of marketing campaigns (R30), on the clients service's metadata.

``campaigns``: one row per campaign, in the establishment it was created in (R30: the
campaigns are per establishment; every read filters on organization and establishment).
``status`` goes DRAFT -> SENDING (SendCampaign, once: a conditional UPDATE) -> SENT (the
last pending message done).

``campaign_messages``: what a campaign sent, or did not, to each recipient: one row per
(organization, campaign, client), so a campaign never reaches a client twice, whatever the
concurrent SendCampaign calls. ``claimed_until`` keeps two replicas of the service from
sending one message at once (see ``services/clients/marketing/sender.py``).

The sender's index (status, next_attempt_at) does not start with organization_id: like the
outbox's and booking's mail queue's, that work queue is the service's (the shard's), across
its organizations.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from services.clients.store.tables import metadata
from services.common.db import UTCDateTime

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("subject", String(300), nullable=True),
    Column("body", Text, nullable=False),
    Column("audience", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # When SendCampaign turned it into messages.
    Column("sent_at", UTCDateTime(), nullable=True),
    # When its last pending message was done.
    Column("finished_at", UTCDateTime(), nullable=True),
    CheckConstraint("channel IN ('EMAIL', 'SMS')", name="channel"),
    CheckConstraint("audience IN ('ORGANIZATION', 'ESTABLISHMENT')", name="audience"),
    CheckConstraint("status IN ('DRAFT', 'SENDING', 'SENT')", name="status"),
    Index("ix_campaigns_org_est_created", "organization_id", "establishment_id", "created_at"),
)

campaign_messages = Table(
    "campaign_messages",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("campaign_id", String(32), ForeignKey("campaigns.id"), nullable=False),
    Column("client_id", String(32), ForeignKey("clients.id"), nullable=False),
    Column("channel", String(8), nullable=False),
    # The address it goes to (e-mail or E.164 phone); NULL when skipped for want of one.
    Column("address", String(320), nullable=True),
    Column("status", String(16), nullable=False),
    Column("reason", String(500), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("claimed_until", UTCDateTime(), nullable=True),
    Column("sent_at", UTCDateTime(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("organization_id", "campaign_id", "client_id"),
    CheckConstraint("channel IN ('EMAIL', 'SMS')", name="channel"),
    CheckConstraint("status IN ('PENDING', 'SENT', 'FAILED', 'SKIPPED')", name="status"),
    CheckConstraint("attempts >= 0", name="attempts"),
    Index("ix_campaign_messages_status_next_attempt", "status", "next_attempt_at"),
)
