"""The booking service's tables. Every table carries organization_id and every key and
index starts with it (one organization never spans shards).

Hours are local wall times ("HH:MM") of the establishment, per ISO weekday (1 = Monday);
appointments are UTC instants. Agenda, opening hours and staff hours are per establishment
(R21); the overlap rule for one staff member spans the organization (B09), hence the
(organization_id, staff_id, start_at) index.

A manage token (R26) is stored only as its SHA-256: the table alone does not let anyone
manage an appointment.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
)

from services.common import tenancy_replica
from services.common.client_aliases import merged_clients_table
from services.common.db import UTCDateTime, new_metadata
from services.common.outbox import outbox_tables

metadata = new_metadata()

# The weekly opening hours of an establishment; several ranges per weekday (a lunch break),
# never overlapping (checked before writing). No row for a weekday: closed that day.
opening_hours = Table(
    "opening_hours",
    metadata,
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("weekday", Integer, nullable=False),
    Column("opens", String(5), nullable=False),
    Column("closes", String(5), nullable=False),
    PrimaryKeyConstraint("organization_id", "establishment_id", "weekday", "opens"),
    CheckConstraint("weekday BETWEEN 1 AND 7", name="weekday_range"),
)

# A staff member's weekly hours in one establishment (R22). No row at all for the person
# there: they work the establishment's opening hours.
staff_hours = Table(
    "staff_hours",
    metadata,
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("staff_id", String(32), nullable=False),
    Column("weekday", Integer, nullable=False),
    Column("opens", String(5), nullable=False),
    Column("closes", String(5), nullable=False),
    PrimaryKeyConstraint("organization_id", "establishment_id", "staff_id", "weekday", "opens"),
    CheckConstraint("weekday BETWEEN 1 AND 7", name="weekday_range"),
)

appointments = Table(
    "appointments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("client_id", String(32), nullable=False),
    Column("service_id", String(32), nullable=False),
    Column("staff_id", String(32), nullable=False),
    Column("start_at", UTCDateTime(), nullable=False),
    Column("end_at", UTCDateTime(), nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    CheckConstraint("end_at > start_at", name="ends_after_start"),
    # A staff member's appointments in every establishment (B09, availability).
    Index("ix_appointments_org_staff_start", "organization_id", "staff_id", "start_at"),
    # An establishment's day (the agenda).
    Index("ix_appointments_org_est_start", "organization_id", "establishment_id", "start_at"),
    # A client's appointments.
    Index("ix_appointments_org_client_start", "organization_id", "client_id", "start_at"),
)

# The online booking's manage tokens (R16, R26): the link a client gets to view, move and
# cancel their appointments in ONE establishment. Keyed by the token's SHA-256 (hex), the
# only thing a request brings; the hash alone is the key (256 random bits do not collide)
# and every lookup also filters on the organization and the establishment of the scope.
# One token per (organization, establishment, client): a new booking issues a new token
# that replaces the hash (see repository.issue_token).
manage_tokens = Table(
    "manage_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("client_id", String(32), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("organization_id", "establishment_id", "client_id"),
)

# B07: client ids merged into another record (clients.client.merged), so that a later
# write with a merged id lands on the kept record.
merged_clients = merged_clients_table(metadata)

known_establishments = tenancy_replica.establishments_table(metadata)
known_members = tenancy_replica.members_table(metadata)

outbox, processed_events = outbox_tables(metadata)
