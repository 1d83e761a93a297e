"""Every subscription of the payments service, in one place.

- `tenancy.establishment.created` (the gateway): the service learns the establishment and
  its timezone (the local days of receipts and reports; R06 checks another establishment
  is the organization's).
- `booking.appointment.booked | moved | cancelled | completed` (the booking service): the
  appointments the reports count (R27), each with its establishment, start and status.
  Its own durable consumer, created with the stream's whole history: a projection that
  starts late still sees every appointment. Duplicates and any order of arrival end in the
  same row (domain.reports.supersedes).
"""

from __future__ import annotations

import logging
from datetime import UTC
from typing import cast

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncConnection

from salon.booking.v1 import booking_pb2
from salon.booking.v1 import events_pb2 as booking_events
from services.common import tenancy_replica
from services.common.consumer import EventConsumer, Handler
from services.common.events import Event, EventType
from services.common.runtime import ServiceContext
from services.payments.domain.reports import AppointmentFact, AppointmentStatus
from services.payments.store import reports_repository
from services.payments.store.tables import known_establishments

log = logging.getLogger("salon.payments.events")

TENANCY_DURABLE = "payments-tenancy"
BOOKING_DURABLE = "payments-booking"

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
    """The appointment as the event gives it; None when it names no appointment or no
    establishment."""
    body = event.parse(message_type)
    appointment = cast(booking_pb2.Appointment, body.appointment)  # type: ignore[attr-defined]
    establishment_id = appointment.establishment_id or event.establishment_id or ""
    if not appointment.id or not establishment_id:
        return None
    at = event.time if event.time.tzinfo is not None else event.time.replace(tzinfo=UTC)
    return AppointmentFact(
        id=appointment.id,
        establishment_id=establishment_id,
        start=appointment.start.ToDatetime(tzinfo=UTC),
        status=_STATUSES.get(appointment.status, default),
        at=at,
        first=event.type == APPOINTMENT_BOOKED.name,
    )


def on_appointment(message_type: type[Message], default: AppointmentStatus) -> Handler:
    async def handle(conn: AsyncConnection, event: Event) -> None:
        fact = appointment_fact(event, message_type, default)
        if fact is None:
            log.warning("%s %s: no appointment or establishment; ignored", event.type, event.id)
            return
        await reports_repository.record_appointment(conn, event.organization_id, fact)

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
                    tenancy_replica.on_establishment_created(known_establishments),
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
