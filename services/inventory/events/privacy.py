"""B11: `clients.client.erased` (durable "inventory-clients"). The inventory service keeps no
personal data of a client, so there is nothing to anonymise: the event is taken (and its id
remembered by the consumer, once) and logged."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncConnection

from salon.clients.v1 import events_pb2 as clients_events
from services.common.consumer import EventConsumer
from services.common.events import Event, EventType
from services.common.runtime import ServiceContext

log = logging.getLogger("salon.inventory.events")

CLIENTS_DURABLE = "inventory-clients"
CLIENT_ERASED = EventType("clients", "client", "erased")


async def on_client_erased(conn: AsyncConnection, event: Event) -> None:
    client_id = event.parse(clients_events.ClientErased).client_id
    log.info(
        "%s %s: client %s erased; nothing of theirs is kept here", event.type, event.id, client_id
    )


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
