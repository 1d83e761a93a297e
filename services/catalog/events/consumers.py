"""Every subscription of the catalog service, in one place.

- `tenancy.establishment.created` (the gateway): the catalogue learns the establishment,
  and every service of the organization is created there (R11), deleted ones included so
  that a restore brings them back there too (B05).
- `booking.appointment.booked | moved | cancelled | completed` (the booking service): the
  catalogue keeps each appointment's service, start and status, to count a service's
  future appointments, the impact of its delete (B05). Its own durable consumer, created
  with the stream's whole history: a projection that starts late still sees every
  appointment, and the tenancy consumer is not held up by a failing booking event.
  Duplicates and any order of arrival end in the same row (`model.supersedes`).
"""

from __future__ import annotations

import logging
from datetime import UTC
from typing import cast

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncConnection

from salon.booking.v1 import booking_pb2
from salon.booking.v1 import events_pb2 as booking_events
from services.catalog.domain.model import AppointmentFact, AppointmentStatus
from services.catalog.store import repository
from services.catalog.store.tables import known_establishments
from services.common import tenancy_replica
from services.common.consumer import EventConsumer, Handler
from services.common.events import Event, EventType
from services.common.runtime import ServiceContext

log = logging.getLogger("salon.catalog.events")

TENANCY_DURABLE = "catalog-tenancy"
BOOKING_DURABLE = "catalog-booking"

APPOINTMENT_BOOKED = EventType("booking", "appointment", "booked")
APPOINTMENT_MOVED = EventType("booking", "appointment", "moved")
APPOINTMENT_CANCELLED = EventType("booking", "appointment", "cancelled")
APPOINTMENT_COMPLETED = EventType("booking", "appointment", "completed")

# Each appointment event: its body and the status it means when the appointment in it
# carries none.
APPOINTMENT_EVENTS: dict[EventType, tuple[type[Message], AppointmentStatus]] = {
    APPOINTMENT_BOOKED: (booking_events.AppointmentBooked, AppointmentStatus.BOOKED),
    APPOINTMENT_MOVED: (booking_events.AppointmentMoved, AppointmentStatus.BOOKED),
    APPOINTMENT_CANCELLED: (booking_events.AppointmentCancelled, AppointmentStatus.CANCELLED),
    APPOINTMENT_COMPLETED: (booking_events.AppointmentCompleted, AppointmentStatus.COMPLETED),
}

_STATUSES = {
    booking_pb2.APPOINTMENT_STATUS_BOOKED: AppointmentStatus.BOOKED,
    booking_pb2.APPOINTMENT_STATUS_CANCELLED: AppointmentStatus.CANCELLED,
    booking_pb2.APPOINTMENT_STATUS_COMPLETED: AppointmentStatus.COMPLETED,
    booking_pb2.APPOINTMENT_STATUS_NO_SHOW: AppointmentStatus.NO_SHOW,
}


def appointment_fact(
    event: Event, message_type: type[Message], default: AppointmentStatus
) -> AppointmentFact | None:
    """The appointment as the event gives it; None when it names no appointment."""
    body = event.parse(message_type)
    appointment = cast(booking_pb2.Appointment, body.appointment)  # type: ignore[attr-defined]
    if not appointment.id:
        return None
    at = event.time if event.time.tzinfo is not None else event.time.replace(tzinfo=UTC)
    return AppointmentFact(
        id=appointment.id,
        service_id=appointment.service_id,
        start_at=appointment.start.ToDatetime(tzinfo=UTC),
        status=_STATUSES.get(appointment.status, default),
        at=at,
        first=event.type == APPOINTMENT_BOOKED.name,
    )


def on_appointment(message_type: type[Message], default: AppointmentStatus) -> Handler:
    async def handle(conn: AsyncConnection, event: Event) -> None:
        fact = appointment_fact(event, message_type, default)
        if fact is None:
            log.warning("%s %s: no appointment id; ignored", event.type, event.id)
            return
        await repository.record_appointment(conn, event.organization_id, fact)

    return handle


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
        ),
        EventConsumer(
            ctx.js,
            ctx.db,
            ctx.processed,
            stream=ctx.settings.events_stream,
            durable=BOOKING_DURABLE,
            handlers={
                kind.name: (kind.filter(), on_appointment(message_type, default))
                for kind, (message_type, default) in APPOINTMENT_EVENTS.items()
            },
        ),
    ]
