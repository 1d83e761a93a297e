"""Every subscription of the catalog service, in one place.

- `tenancy.establishment.created` (the gateway): the catalogue learns the establishment,
  and every service of the organization is created there (R11), deleted ones included so
  that a restore brings them back there too (B05).
"""

from __future__ import annotations

from services.catalog.store import repository
from services.catalog.store.tables import known_establishments
from services.common import tenancy_replica
from services.common.consumer import EventConsumer
from services.common.runtime import ServiceContext

TENANCY_DURABLE = "catalog-tenancy"


def consumers(ctx: ServiceContext) -> list[EventConsumer]:
    assert ctx.js is not None
    created = tenancy_replica.ESTABLISHMENT_CREATED
    return [
        EventConsumer(
            ctx.js,
            ctx.db,
            ctx.processed,
            stream=ctx.settings.events_stream,
            durable=TENANCY_DURABLE,
            handlers={
                created.name: (
                    created.filter(),
                    tenancy_replica.on_establishment_created(
                        known_establishments, then=repository.add_establishment
                    ),
                )
            },
        )
    ]
