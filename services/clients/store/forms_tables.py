"""R29's forms on the clients service's one `metadata` (store/tables.py): templates per
establishment and a client's answers to them. Every table carries organization_id and
establishment_id, and every index starts with them. Migration 0005_forms creates the same
schema (tests/services/clients/test_forms.py compares them)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from services.clients.store.tables import metadata
from services.common.db import UTCDateTime

# A form of one establishment; `fields` is the JSON list of its fields (key, label, type,
# required, options), replaced as a whole by an update, which raises `version`.
forms = Table(
    "forms",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("name", String(100), nullable=False),
    Column("fields", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("created_by", String(32), nullable=False),
    Column("archived_at", UTCDateTime(), nullable=True),
    Index("ix_forms_org_est_name", "organization_id", "establishment_id", "name"),
)

# One client's answers to one form, as checked against the form's `form_version`;
# `answers` is the JSON list of [key, value] in the order of the form's fields.
form_responses = Table(
    "form_responses",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organization_id", String(32), nullable=False),
    Column("establishment_id", String(32), nullable=False),
    Column("form_id", String(32), ForeignKey("forms.id"), nullable=False),
    Column("form_version", Integer, nullable=False),
    Column("client_id", String(32), ForeignKey("clients.id"), nullable=False),
    Column("answers", Text, nullable=False),
    Column("answered_by", String(32), nullable=False),
    Column("answered_at", UTCDateTime(), nullable=False),
    Index(
        "ix_form_responses_org_est_client",
        "organization_id",
        "establishment_id",
        "client_id",
        "answered_at",
    ),
)
