"""The catalog service's tables. For now only the event tables every service has."""

from __future__ import annotations

from services.common.db import new_metadata
from services.common.outbox import outbox_tables

metadata = new_metadata()
outbox, processed_events = outbox_tables(metadata)
