"""The shared catalogue: services with per-establishment settings, products with
per-establishment prices, menus per establishment, the known establishments and the event
tables (outbox, processed events).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from services.common.db import UTCDateTime
from services.common.migrations import create_event_tables
from services.common.tenancy_replica import create_replica_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "services",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("category", sa.String(60), nullable=False),
        sa.Column("price", sa.Numeric(10, 2), nullable=False),
        sa.Column("duration_minutes", sa.Integer, nullable=False),
        sa.Column("description", sa.String(2000), nullable=False),
        sa.Column("bookable_online", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
    )
    op.create_index(
        "ix_services_org_category_name", "services", ["organization_id", "category", "name"]
    )
    op.create_table(
        "service_settings",
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("service_id", sa.String(32), sa.ForeignKey("services.id"), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("price", sa.Numeric(10, 2), nullable=True),
        sa.Column("duration_minutes", sa.Integer, nullable=True),
        sa.Column("description", sa.String(2000), nullable=True),
        sa.Column("bookable_online", sa.Boolean, nullable=True),
        sa.PrimaryKeyConstraint("service_id", "establishment_id"),
    )
    op.create_index(
        "ix_service_settings_org_est_service",
        "service_settings",
        ["organization_id", "establishment_id", "service_id"],
    )
    op.create_table(
        "products",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("brand", sa.String(100), nullable=False),
        sa.Column("barcode", sa.String(64), nullable=True),
        sa.Column("price", sa.Numeric(10, 2), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint(
            "organization_id", "barcode", name="uq_products_organization_id_barcode"
        ),
    )
    op.create_index("ix_products_org_name", "products", ["organization_id", "name"])
    op.create_table(
        "product_prices",
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("product_id", sa.String(32), sa.ForeignKey("products.id"), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("price", sa.Numeric(10, 2), nullable=False),
        sa.PrimaryKeyConstraint("product_id", "establishment_id"),
    )
    op.create_index(
        "ix_product_prices_org_est_product",
        "product_prices",
        ["organization_id", "establishment_id", "product_id"],
    )
    op.create_table(
        "menus",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("price", sa.Numeric(10, 2), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index(
        "ix_menus_org_est_name", "menus", ["organization_id", "establishment_id", "name"]
    )
    op.create_table(
        "menu_services",
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("menu_id", sa.String(32), sa.ForeignKey("menus.id"), nullable=False),
        sa.Column("service_id", sa.String(32), sa.ForeignKey("services.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("menu_id", "service_id"),
    )
    op.create_index(
        "ix_menu_services_org_service", "menu_services", ["organization_id", "service_id"]
    )
    create_replica_tables()
    create_event_tables()


def downgrade() -> None:
    op.drop_table("processed_events")
    op.drop_table("outbox")
    op.drop_table("known_establishments")
    op.drop_table("menu_services")
    op.drop_table("menus")
    op.drop_table("product_prices")
    op.drop_table("products")
    op.drop_table("service_settings")
    op.drop_table("services")
