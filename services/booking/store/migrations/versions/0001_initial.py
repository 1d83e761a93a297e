"""Opening hours, staff hours and appointments per establishment; the establishments and
members known from tenancy events; the event tables.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from services.common.db import UTCDateTime
from services.common.migrations import create_event_tables
from services.common.tenancy_replica import create_member_tables, create_replica_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "opening_hours",
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("weekday", sa.Integer, nullable=False),
        sa.Column("opens", sa.String(5), nullable=False),
        sa.Column("closes", sa.String(5), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "establishment_id", "weekday", "opens"),
        sa.CheckConstraint("weekday BETWEEN 1 AND 7", name=op.f("ck_opening_hours_weekday_range")),
    )
    op.create_table(
        "staff_hours",
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("staff_id", sa.String(32), nullable=False),
        sa.Column("weekday", sa.Integer, nullable=False),
        sa.Column("opens", sa.String(5), nullable=False),
        sa.Column("closes", sa.String(5), nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id", "establishment_id", "staff_id", "weekday", "opens"
        ),
        sa.CheckConstraint("weekday BETWEEN 1 AND 7", name=op.f("ck_staff_hours_weekday_range")),
    )
    op.create_table(
        "appointments",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("client_id", sa.String(32), nullable=False),
        sa.Column("service_id", sa.String(32), nullable=False),
        sa.Column("staff_id", sa.String(32), nullable=False),
        sa.Column("start_at", UTCDateTime(), nullable=False),
        sa.Column("end_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("end_at > start_at", name=op.f("ck_appointments_ends_after_start")),
    )
    op.create_index(
        "ix_appointments_org_staff_start",
        "appointments",
        ["organization_id", "staff_id", "start_at"],
    )
    op.create_index(
        "ix_appointments_org_est_start",
        "appointments",
        ["organization_id", "establishment_id", "start_at"],
    )
    op.create_index(
        "ix_appointments_org_client_start",
        "appointments",
        ["organization_id", "client_id", "start_at"],
    )
    create_replica_tables()
    create_member_tables()
    create_event_tables()


def downgrade() -> None:
    op.drop_table("processed_events")
    op.drop_table("outbox")
    op.drop_table("known_members")
    op.drop_table("known_establishments")
    op.drop_index("ix_appointments_org_client_start", "appointments")
    op.drop_index("ix_appointments_org_est_start", "appointments")
    op.drop_index("ix_appointments_org_staff_start", "appointments")
    op.drop_table("appointments")
    op.drop_table("staff_hours")
    op.drop_table("opening_hours")
