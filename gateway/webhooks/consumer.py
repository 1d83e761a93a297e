"""The durable consumer `gateway-webhooks`: every event of every part, and for each the
deliveries to the endpoints of THE EVENT'S ORGANIZATION that want its type, added in the
transaction that records the event as processed (a redelivery adds nothing). Its own
durable, beside the audit log's: a slow webhook table never holds the audit log back."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import orjson
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.events import registry
from gateway.events.audit import _EveryType
from gateway.events.hub import SUBJECTS
from gateway.store.tables import processed_events
from gateway.webhooks import store
from services.common.consumer import EventConsumer
from services.common.db import Database
from services.common.events import Event

log = logging.getLogger("salon.gateway.webhooks")

DURABLE = "gateway-webhooks"
MAX_ID, MAX_EVENT_ID, MAX_TYPE = 32, 64, 120


def _time(event: Event) -> datetime:
    return event.time if event.time.tzinfo is not None else event.time.replace(tzinfo=UTC)


def payload(event: Event) -> str:
    """The body every attempt sends: the event as JSON, its message in the proto3 JSON
    mapping (as GraphQL subscriptions show it); null data for a type this gateway does not
    know."""
    message = registry.decode(event.type, event.data)
    return orjson.dumps(
        {
            "type": event.type,
            "id": event.id,
            "timestamp": _time(event).isoformat().replace("+00:00", "Z"),
            "organizationId": event.organization_id,
            "establishmentId": event.establishment_id,
            "data": registry.to_dict(message) if message is not None else None,
        }
    ).decode()


async def enqueue(conn: AsyncConnection, event: Event) -> None:
    if (
        len(event.organization_id) > MAX_ID
        or len(event.id) > MAX_EVENT_ID
        or len(event.type) > MAX_TYPE
    ):
        return  # not one of ours (the column widths): no endpoint can want it
    await store.enqueue(
        conn, event.organization_id, event.id, event.type, payload(event), _time(event)
    )


class WebhookConsumer(EventConsumer):
    def __init__(
        self, js: JetStreamContext, db: Database, *, stream: str, durable: str = DURABLE
    ) -> None:
        super().__init__(
            js,
            db,
            processed_events,
            stream=stream,
            durable=durable,
            handlers={"*": (SUBJECTS, enqueue)},
        )
        self.handlers = _EveryType(enqueue)
