"""R29: each establishment's webshop settings and products sold online, and its public
mini-website profile with its photos.

Revision ID: 0003_webshop_website
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from services.common.db import UTCDateTime

revision = "0003_webshop_website"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webshop_settings",
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id", "establishment_id", name=op.f("pk_webshop_settings")
        ),
    )
    op.create_table(
        "webshop_products",
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("product_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id", "establishment_id", "product_id", name=op.f("pk_webshop_products")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_webshop_products_product_id_products")
        ),
    )
    op.create_table(
        "website_profiles",
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("description", sa.String(2000), nullable=False),
        sa.Column("street", sa.String(200), nullable=True),
        sa.Column("postal_code", sa.String(12), nullable=True),
        sa.Column("city", sa.String(100), nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id", "establishment_id", name=op.f("pk_website_profiles")
        ),
    )
    op.create_table(
        "website_photos",
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id", "establishment_id", "position", name=op.f("pk_website_photos")
        ),
    )


def downgrade() -> None:
    op.drop_table("website_photos")
    op.drop_table("website_profiles")
    op.drop_table("webshop_products")
    op.drop_table("webshop_settings")
