"""R29: forms per establishment and clients' answers to them.

Revision ID: 0005_forms
Revises: 0004_merged_clients
"""

import sqlalchemy as sa
from alembic import op

from services.common.db import UTCDateTime

revision = "0005_forms"
down_revision = "0004_merged_clients"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forms",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("archived_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forms")),
    )
    op.create_index(
        "ix_forms_org_est_name", "forms", ["organization_id", "establishment_id", "name"]
    )
    op.create_table(
        "form_responses",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("form_id", sa.String(32), nullable=False),
        sa.Column("form_version", sa.Integer, nullable=False),
        sa.Column("client_id", sa.String(32), nullable=False),
        sa.Column("answers", sa.Text, nullable=False),
        sa.Column("answered_by", sa.String(32), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_responses")),
        sa.ForeignKeyConstraint(
            ["form_id"], ["forms.id"], name=op.f("fk_form_responses_form_id_forms")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_form_responses_client_id_clients")
        ),
    )
    op.create_index(
        "ix_form_responses_org_est_client",
        "form_responses",
        ["organization_id", "establishment_id", "client_id", "answered_at"],
    )


def downgrade() -> None:
    op.drop_table("form_responses")
    op.drop_table("forms")
