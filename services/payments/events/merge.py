"""B07: `clients.client.merged` (durable "payments-clients-merged"): the payments service
re-points the merged client's deposits, receipts, gift cards and subscriptions to the kept
client and remembers the alias (see store/merge_repository). Idempotent, and the consumer
applies each event id once."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from salon.clients.v1 import events_pb2 as clients_events
from services.common.consumer import EventConsumer
from services.common.events import Event, EventType
from services.common.runtime import ServiceContext
from services.payments.store import merge_repository

MERGED_DURABLE = "payments-clients-merged"
CLIENTS_MERGED = EventType("clients", "client", "merged")


async def on_clients_merged(conn: AsyncConnection, event: Event) -> None:
    body = event.parse(clients_events.ClientMerged)
    await merge_repository.merge(
        conn, event.organization_id, body.merged_client_id, body.kept_client_id, event.time
    )


def merge_consumers(ctx: ServiceContext) -> list[EventConsumer]:
    assert ctx.js is not None
    return [
        EventConsumer(
            ctx.js,
            ctx.db,
            ctx.processed,
            stream=ctx.settings.events_stream,
            durable=MERGED_DURABLE,
            handlers={CLIENTS_MERGED.name: (CLIENTS_MERGED.filter(), on_clients_merged)},
        )
    ]
