"""B07: a ClientMerged event published into the stream as the clients service's relay does,
for the consumer tests of the services that hold client ids."""

from __future__ import annotations

import nats

from salon.clients.v1 import events_pb2 as clients_events
from services.common.db import new_id, utcnow
from services.common.events import Event, EventType

CLIENTS_MERGED = EventType("clients", "client", "merged")


async def publish_merged(
    nats_url: str, org: str, est: str, kept_id: str, merged_id: str, event_id: str = ""
) -> str:
    """Publish the merge of `merged_id` into `kept_id`; returns the event id (the same id
    again is a redelivery JetStream de-duplicates; a new one, one the consumer must take
    as a no-op)."""
    event = Event(
        id=event_id or new_id(),
        type=CLIENTS_MERGED.name,
        source="/salon/clients",
        time=utcnow(),
        organization_id=org,
        establishment_id=est,
        actor_id="u-manager",
        subject=CLIENTS_MERGED.subject(org, est),
        data=clients_events.ClientMerged(
            kept_client_id=kept_id, merged_client_id=merged_id
        ).SerializeToString(),
    )
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish(event.subject, event.data, headers=event.headers())
    finally:
        await nc.close()
    return event.id
