"""Every subscription of the booking service, in one place.

One durable consumer, "booking-tenancy", for the gateway's tenancy events:

- `tenancy.establishment.created`: the establishment becomes known, with its timezone (the
  hours of its agenda are local wall times there). The row may already exist, remembered
  from a caller's scope without a timezone: the event's timezone fills it in.
- `tenancy.membership.added`: the user becomes a member of the establishment, so that they
  can be booked there and appear in its availability (R22).
"""

from __future__ import annotations

from services.booking.store.tables import known_establishments, known_members
from services.common import tenancy_replica
from services.common.consumer import EventConsumer
from services.common.runtime import ServiceContext

TENANCY_DURABLE = "booking-tenancy"


on_establishment_created = tenancy_replica.on_establishment_created(known_establishments)


def consumers(ctx: ServiceContext) -> list[EventConsumer]:
    assert ctx.js is not None
    created = tenancy_replica.ESTABLISHMENT_CREATED
    member = tenancy_replica.MEMBERSHIP_ADDED
    return [
        EventConsumer(
            ctx.js,
            ctx.db,
            ctx.processed,
            stream=ctx.settings.events_stream,
            durable=TENANCY_DURABLE,
            handlers={
                created.name: (created.filter(), on_establishment_created),
                member.name: (
                    member.filter(),
                    tenancy_replica.on_membership_added(known_members),
                ),
            },
        )
    ]
