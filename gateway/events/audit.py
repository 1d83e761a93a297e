"""The audit log's writer (B04): a durable consumer of every event of every part, the
gateway's own tenancy events included, each recorded once as an audit entry.

The entry says who (ce-actorid), where (ce-establishmentid; none for organization-level
changes), what (the event type, and a subject named from the message: "appointment <id>")
and when (ce-time). Durable and idempotent like every consumer: a crash or a redelivery
records nothing twice (processed_events, and the event id is the entry's key); gateway
replicas share the durable, so each event is recorded by one of them.
"""

from __future__ import annotations

import logging
from datetime import UTC

from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.events import registry
from gateway.events.hub import SUBJECTS
from gateway.store import audit
from gateway.store.tables import processed_events
from services.common.consumer import EventConsumer, Handler
from services.common.db import Database
from services.common.events import Event

log = logging.getLogger("salon.gateway.audit")

DURABLE = "gateway-audit"
# The widths of the audit_entries columns: an event with longer ids is not one of ours.
MAX_ID, MAX_EVENT_ID = 32, 64


async def record_entry(conn: AsyncConnection, event: Event) -> None:
    ids = (event.organization_id, event.establishment_id or "", event.actor_id or "")
    if any(len(i) > MAX_ID for i in ids) or len(event.id) > MAX_EVENT_ID:
        log.warning(
            "audit: event %.64s on %s has ids too long; not recorded", event.id, event.subject
        )
        return
    at = event.time if event.time.tzinfo is not None else event.time.replace(tzinfo=UTC)
    await audit.record(
        conn,
        audit.AuditEntry(
            event_id=event.id,
            organization_id=event.organization_id,
            establishment_id=event.establishment_id,
            user_id=event.actor_id,
            action=event.type,
            subject=registry.describe(event.type, registry.decode(event.type, event.data)),
            at=at,
        ),
    )


class _EveryType(dict[str, Handler]):
    """EventConsumer looks a handler up by event type; this one has one for every type,
    those of parts newer than this gateway included."""

    def __init__(self, handler: Handler) -> None:
        super().__init__()
        self.handler = handler

    def get(self, key: str, default: object = None) -> Handler:  # type: ignore[override]
        return self.handler

    def __missing__(self, key: str) -> Handler:
        return self.handler


class AuditConsumer(EventConsumer):
    def __init__(
        self, js: JetStreamContext, db: Database, *, stream: str, durable: str = DURABLE
    ) -> None:
        super().__init__(
            js,
            db,
            processed_events,
            stream=stream,
            durable=durable,
            handlers={"*": (SUBJECTS, record_entry)},
        )
        self.handlers = _EveryType(record_entry)
