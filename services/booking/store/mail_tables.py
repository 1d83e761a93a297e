"""The tables of the mails for future appointments (R15), on the booking service's metadata.

``mail_settings``: one row per organization that changed the defaults (enabled, a reminder
24 hours before); no row per establishment, on purpose (R15: the setting is the
organization's and cannot be limited to one establishment).

``mail_queue``: every mail the service owes, one row per (organization, appointment, kind),
so a mail is never queued twice for one appointment; a row goes from pending to sent or to
cancelled, never back. The recipient, subject and body are what was rendered for the last
attempt (the sender renders each attempt afresh from the client file and the catalogue).
``claimed_until`` keeps two replicas of the service from sending one mail at once (see
``services/booking/mail/sender.py``).

The sender's index (status, next_attempt_at) does not start with organization_id: like the
outbox's, that work queue is the service's (the shard's), across its organizations.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from services.booking.store.tables import metadata
from services.common.db import UTCDateTime

mail_settings = Table(
    "mail_settings",
    metadata,
    Column("organization_id", String(32), primary_key=True),
    Column("enabled", Boolean, nullable=False),
    Column("reminder_hours", Integer, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    CheckConstraint("reminder_hours BETWEEN 1 AND 168", name="reminder_hours_range"),
)

mail_queue = Table(
    "mail_queue",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("appointment_id", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    # The appointment as its last event told it (what the mail is about).
    Column("client_id", String(32), nullable=False),
    Column("service_id", String(32), nullable=False),
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("ends_at", UTCDateTime(), nullable=False),
    # What the last attempt rendered; empty until the first attempt.
    Column("recipient", String(320), nullable=True),
    Column("subject", String(300), nullable=True),
    Column("body", Text, nullable=True),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", String(500), nullable=True),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("claimed_until", UTCDateTime(), nullable=True),
    Column("sent_at", UTCDateTime(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("organization_id", "appointment_id", "kind"),
    CheckConstraint("kind IN ('confirmation', 'reminder')", name="kind"),
    CheckConstraint("status IN ('pending', 'sent', 'cancelled')", name="status"),
    CheckConstraint("attempts >= 0", name="attempts"),
    Index("ix_mail_queue_status_next_attempt", "status", "next_attempt_at"),
)
