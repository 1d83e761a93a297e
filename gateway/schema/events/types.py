"""Event (B06): one event as a subscription delivers it."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.events import registry
from services.common import events


@strawberry.type(
    description="A change, as published on NATS (docs/events.md): its CloudEvents "
    "attributes and its protobuf message as JSON."
)
class Event:
    id: strawberry.ID = strawberry.field(description="The event id (ce-id), unique.")
    type: str = strawberry.field(
        description='The event type (ce-type): "salon.clients.client.created.v1".'
    )
    establishment_id: strawberry.ID | None = strawberry.field(
        description="Null for a change of what the whole organization shares."
    )
    occurred_at: datetime
    data: str = strawberry.field(
        description="The message as JSON (the proto3 JSON mapping: lowerCamelCase names, "
        'every field present); "{}" for a type this gateway does not know yet.'
    )

    @classmethod
    def of(cls, event: events.Event) -> Event:
        message = registry.decode(event.type, event.data)
        return cls(
            id=strawberry.ID(event.id),
            type=event.type,
            establishment_id=strawberry.ID(event.establishment_id)
            if event.establishment_id
            else None,
            occurred_at=event.time,
            data=registry.to_json(message) if message is not None else "{}",
        )
