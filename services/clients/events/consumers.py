"""Every subscription of the clients service, in one place.

- `booking.appointment.booked | moved | completed` (the booking service): the client has
  history in the appointment's establishment (R10), so `clients(establishmentId)` lists
  them there and `Client.establishments` names it. A cancelled appointment is not
  listened to: the booked event already recorded the history (the visit was arranged
  there), and a cancel never removes it. An appointment of a client that is not one of
  the event's organization is ignored (logged): the history is only ever recorded for a
  client of the organization.

Recording history is idempotent (insert once, then only `last_at` moves), so duplicates
and any order of arrival end in the same rows; the consumer also applies each event id
once.

- `payments.receipt.created` (the payments service, durable "clients-payments"): a
  receipt of a client who has a loyalty card in the receipt's establishment credits that
  card with one point per whole euro of the receipt's total (R23: a card of another
  establishment earns nothing from it). A receipt credits once, whatever the event ids
  it arrives under (the credit is keyed by the receipt).
"""

from __future__ import annotations

import logging
from typing import Any, cast

from google.protobuf.message import Message
from nats.aio.msg import Msg
from sqlalchemy.ext.asyncio import AsyncConnection

from salon.booking.v1 import booking_pb2
from salon.booking.v1 import events_pb2 as booking_events
from salon.clients.v1 import events_pb2 as clients_events
from salon.payments.v1 import events_pb2 as payments_events
from services.clients.api.servicer import card_to_proto
from services.clients.domain import model
from services.clients.store import repository
from services.clients.store.tables import outbox
from services.common.consumer import EventConsumer, Handler
from services.common.events import Event, EventType
from services.common.outbox import record_event
from services.common.runtime import ServiceContext
from services.common.scope import Role, Scope

log = logging.getLogger("salon.clients.events")

BOOKING_DURABLE = "clients-booking"
PAYMENTS_DURABLE = "clients-payments"

RECEIPT_CREATED = EventType("payments", "receipt", "created")
LOYALTY_CARD_CREDITED = EventType("clients", "loyalty_card", "credited")
# The longest receipt id a credit remembers (the payments service's ids are 32 characters).
MAX_RECEIPT_ID = 64

APPOINTMENT_BOOKED = EventType("booking", "appointment", "booked")
APPOINTMENT_MOVED = EventType("booking", "appointment", "moved")
APPOINTMENT_COMPLETED = EventType("booking", "appointment", "completed")

# The appointment events that give a client history in an establishment, with their body.
HISTORY_EVENTS: dict[EventType, type[Message]] = {
    APPOINTMENT_BOOKED: booking_events.AppointmentBooked,
    APPOINTMENT_MOVED: booking_events.AppointmentMoved,
    APPOINTMENT_COMPLETED: booking_events.AppointmentCompleted,
}


def on_appointment(message_type: type[Message]) -> Handler:
    """A handler recording that the appointment's client has history in the appointment's
    establishment, in the consumer's transaction."""

    async def handle(conn: AsyncConnection, event: Event) -> None:
        body = event.parse(message_type)
        appointment = cast(booking_pb2.Appointment, body.appointment)  # type: ignore[attr-defined]
        org = event.organization_id
        client_id = appointment.client_id
        establishment_id = appointment.establishment_id or event.establishment_id
        if not client_id or not establishment_id:
            log.warning(
                "%s %s: appointment %s without client or establishment; ignored",
                event.type,
                event.id,
                appointment.id,
            )
            return
        # B07: an appointment of a merged id is history of the record it was merged into.
        resolved = await repository.resolve(conn, org, client_id)
        if resolved is None:
            log.warning(
                "%s %s: client %s is not one of organization %s; ignored",
                event.type,
                event.id,
                client_id,
                org,
            )
            return
        await repository.touch_history(conn, org, resolved, establishment_id)

    return handle


async def on_receipt_created(conn: AsyncConnection, event: Event) -> None:
    """Credit the client's loyalty card of the receipt's establishment (R23), with its
    event, in the consumer's transaction."""
    receipt = event.parse(payments_events.ReceiptCreated).receipt
    if not receipt.client_id:
        return  # an anonymous sale
    org = event.organization_id
    establishment_id = receipt.establishment_id or event.establishment_id
    if not establishment_id or not receipt.id or len(receipt.id) > MAX_RECEIPT_ID:
        log.warning(
            "%s %s: receipt %r without establishment or with an unusable id; ignored",
            event.type,
            event.id,
            receipt.id,
        )
        return
    try:
        points = model.points_earned(receipt.total)
    except ValueError:
        log.warning(
            "%s %s: receipt %s has no readable total (%r); no points",
            event.type,
            event.id,
            receipt.id,
            receipt.total,
        )
        return
    if points <= 0:
        return
    # B07: a receipt of a merged id credits the card of the record it was merged into.
    client_id = await repository.resolve(conn, org, receipt.client_id) or receipt.client_id
    card = await repository.credit_loyalty_card(
        conn, org, establishment_id, client_id, receipt.id, points
    )
    if card is None:
        return  # no card in this establishment, or this receipt credited it already
    # The event is the receipt's consequence: its organization, establishment and actor.
    scope = Scope(org, establishment_id, event.actor_id or "", Role.STAFF)
    await record_event(
        conn,
        outbox,
        LOYALTY_CARD_CREDITED,
        clients_events.LoyaltyCardCredited(
            card=card_to_proto(card), points=points, receipt_id=receipt.id
        ),
        scope,
        establishment_id=establishment_id,
    )


class LoyaltyConsumer(EventConsumer):
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
    return [
        EventConsumer(
            ctx.js,
            ctx.db,
            ctx.processed,
            stream=ctx.settings.events_stream,
            durable=BOOKING_DURABLE,
            handlers={
                kind.name: (kind.filter(), on_appointment(message_type))
                for kind, message_type in HISTORY_EVENTS.items()
            },
        ),
        LoyaltyConsumer(
            ctx,
            ctx.js,
            ctx.db,
            ctx.processed,
            stream=ctx.settings.events_stream,
            durable=PAYMENTS_DURABLE,
            handlers={RECEIPT_CREATED.name: (RECEIPT_CREATED.filter(), on_receipt_created)},
        ),
    ]
