"""Every subscription of the booking service, in one place (the mail queue's is in
mail/queue.py).

One durable consumer, "booking-tenancy", for the gateway's tenancy events:

- `tenancy.establishment.created`: the establishment becomes known, with its timezone (the
  hours of its agenda are local wall times there). The row may already exist, remembered
  from a caller's scope without a timezone: the event's timezone fills it in.
- `tenancy.membership.added`: the user becomes a member of the establishment, so that they
  can be booked there and appear in its availability (R22).

One, "booking-payments", for the till:

- `payments.receipt.created`: a receipt naming an appointment means the appointment was
  checked out: BOOKED becomes COMPLETED (one conditional update), with its
  `booking.appointment.completed` event, which the mail queue follows (pending reminders
  are cancelled) and the client file too (history). An appointment of the event's
  organization only (R01), in whatever establishment it is; one cancelled, completed
  already or unknown stays as it is, so a redelivery changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from nats.aio.msg import Msg
from sqlalchemy.ext.asyncio import AsyncConnection

from salon.booking.v1 import events_pb2
from salon.payments.v1 import events_pb2 as payments_events
from services.booking.api.servicer import appointment_to_proto
from services.booking.store import repository
from services.booking.store.tables import known_establishments, known_members, outbox
from services.common import tenancy_replica
from services.common.consumer import EventConsumer
from services.common.events import Event, EventType
from services.common.outbox import record_event
from services.common.runtime import ServiceContext
from services.common.scope import Role, Scope

log = logging.getLogger("salon.booking.events")

TENANCY_DURABLE = "booking-tenancy"
PAYMENTS_DURABLE = "booking-payments"

RECEIPT_CREATED = EventType("payments", "receipt", "created")
APPOINTMENT_COMPLETED = EventType("booking", "appointment", "completed")


on_establishment_created = tenancy_replica.on_establishment_created(known_establishments)


async def on_receipt_created(conn: AsyncConnection, event: Event) -> None:
    """Complete the receipt's appointment, with its event, in the consumer's transaction."""
    receipt = event.parse(payments_events.ReceiptCreated).receipt
    if not receipt.appointment_id:
        return  # a sale without an appointment
    org = event.organization_id
    appointment = await repository.complete(conn, org, receipt.appointment_id)
    if appointment is None:
        log.info(
            "%s %s: appointment %s of receipt %s is not a booked appointment of "
            "organization %s; left as it is",
            event.type,
            event.id,
            receipt.appointment_id,
            receipt.id,
            org,
        )
        return
    # The event is the checkout's consequence: its organization and actor, the
    # appointment's establishment.
    scope = Scope(org, appointment.establishment_id, event.actor_id or "", Role.STAFF)
    await record_event(
        conn,
        outbox,
        APPOINTMENT_COMPLETED,
        events_pb2.AppointmentCompleted(appointment=appointment_to_proto(appointment)),
        scope,
        establishment_id=appointment.establishment_id,
    )


class OutboxWakingConsumer(EventConsumer):
    """An EventConsumer whose handlers record events: the outbox relay is woken after
    each message's transaction commits, so they go out now rather than at its next poll."""

    def __init__(self, ctx: ServiceContext, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ctx = ctx

    async def handle(self, msg: Msg) -> None:
        await super().handle(msg)
        self.ctx.wake_relay()


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
        ),
        OutboxWakingConsumer(
            ctx,
            ctx.js,
            ctx.db,
            ctx.processed,
            stream=ctx.settings.events_stream,
            durable=PAYMENTS_DURABLE,
            handlers={RECEIPT_CREATED.name: (RECEIPT_CREATED.filter(), on_receipt_created)},
        ),
    ]
