"""B11: `clients.client.erased` (durable "booking-clients"): the booking service drops its
copies of the client's personal data (see store/privacy_repository.erase). Idempotent, and
the consumer applies each event id once."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from salon.clients.v1 import events_pb2 as clients_events
from services.booking.store import privacy_repository
from services.common.consumer import EventConsumer
from services.common.events import Event, EventType
from services.common.runtime import ServiceContext

CLIENTS_DURABLE = "booking-clients"
CLIENT_ERASED = EventType("clients", "client", "erased")


async def on_client_erased(conn: AsyncConnection, event: Event) -> None:
    client_id = event.parse(clients_events.ClientErased).client_id
    if client_id:
        await privacy_repository.erase(conn, event.organization_id, client_id)


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
