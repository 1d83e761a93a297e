"""The clients service's tables. Every table carries organization_id and every index
starts with it (one organization never spans shards)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    false,
)

from services.common.db import UTCDateTime, new_metadata
from services.common.outbox import outbox_tables

metadata = new_metadata()

clients = Table(
    "clients",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organization_id", String(32), nullable=False),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("email", String(254), nullable=True),
    Column("phone", String(32), nullable=True),
    Column("sort_key", String(210), nullable=False),
    Column("search_text", String(700), nullable=False),
    Column("created_in_establishment_id", String(32), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("version", Integer, nullable=False, default=1),
    # B11: when the client's personal data was erased (names anonymised, contacts NULL).
    Column("erased_at", UTCDateTime(), nullable=True),
    # R30: the client declined marketing e-mail / SMS (false: not objected, soft opt-in).
    Column("marketing_email_opt_out", Boolean, nullable=False, server_default=false()),
    Column("marketing_sms_opt_out", Boolean, nullable=False, server_default=false()),
    # B07: the e-mail as duplicates are compared (trimmed, lower-case); the phone is stored
    # in E.164 already. Both indexed after the organization for the duplicate candidates.
    Column("email_key", String(254), nullable=True),
    # B07: the record this one was merged into (it answers for it from then on), and when.
    Column("merged_into_id", String(32), nullable=True),
    Column("merged_at", UTCDateTime(), nullable=True),
    Index("ix_clients_org_sort", "organization_id", "sort_key", "id"),
    Index("ix_clients_org_email_key", "organization_id", "email_key"),
    Index("ix_clients_org_phone", "organization_id", "phone"),
    Index("ix_clients_org_merged_into", "organization_id", "merged_into_id"),
)

# Where a client has history (R10): created or changed there now, appointments and
# receipts later (through their events).
client_establishments = Table(
    "client_establishments",
    metadata,
    Column("organization_id", String(32), nullable=False),
    Column("client_id", String(32), ForeignKey("clients.id"), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("first_at", UTCDateTime(), nullable=False),
    Column("last_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("client_id", "establishment_id"),
    Index("ix_client_establishments_org_est", "organization_id", "establishment_id", "client_id"),
)

# Loyalty cards (R23): one per client per establishment, belonging to the establishment
# where it was created; points are earned there only. The unique key (organization first)
# is also the index of the batch read for a client record.
loyalty_cards = Table(
    "loyalty_cards",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("client_id", String(32), ForeignKey("clients.id"), nullable=False),
    Column("points", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("organization_id", "establishment_id", "client_id"),
    CheckConstraint("points >= 0", name="points_not_negative"),
)

# The receipts that credited a card: a receipt credits once, whatever the redeliveries.
loyalty_credits = Table(
    "loyalty_credits",
    metadata,
    Column("organization_id", String(32), nullable=False),
    Column("receipt_id", String(64), nullable=False),
    Column("card_id", String(32), ForeignKey("loyalty_cards.id"), nullable=False),
    Column("points", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("organization_id", "receipt_id"),
)

outbox, processed_events = outbox_tables(metadata)
