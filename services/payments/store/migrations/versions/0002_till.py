"""The till (R28, R14, R24, R17, B08): receipts with their lines and payments, gap-free
receipt numbers per establishment, checkout attempts (idempotency and the stock saga), gift
cards and their transactions, prepaid subscriptions, settlements between establishments, the
known establishments (tenancy replica) and the receipt that applied a deposit.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from services.common.db import UTCDateTime
from services.common.tenancy_replica import create_replica_tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(10, 2)


def upgrade() -> None:
    op.create_table(
        "receipts",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("client_id", sa.String(32), nullable=True),
        sa.Column("appointment_id", sa.String(32), nullable=True),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("reservation_id", sa.String(32), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint(
            "organization_id",
            "establishment_id",
            "number",
            name=op.f("uq_receipts_organization_id_establishment_id_number"),
        ),
        sa.UniqueConstraint(
            "organization_id",
            "establishment_id",
            "idempotency_key",
            name=op.f("uq_receipts_organization_id_establishment_id_idempotency_key"),
        ),
        sa.CheckConstraint("number > 0", name=op.f("ck_receipts_number_positive")),
        sa.CheckConstraint("total >= 0", name=op.f("ck_receipts_total_not_negative")),
    )
    op.create_index(
        "ix_receipts_org_est_created",
        "receipts",
        ["organization_id", "establishment_id", "created_at"],
    )
    op.create_table(
        "receipt_lines",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("receipt_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("item_id", sa.String(32), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price", MONEY, nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt_lines")),
        sa.UniqueConstraint(
            "organization_id",
            "receipt_id",
            "position",
            name=op.f("uq_receipt_lines_organization_id_receipt_id_position"),
        ),
        sa.CheckConstraint("kind IN ('SERVICE', 'PRODUCT')", name=op.f("ck_receipt_lines_kind")),
        sa.CheckConstraint(
            "quantity BETWEEN 1 AND 999", name=op.f("ck_receipt_lines_quantity_range")
        ),
    )
    op.create_table(
        "receipt_payments",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("receipt_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("gift_card_id", sa.String(32), nullable=True),
        sa.Column("subscription_id", sa.String(32), nullable=True),
        sa.Column("deposit_id", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt_payments")),
        sa.UniqueConstraint(
            "organization_id",
            "receipt_id",
            "position",
            name=op.f("uq_receipt_payments_organization_id_receipt_id_position"),
        ),
        sa.CheckConstraint(
            "method IN ('CASH', 'CARD', 'GIFT_CARD', 'SUBSCRIPTION', 'DEPOSIT', 'ONLINE')",
            name=op.f("ck_receipt_payments_method"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_receipt_payments_amount_positive")),
    )
    op.create_table(
        "receipt_counters",
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("last_number", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id", "establishment_id", name=op.f("pk_receipt_counters")
        ),
    )
    op.create_table(
        "checkout_attempts",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reservation_id", sa.String(32), nullable=False),
        sa.Column("receipt_id", sa.String(32), nullable=True),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkout_attempts")),
        sa.UniqueConstraint(
            "organization_id",
            "establishment_id",
            "idempotency_key",
            name=op.f("uq_checkout_attempts_organization_id_establishment_id_idempotency_key"),
        ),
        sa.CheckConstraint(
            "state IN ('PENDING', 'DONE', 'RELEASING', 'FAILED')",
            name=op.f("ck_checkout_attempts_state"),
        ),
    )
    op.create_index(
        "ix_checkout_attempts_state_updated", "checkout_attempts", ["state", "updated_at"]
    )
    op.create_table(
        "gift_cards",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("initial_amount", MONEY, nullable=False),
        sa.Column("balance", MONEY, nullable=False),
        sa.Column("client_id", sa.String(32), nullable=True),
        sa.Column("idempotency_key", sa.String(100), nullable=True),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gift_cards")),
        sa.UniqueConstraint(
            "organization_id", "code", name=op.f("uq_gift_cards_organization_id_code")
        ),
        sa.UniqueConstraint(
            "organization_id",
            "establishment_id",
            "idempotency_key",
            name=op.f("uq_gift_cards_organization_id_establishment_id_idempotency_key"),
        ),
        sa.CheckConstraint(
            "kind IN ('GENERAL', 'DIGITAL', 'NUMBERED')", name=op.f("ck_gift_cards_kind")
        ),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_gift_cards_balance_not_negative")),
        sa.CheckConstraint(
            "initial_amount > 0", name=op.f("ck_gift_cards_initial_amount_positive")
        ),
    )
    op.create_index("ix_gift_cards_org_client", "gift_cards", ["organization_id", "client_id"])
    op.create_table(
        "gift_card_transactions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("gift_card_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("receipt_id", sa.String(32), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gift_card_transactions")),
        sa.CheckConstraint(
            "kind IN ('ISSUE', 'REDEEM')", name=op.f("ck_gift_card_transactions_kind")
        ),
    )
    op.create_index(
        "ix_gift_card_transactions_org_card",
        "gift_card_transactions",
        ["organization_id", "gift_card_id"],
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("client_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("visits", sa.Integer, nullable=False),
        sa.Column("visits_left", sa.Integer, nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("valid_until", sa.Date, nullable=True),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
        sa.CheckConstraint(
            "visits_left >= 0 AND visits_left <= visits",
            name=op.f("ck_subscriptions_visits_left_range"),
        ),
        sa.CheckConstraint("price >= 0", name=op.f("ck_subscriptions_price_not_negative")),
    )
    op.create_index(
        "ix_subscriptions_org_est_client",
        "subscriptions",
        ["organization_id", "establishment_id", "client_id"],
    )
    op.create_table(
        "settlements",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("from_establishment_id", sa.String(32), nullable=False),
        sa.Column("to_establishment_id", sa.String(32), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("receipt_id", sa.String(32), nullable=False),
        sa.Column("gift_card_id", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlements")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_settlements_amount_positive")),
    )
    op.create_index("ix_settlements_org_created", "settlements", ["organization_id", "created_at"])
    # The organization's establishments and their timezones, from the tenancy events and the
    # callers' scopes: the local day of ListReceipts, the reports, access.target_establishment.
    create_replica_tables()
    with op.batch_alter_table("deposits") as batch:
        batch.add_column(sa.Column("receipt_id", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deposits") as batch:
        batch.drop_column("receipt_id")
    op.drop_table("known_establishments")
    op.drop_index("ix_settlements_org_created", "settlements")
    op.drop_table("settlements")
    op.drop_index("ix_subscriptions_org_est_client", "subscriptions")
    op.drop_table("subscriptions")
    op.drop_index("ix_gift_card_transactions_org_card", "gift_card_transactions")
    op.drop_table("gift_card_transactions")
    op.drop_index("ix_gift_cards_org_client", "gift_cards")
    op.drop_table("gift_cards")
    op.drop_index("ix_checkout_attempts_state_updated", "checkout_attempts")
    op.drop_table("checkout_attempts")
    op.drop_table("receipt_counters")
    op.drop_table("receipt_payments")
    op.drop_table("receipt_lines")
    op.drop_index("ix_receipts_org_est_created", "receipts")
    op.drop_table("receipts")
