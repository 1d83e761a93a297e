"""The clients service's tables. Every table carries organization_id and every index
starts with it (one organization never spans shards)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, PrimaryKeyConstraint, String, Table

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
    Index("ix_clients_org_sort", "organization_id", "sort_key", "id"),
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

outbox, processed_events = outbox_tables(metadata)
