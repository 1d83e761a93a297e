"""Every subscription of the inventory service, in one place."""

from __future__ import annotations

from services.common import tenancy_replica
from services.common.consumer import EventConsumer
from services.common.runtime import ServiceContext
from services.inventory.store.tables import known_establishments


def consumers(ctx: ServiceContext) -> list[EventConsumer]:
    assert ctx.js is not None
    return [
        # Every establishment of the organization, so that a transfer to one, or a change
        # in one by a user with MANAGE_OTHER_PRODUCTS, finds it (NOT_FOUND otherwise).
        EventConsumer(
            ctx.js,
            ctx.db,
            ctx.processed,
            stream=ctx.settings.events_stream,
            durable="inventory-tenancy",
            handlers={
                tenancy_replica.ESTABLISHMENT_CREATED.name: (
                    tenancy_replica.ESTABLISHMENT_CREATED.filter(),
                    tenancy_replica.on_establishment_created(known_establishments),
                )
            },
        )
    ]
