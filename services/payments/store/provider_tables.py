"""Tables of terminals (R31), provider connections and payments (R32) and the appointment
projection the reports count (R27), on the service's one `metadata` (store/tables.py).
Every table carries organization_id and every key and index starts with it.
Migration 0003 creates the same schema (tests/services/payments/test_reports.py compares
them)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Index,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from services.common.db import UTCDateTime
from services.payments.store.tables import metadata

# R31: a terminal assigned to one establishment; the same serial may be assigned to
# several establishments, once each (the unique constraint makes a repeat an update).
payment_terminals = Table(
    "payment_terminals",
    metadata,
    Column("id", String(32), nullable=False),
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("serial", String(64), nullable=False),
    Column("name", String(100), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("organization_id", "establishment_id", "serial"),
)

# R32: one provider account per establishment; the same account may be connected to
# several. The API key only ever encrypted (provider/crypto.py).
provider_connections = Table(
    "provider_connections",
    metadata,
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("provider", String(20), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("api_key_encrypted", Text, nullable=False),
    Column("connected_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("organization_id", "establishment_id"),
)

# A payment created with the provider for a deposit (R17 + R32), in the establishment
# whose connection created it; the webhook's refresh finds it by (organization, id).
provider_payments = Table(
    "provider_payments",
    metadata,
    Column("organization_id", String(32), nullable=False),
    Column("payment_id", String(64), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("provider", String(20), nullable=False),
    Column("deposit_id", String(32), nullable=False),
    Column("status", String(20), nullable=False),
    Column("checkout_url", String(500), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("organization_id", "payment_id"),
    Index("ix_provider_payments_org_deposit", "organization_id", "deposit_id"),
)

# R27: the booking service's appointments as its events tell them, for the reports.
# changed_at: the time of the event that set the row (events come more than once and in
# any order; see domain/reports.supersedes).
report_appointments = Table(
    "report_appointments",
    metadata,
    Column("organization_id", String(32), nullable=False),
    Column("appointment_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("start", UTCDateTime(), nullable=False),
    Column("status", String(20), nullable=False),
    Column("changed_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("organization_id", "appointment_id"),
    Index("ix_report_appointments_org_est_start", "organization_id", "establishment_id", "start"),
)
