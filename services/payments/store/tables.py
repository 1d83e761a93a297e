"""The payments service's tables. Every table carries organization_id and every index
starts with it (one organization never spans shards)."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Index,
    Numeric,
    String,
    Table,
    UniqueConstraint,
)

from services.common.db import UTCDateTime, new_metadata
from services.common.outbox import outbox_tables

metadata = new_metadata()

# A deposit paid online for one appointment (R17), in the appointment's establishment. The
# unique constraint is what makes "one deposit per appointment" hold under concurrent
# requests: the store inserts with ON CONFLICT DO NOTHING and reads the winner back. The
# CHECK is the last line of defence behind parse_amount.
deposits = Table(
    "deposits",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("appointment_id", String(32), nullable=False),
    Column("client_id", String(32), nullable=False),
    Column("amount", Numeric(10, 2), nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("organization_id", "appointment_id"),
    CheckConstraint("amount > 0", name="amount_positive"),
    # A client's deposits in one establishment (ListClientDeposits, R17).
    Index("ix_deposits_org_est_client", "organization_id", "establishment_id", "client_id"),
)

outbox, processed_events = outbox_tables(metadata)
