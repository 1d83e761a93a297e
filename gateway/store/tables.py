"""What the gateway owns: organizations, establishments, users, memberships, sessions."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
)

from services.common.db import UTCDateTime, new_metadata
from services.common.outbox import outbox_tables

metadata = new_metadata()

organizations = Table(
    "organizations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("slug", String(80), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

establishments = Table(
    "establishments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organization_id", String(32), ForeignKey("organizations.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("slug", String(80), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("organization_id", "slug"),
)

# A user belongs to one organization; the e-mail is one login across the system.
users = Table(
    "users",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organization_id", String(32), ForeignKey("organizations.id"), nullable=False),
    Column("email", String(254), nullable=False),
    Column("email_key", String(254), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# One membership per establishment, each with its own role and rights (R02, R22).
memberships = Table(
    "memberships",
    metadata,
    Column("organization_id", String(32), nullable=False),
    Column("user_id", String(32), ForeignKey("users.id"), nullable=False),
    Column("establishment_id", String(32), ForeignKey("establishments.id"), nullable=False),
    Column("role", String(16), nullable=False),
    # Comma-separated Right names, sorted.
    Column("rights", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("user_id", "establishment_id"),
    Index("ix_memberships_org_est", "organization_id", "establishment_id"),
)

# Tokens are random; only their SHA-256 is stored.
sessions = Table(
    "sessions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", String(32), ForeignKey("users.id"), nullable=False),
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime(), nullable=True),
)

outbox, processed_events = outbox_tables(metadata)
