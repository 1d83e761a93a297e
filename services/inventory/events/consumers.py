"""Every subscription of the inventory service, in one place.

- "inventory-tenancy", `tenancy.establishment.created`: every establishment of the
  organization becomes known, so that a transfer to one, or a change in one by a user with
  MANAGE_OTHER_PRODUCTS, finds it (NOT_FOUND otherwise).
- "inventory-payments", `payments.receipt.created`: the receipt of a checkout exists, so
  its stock reservation (in the receipt's establishment) goes from HELD to COMMITTED: its
  stock stays sold and a late release is refused. Committing twice changes nothing; a
  reservation already released (the saga compensated although the receipt was written) or
  unknown stays as it is and is logged as an anomaly: the books and the stock disagree, a
  person has to look.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncConnection

from salon.payments.v1 import events_pb2 as payments_events
from services.common import tenancy_replica
from services.common.consumer import EventConsumer
from services.common.events import Event, EventType
from services.common.runtime import ServiceContext
from services.inventory.domain.model import ReservationStatus
from services.inventory.store import repository
from services.inventory.store.tables import known_establishments

log = logging.getLogger("salon.inventory.events")

TENANCY_DURABLE = "inventory-tenancy"
PAYMENTS_DURABLE = "inventory-payments"

RECEIPT_CREATED = EventType("payments", "receipt", "created")


async def on_receipt_created(conn: AsyncConnection, event: Event) -> None:
    """Commit the receipt's stock reservation, in the consumer's transaction."""
    receipt = event.parse(payments_events.ReceiptCreated).receipt
    if not receipt.reservation_id:
        return  # no products on the receipt
    establishment_id = receipt.establishment_id or event.establishment_id
    if not establishment_id:
        log.error(
            "%s %s: receipt %s without establishment; reservation %s left as it is",
            event.type,
            event.id,
            receipt.id,
            receipt.reservation_id,
        )
        return
    status, committed = await repository.commit(
        conn, event.organization_id, establishment_id, receipt.reservation_id
    )
    if committed or status is ReservationStatus.COMMITTED:
        return
    log.error(
        "%s %s: anomaly: receipt %s of establishment %s names reservation %s, which is %s; "
        "left as it is",
        event.type,
        event.id,
        receipt.id,
        establishment_id,
        receipt.reservation_id,
        "unknown" if status is None else status.value,
    )


def consumers(ctx: ServiceContext) -> list[EventConsumer]:
    assert ctx.js is not None
    return [
        EventConsumer(
            ctx.js,
            ctx.db,
            ctx.processed,
            stream=ctx.settings.events_stream,
            durable=TENANCY_DURABLE,
            handlers={
                tenancy_replica.ESTABLISHMENT_CREATED.name: (
                    tenancy_replica.ESTABLISHMENT_CREATED.filter(),
                    tenancy_replica.on_establishment_created(known_establishments),
                )
            },
        ),
        EventConsumer(
            ctx.js,
            ctx.db,
            ctx.processed,
            stream=ctx.settings.events_stream,
            durable=PAYMENTS_DURABLE,
            handlers={
                RECEIPT_CREATED.name: (RECEIPT_CREATED.filter(), on_receipt_created),
            },
        ),
    ]
