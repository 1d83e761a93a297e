"""The payments service's tables. Every table carries organization_id and every index
starts with it (one organization never spans shards); the one exception is the recovery
worker's index on checkout_attempts, which scans every organization's stale attempts.

store/migrations/versions holds the same schema as hand-written Alembic revisions; a test
(tests/services/payments/test_till_store.py) compares the migrated database with this
metadata."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
)

from services.common.client_aliases import merged_clients_table
from services.common.db import UTCDateTime, new_metadata
from services.common.outbox import outbox_tables
from services.common.tenancy_replica import establishments_table

metadata = new_metadata()


def _money() -> Numeric[Decimal]:
    return Numeric(10, 2)


# A deposit paid online for one appointment (R17), in the appointment's establishment. The
# unique constraint is what makes "one deposit per appointment" hold under concurrent
# requests: the store inserts with ON CONFLICT DO NOTHING and reads the winner back. The
# CHECK is the last line of defence behind parse_amount. receipt_id: the receipt that
# applied it (status APPLIED), whatever establishment checked out.
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
    Column("receipt_id", String(32), nullable=True),
    UniqueConstraint("organization_id", "appointment_id"),
    CheckConstraint("amount > 0", name="amount_positive"),
    # A client's deposits in one establishment (ListClientDeposits, R17).
    Index("ix_deposits_org_est_client", "organization_id", "establishment_id", "client_id"),
)

# A receipt of the till (R28), in the establishment that checked out. The number is
# sequential per establishment without gaps (receipt_counters); the idempotency key is
# unique per establishment (ARCHITECTURE.md).
receipts = Table(
    "receipts",
    metadata,
    Column("id", String(32), nullable=False),
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("number", Integer, nullable=False),
    Column("client_id", String(32), nullable=True),
    Column("appointment_id", String(32), nullable=True),
    Column("total", _money(), nullable=False),
    Column("user_id", String(32), nullable=False),
    Column("idempotency_key", String(100), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("reservation_id", String(32), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("organization_id", "establishment_id", "number"),
    UniqueConstraint("organization_id", "establishment_id", "idempotency_key"),
    CheckConstraint("number > 0", name="number_positive"),
    CheckConstraint("total >= 0", name="total_not_negative"),
    # The till history of a day (ListReceipts) and the reports.
    Index("ix_receipts_org_est_created", "organization_id", "establishment_id", "created_at"),
)

receipt_lines = Table(
    "receipt_lines",
    metadata,
    Column("id", String(32), nullable=False),
    Column("organization_id", String(32), nullable=False),
    Column("receipt_id", String(32), nullable=False),
    Column("position", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("item_id", String(32), nullable=False),
    Column("description", String(200), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", _money(), nullable=False),
    Column("total", _money(), nullable=False),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("organization_id", "receipt_id", "position"),
    CheckConstraint("kind IN ('SERVICE', 'PRODUCT')", name="kind"),
    CheckConstraint("quantity BETWEEN 1 AND 999", name="quantity_range"),
)

receipt_payments = Table(
    "receipt_payments",
    metadata,
    Column("id", String(32), nullable=False),
    Column("organization_id", String(32), nullable=False),
    Column("receipt_id", String(32), nullable=False),
    Column("position", Integer, nullable=False),
    Column("method", String(16), nullable=False),
    Column("amount", _money(), nullable=False),
    Column("gift_card_id", String(32), nullable=True),
    Column("subscription_id", String(32), nullable=True),
    Column("deposit_id", String(32), nullable=True),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("organization_id", "receipt_id", "position"),
    CheckConstraint(
        "method IN ('CASH', 'CARD', 'GIFT_CARD', 'SUBSCRIPTION', 'DEPOSIT', 'ONLINE')",
        name="method",
    ),
    CheckConstraint("amount > 0", name="amount_positive"),
)

# The last receipt number per establishment, taken by UPDATE ... SET last_number =
# last_number + 1 in the checkout's own transaction: the row lock serializes checkouts of
# one establishment, and a rolled back checkout gives its number back (no gap).
receipt_counters = Table(
    "receipt_counters",
    metadata,
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("last_number", Integer, nullable=False),
    PrimaryKeyConstraint("organization_id", "establishment_id"),
)

# One checkout per idempotency key and establishment: its state in the stock saga.
# PENDING while the stock is reserved and the receipt not written; DONE with the receipt;
# RELEASING once fenced by a compensation or the recovery worker (no write completes it any
# more) until its reservation is released; then FAILED (the key may be used again).
checkout_attempts = Table(
    "checkout_attempts",
    metadata,
    Column("id", String(32), nullable=False),
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("idempotency_key", String(100), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("reservation_id", String(32), nullable=False),
    Column("receipt_id", String(32), nullable=True),
    Column("user_id", String(32), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("organization_id", "establishment_id", "idempotency_key"),
    CheckConstraint("state IN ('PENDING', 'DONE', 'RELEASING', 'FAILED')", name="state"),
    # The recovery worker: stale PENDING attempts of every organization.
    Index("ix_checkout_attempts_state_updated", "state", "updated_at"),
)

# R14: sold in one establishment, redeemable in all (NUMBERED ones only where issued). The
# CHECK keeps the balance from going below zero whatever the code does; redemptions are
# conditional UPDATEs (balance >= amount).
gift_cards = Table(
    "gift_cards",
    metadata,
    Column("id", String(32), nullable=False),
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("code", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("initial_amount", _money(), nullable=False),
    Column("balance", _money(), nullable=False),
    Column("client_id", String(32), nullable=True),
    Column("idempotency_key", String(100), nullable=True),
    Column("user_id", String(32), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("organization_id", "code"),
    UniqueConstraint("organization_id", "establishment_id", "idempotency_key"),
    CheckConstraint("kind IN ('GENERAL', 'DIGITAL', 'NUMBERED')", name="kind"),
    CheckConstraint("balance >= 0", name="balance_not_negative"),
    CheckConstraint("initial_amount > 0", name="initial_amount_positive"),
    Index("ix_gift_cards_org_client", "organization_id", "client_id"),
)

# What happened to a gift card: ISSUE (+initial amount) and REDEEM (the amount taken).
gift_card_transactions = Table(
    "gift_card_transactions",
    metadata,
    Column("id", String(32), nullable=False),
    Column("organization_id", String(32), nullable=False),
    Column("gift_card_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("amount", _money(), nullable=False),
    Column("receipt_id", String(32), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("id"),
    CheckConstraint("kind IN ('ISSUE', 'REDEEM')", name="kind"),
    Index("ix_gift_card_transactions_org_card", "organization_id", "gift_card_id"),
)

# R24: a prepaid series of visits, usable only in the establishment that sold it.
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", String(32), nullable=False),
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("client_id", String(32), nullable=False),
    Column("name", String(100), nullable=False),
    Column("visits", Integer, nullable=False),
    Column("visits_left", Integer, nullable=False),
    Column("price", _money(), nullable=False),
    Column("valid_until", Date, nullable=True),
    Column("user_id", String(32), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("id"),
    CheckConstraint("visits_left >= 0 AND visits_left <= visits", name="visits_left_range"),
    CheckConstraint("price >= 0", name="price_not_negative"),
    Index("ix_subscriptions_org_est_client", "organization_id", "establishment_id", "client_id"),
)

# B08: a gift card sold in `from` and redeemed in `to`: `from` holds the money and owes it.
settlements = Table(
    "settlements",
    metadata,
    Column("id", String(32), nullable=False),
    Column("organization_id", String(32), nullable=False),
    Column("from_establishment_id", String(32), nullable=False),
    Column("to_establishment_id", String(32), nullable=False),
    Column("amount", _money(), nullable=False),
    Column("receipt_id", String(32), nullable=False),
    Column("gift_card_id", String(32), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("id"),
    CheckConstraint("amount > 0", name="amount_positive"),
    Index("ix_settlements_org_created", "organization_id", "created_at"),
)

# The organization's establishments (tenancy events and callers' scopes) and timezones.
known_establishments = establishments_table(metadata)

# B11: the clients whose personal data was erased (clients.client.erased). The payments
# service keeps no name or contact of a client (receipts, deposits, cards and subscriptions
# carry the client id only; provider payments carry the deposit id), so there is nothing to
# anonymise: it records the erasure, and the client's export says so. Receipts keep their
# amounts for the books.
erased_clients = Table(
    "erased_clients",
    metadata,
    Column("organization_id", String(32), nullable=False),
    Column("client_id", String(32), nullable=False),
    Column("erased_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("organization_id", "client_id"),
)

# B07: client ids merged into another record (clients.client.merged): the merged id's
# deposits, receipts, gift cards and subscriptions are the kept id's, and a later write with
# the merged id lands on the kept record.
merged_clients = merged_clients_table(metadata)

outbox, processed_events = outbox_tables(metadata)
