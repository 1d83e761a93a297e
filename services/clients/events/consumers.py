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
"""

from __future__ import annotations

import logging
from typing import cast

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncConnection

from salon.booking.v1 import booking_pb2
from salon.booking.v1 import events_pb2 as booking_events
from services.clients.store import repository
from services.common.consumer import EventConsumer, Handler
from services.common.events import Event, EventType
from services.common.runtime import ServiceContext

log = logging.getLogger("salon.clients.events")

BOOKING_DURABLE = "clients-booking"

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
        if not await repository.exists(conn, org, client_id):
            log.warning(
                "%s %s: client %s is not one of organization %s; ignored",
                event.type,
                event.id,
                client_id,
                org,
            )
            return
        await repository.touch_history(conn, org, client_id, establishment_id)

    return handle


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
        )
    ]
