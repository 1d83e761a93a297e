"""The catalog service's tables. Every table carries organization_id and every index
starts with it (one organization never spans shards).

Services and products are shared by the organization (R11, R13): their rows hold the
shared fields and the organization's defaults; `service_settings` and `product_prices`
hold one establishment's overrides (R12, B10), NULL meaning "the organization's value".
A `service_settings` row also says that the service exists in that establishment; rows are
never removed, so a restored service comes back with its settings (B05).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
)

from services.common import tenancy_replica
from services.common.db import UTCDateTime, new_metadata
from services.common.outbox import outbox_tables

metadata = new_metadata()


services = Table(
    "services",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organization_id", String(32), nullable=False),
    Column("name", String(100), nullable=False),
    Column("category", String(60), nullable=False, default=""),
    # The organization's defaults (B10).
    Column("price", Numeric(10, 2), nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    Column("description", String(2000), nullable=False, default=""),
    Column("bookable_online", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("deleted_at", UTCDateTime(), nullable=True),
    Index("ix_services_org_category_name", "organization_id", "category", "name"),
)

service_settings = Table(
    "service_settings",
    metadata,
    Column("organization_id", String(32), nullable=False),
    Column("service_id", String(32), ForeignKey("services.id"), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    # This establishment's overrides; NULL: the organization's value.
    Column("price", Numeric(10, 2), nullable=True),
    Column("duration_minutes", Integer, nullable=True),
    Column("description", String(2000), nullable=True),
    Column("bookable_online", Boolean, nullable=True),
    PrimaryKeyConstraint("service_id", "establishment_id"),
    Index(
        "ix_service_settings_org_est_service", "organization_id", "establishment_id", "service_id"
    ),
)

products = Table(
    "products",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organization_id", String(32), nullable=False),
    Column("name", String(100), nullable=False),
    Column("brand", String(100), nullable=False, default=""),
    Column("barcode", String(64), nullable=True),
    # The organization's price, for every establishment that sets none.
    Column("price", Numeric(10, 2), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("organization_id", "barcode"),
    Index("ix_products_org_name", "organization_id", "name"),
)

product_prices = Table(
    "product_prices",
    metadata,
    Column("organization_id", String(32), nullable=False),
    Column("product_id", String(32), ForeignKey("products.id"), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("price", Numeric(10, 2), nullable=False),
    PrimaryKeyConstraint("product_id", "establishment_id"),
    Index("ix_product_prices_org_est_product", "organization_id", "establishment_id", "product_id"),
)

menus = Table(
    "menus",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("name", String(100), nullable=False),
    Column("price", Numeric(10, 2), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_menus_org_est_name", "organization_id", "establishment_id", "name"),
)

menu_services = Table(
    "menu_services",
    metadata,
    Column("organization_id", String(32), nullable=False),
    Column("menu_id", String(32), ForeignKey("menus.id"), nullable=False),
    Column("service_id", String(32), ForeignKey("services.id"), nullable=False),
    Column("position", Integer, nullable=False),
    PrimaryKeyConstraint("menu_id", "service_id"),
    Index("ix_menu_services_org_service", "organization_id", "service_id"),
)

# The booking service's appointments as the catalogue needs them: a service's future
# appointments are the impact of its delete (B05). Fed by the booking events, one row per
# appointment; `changed_at` is the time of the event that set the row.
service_appointments = Table(
    "service_appointments",
    metadata,
    Column("organization_id", String(32), nullable=False),
    Column("appointment_id", String(32), nullable=False),
    Column("service_id", String(32), nullable=False),
    Column("start_at", UTCDateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("changed_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("organization_id", "appointment_id"),
    Index(
        "ix_service_appointments_org_service_status_start",
        "organization_id",
        "service_id",
        "status",
        "start_at",
    ),
)

# R29: each establishment's webshop settings and the products it sells online (in the
# order set), and its public mini-website profile with its photos (in the order set). No
# row: off, nothing sold, an empty profile.
webshop_settings = Table(
    "webshop_settings",
    metadata,
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("updated_by", String(32), nullable=False),
    PrimaryKeyConstraint("organization_id", "establishment_id"),
)

webshop_products = Table(
    "webshop_products",
    metadata,
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("product_id", String(32), ForeignKey("products.id"), nullable=False),
    Column("position", Integer, nullable=False),
    PrimaryKeyConstraint("organization_id", "establishment_id", "product_id"),
)

website_profiles = Table(
    "website_profiles",
    metadata,
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("description", String(2000), nullable=False),
    Column("street", String(200), nullable=True),
    Column("postal_code", String(12), nullable=True),
    Column("city", String(100), nullable=True),
    Column("country", String(2), nullable=True),
    Column("phone", String(32), nullable=False),
    Column("email", String(254), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("updated_by", String(32), nullable=False),
    PrimaryKeyConstraint("organization_id", "establishment_id"),
)

website_photos = Table(
    "website_photos",
    metadata,
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("position", Integer, nullable=False),
    Column("url", String(2048), nullable=False),
    PrimaryKeyConstraint("organization_id", "establishment_id", "position"),
)

known_establishments = tenancy_replica.establishments_table(metadata)

outbox, processed_events = outbox_tables(metadata)
