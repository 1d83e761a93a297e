"""B11: `clients.client.erased` (durable "payments-clients"). The payments service keeps
no personal data of a client besides the id (see store/tables.erased_clients): it records
the erasure, once, and the client's export says so. Receipts keep their amounts."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from salon.clients.v1 import events_pb2 as clients_events
from services.common.consumer import EventConsumer
from services.common.events import Event, EventType
from services.common.runtime import ServiceContext
from services.payments.store import privacy_repository

CLIENTS_DURABLE = "payments-clients"
CLIENT_ERASED = EventType("clients", "client", "erased")
MAX_CLIENT_ID = 32


async def on_client_erased(conn: AsyncConnection, event: Event) -> None:
    client_id = event.parse(clients_events.ClientErased).client_id
    if client_id and len(client_id) <= MAX_CLIENT_ID:
        await privacy_repository.record_erasure(conn, event.organization_id, client_id, event.time)


def privacy_consumers(ctx: ServiceContext) -> list[EventConsumer]:
    assert ctx.js is not None
    return [
        EventConsumer(
            ctx.js,
            ctx.db,
            ctx.processed,
            stream=ctx.settings.events_stream,
            durable=CLIENTS_DURABLE,
            handlers={CLIENT_ERASED.name: (CLIENT_ERASED.filter(), on_client_erased)},
        )
    ]
