from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.schema.base import AUTHENTICATED, establishment_for_query
from gateway.schema.booking.types import Appointment, Slot, prefetch_appointments
from salon.booking.v1 import booking_pb2
from services.common.scope import Right


@strawberry.type
class BookingQuery:
    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="A day of the establishment (default: the session's); another "
        "establishment needs SWITCH_AGENDA (R04).",
    )
    async def agenda(
        self, info: Info[Context, None], date: date, establishment_id: strawberry.ID | None = None
    ) -> list[Appointment]:
        ctx = info.context
        est = await establishment_for_query(info, establishment_id, Right.SWITCH_AGENDA)
        reply = await ctx.call(
            "booking",
            ctx.state.backends.booking.ListAgenda,
            booking_pb2.ListAgendaRequest(date=date.isoformat(), establishment_id=est),
        )
        appointments = [Appointment.of(a) for a in reply.appointments]
        await prefetch_appointments(info, appointments)
        return appointments

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="Free slots of a service on a day, per staff member (B09: a person busy "
        "in another establishment is not free).",
    )
    async def availability(
        self,
        info: Info[Context, None],
        service_id: strawberry.ID,
        date: date,
        establishment_id: strawberry.ID | None = None,
    ) -> list[Slot]:
        ctx = info.context
        est = await establishment_for_query(info, establishment_id, None)
        reply = await ctx.call(
            "booking",
            ctx.state.backends.booking.Availability,
            booking_pb2.AvailabilityRequest(
                service_id=str(service_id), date=date.isoformat(), establishment_id=est
            ),
        )
        return [Slot.of(s) for s in reply.slots]
