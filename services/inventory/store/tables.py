"""The inventory service's tables. Every table carries organization_id and every index
starts with it (one organization never spans shards)."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
)

from services.common import tenancy_replica
from services.common.db import UTCDateTime, new_metadata
from services.common.outbox import outbox_tables

metadata = new_metadata()

# The level of one product in one establishment (R20). A row appears at the first change;
# no row reads as 0. The CHECK is the last line of defence: every change is a conditional
# update that never takes a level below zero in the first place.
stock_levels = Table(
    "stock_levels",
    metadata,
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("product_id", String(32), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("organization_id", "establishment_id", "product_id"),
    CheckConstraint("quantity >= 0", name="quantity_not_negative"),
)

# Every change, with its reason, user and time; both movements of a transfer (B02) share
# transfer_id; the SALE movements of a checkout carry its stock reservation's id (they are
# the reservation's lines, deleted when it is released).
stock_movements = Table(
    "stock_movements",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("product_id", String(32), nullable=False),
    Column("delta", Integer, nullable=False),
    Column("reason", String(20), nullable=False),
    Column("user_id", String(32), nullable=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("transfer_id", String(32), nullable=True),
    Column("reservation_id", String(64), nullable=True),
    Index(
        "ix_stock_movements_org_est_product_at",
        "organization_id",
        "establishment_id",
        "product_id",
        "at",
    ),
    Index(
        "ix_stock_movements_org_est_reservation",
        "organization_id",
        "establishment_id",
        "reservation_id",
    ),
)

# The till's stock reservations (R20, R28), per organization and establishment: the id is
# the caller's (one per checkout attempt). HELD, then RELEASED (stock back, movements gone)
# or COMMITTED (the receipt exists). A release of an id never reserved leaves a RELEASED
# row without movements (a tombstone), so that a late ReserveStock with it is refused.
# `response` is the first ReserveStock answer, given again to a retry.
stock_reservations = Table(
    "stock_reservations",
    metadata,
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("id", String(64), nullable=False),
    Column("status", String(12), nullable=False),
    Column("response", LargeBinary, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("organization_id", "establishment_id", "id"),
    CheckConstraint("status IN ('HELD', 'RELEASED', 'COMMITTED')", name="status_known"),
)

# A stock change's idempotency key, per organization and establishment (the sending one for
# a transfer): the hash of the request it came with and the response it got, written in the
# change's own transaction, so a retry either finds both or applies the change itself.
stock_idempotency = Table(
    "stock_idempotency",
    metadata,
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("key", String(100), nullable=False),
    Column("request_hash", String(64), nullable=False),
    # The serialized response proto; set before the transaction commits.
    Column("response", LargeBinary, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("organization_id", "establishment_id", "key"),
)

known_establishments = tenancy_replica.establishments_table(metadata)

outbox, processed_events = outbox_tables(metadata)
