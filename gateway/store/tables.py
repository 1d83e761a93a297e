"""What the gateway owns: organizations, establishments, users, memberships, sessions, the
audit log (B04) and the failed logins the login throttle counts."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
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

# B04: one row per event of any part (the gateway's audit consumer), newest read first.
audit_entries = Table(
    "audit_entries",
    metadata,
    Column("organization_id", String(32), nullable=False),
    # The event id (ce-id): a redelivered event finds its row and adds none.
    Column("event_id", String(64), nullable=False),
    # Null for organization-level changes (a shared service created, the organization).
    Column("establishment_id", String(32), nullable=True),
    # ce-actorid; null when no user acted (the public booking page, a provider's webhook).
    Column("user_id", String(32), nullable=True),
    Column("action", String(120), nullable=False),
    Column("subject", String(250), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("organization_id", "event_id"),
    Index("ix_audit_entries_org_est_at", "organization_id", "establishment_id", "at"),
    Index("ix_audit_entries_org_at", "organization_id", "at"),
)

# One row per login attempt that failed or is still being checked (gateway/protection/
# login.py), under two keys: the SHA-256 of the e-mail address and of the client address.
# Before any organization is known, so no organization_id; rows older than the window go.
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("throttle_key", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_login_failures_key_at", "throttle_key", "at"),
    Index("ix_login_failures_at", "at"),
)

# B06: an organization's webhook endpoints (gateway/webhooks). The signing secret is stored
# encrypted (Fernet, SALON_WEBHOOKS_KEY) and shown only once, when the endpoint is made.
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organization_id", String(32), nullable=False),
    Column("url", String(2000), nullable=False),
    # JSON list of event type names; empty: every type.
    Column("event_types", Text(), nullable=False),
    Column("secret", String(500), nullable=False),
    Column("enabled", Boolean(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_webhook_endpoints_org_created", "organization_id", "created_at"),
)

# One row per (event, endpoint): the consumer adds it in the transaction that records the
# event as processed; the sender claims due rows (claimed_until) and sends them.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organization_id", String(32), nullable=False),
    Column("endpoint_id", String(32), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("event_type", String(120), nullable=False),
    # The JSON body, made once: every attempt sends (and signs) the same bytes.
    Column("payload", Text(), nullable=False),
    Column("attempts", Integer(), nullable=False),
    # PENDING, DELIVERED, FAILED.
    Column("status", String(16), nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("claimed_until", UTCDateTime(), nullable=True),
    Column("last_status_code", Integer(), nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("delivered_at", UTCDateTime(), nullable=True),
    UniqueConstraint("organization_id", "endpoint_id", "event_id"),
    Index(
        "ix_webhook_deliveries_org_endpoint_created", "organization_id", "endpoint_id", "created_at"
    ),
    # The sender's scan, across organizations (as the booking mail queue's).
    Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
)

outbox, processed_events = outbox_tables(metadata)
