from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.schema.base import AUTHENTICATED, UserError, user_errors
from gateway.schema.booking.hours import OpeningHours
from gateway.schema.booking.inputs import (
    BookAppointmentInput,
    CancelAppointmentInput,
    OpeningHoursInput,
    SetOpeningHoursInput,
    SetStaffHoursInput,
)
from gateway.schema.booking.types import Appointment
from gateway.schema.tenancy.types import Establishment, load_establishment
from gateway.store import tenancy
from salon.booking.v1 import booking_pb2
from services.common.errors import DomainError, invalid


@strawberry.type
class SetOpeningHoursPayload:
    establishment: Establishment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SetStaffHoursPayload:
    hours: list[OpeningHours] = strawberry.field(default_factory=list)
    establishment: Establishment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class BookAppointmentPayload:
    appointment: Appointment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CancelAppointmentPayload:
    appointment: Appointment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _hours(hours: list[OpeningHoursInput]) -> list[booking_pb2.OpeningHours]:
    return [
        booking_pb2.OpeningHours(weekday=h.weekday, opens=h.opens, closes=h.closes) for h in hours
    ]


async def _vouch_member(info: Info[Context, None], user_id: str) -> None:
    """The gateway owns memberships: a member of the session establishment is vouched for
    in the signed scope (the booking service may not have had the event yet)."""
    ctx = info.context
    session = ctx.session()
    async with ctx.state.db.read(organization_id=ctx.organization_id()) as conn:
        member = await tenancy.membership(
            conn, session.organization_id, user_id, session.establishment_id
        )
    if member is not None:
        ctx.vouch_member(user_id)


@strawberry.type
class BookingMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def set_opening_hours(
        self, info: Info[Context, None], input: SetOpeningHoursInput
    ) -> SetOpeningHoursPayload:
        ctx = info.context
        try:
            reply = await ctx.call(
                "booking",
                ctx.state.backends.booking.SetOpeningHours,
                booking_pb2.SetOpeningHoursRequest(hours=_hours(input.hours)),
            )
        except DomainError as exc:
            return SetOpeningHoursPayload(errors=user_errors(exc))
        ctx.loaders.opening_hours_by_establishment.prime(
            reply.establishment_id, list(reply.hours), force=True
        )
        return SetOpeningHoursPayload(
            establishment=await load_establishment(info, reply.establishment_id)
        )

    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def set_staff_hours(
        self, info: Info[Context, None], input: SetStaffHoursInput
    ) -> SetStaffHoursPayload:
        ctx = info.context
        try:
            await _vouch_member(info, str(input.user_id))
            reply = await ctx.call(
                "booking",
                ctx.state.backends.booking.SetStaffHours,
                booking_pb2.SetStaffHoursRequest(
                    staff_id=str(input.user_id), hours=_hours(input.hours)
                ),
            )
        except DomainError as exc:
            return SetStaffHoursPayload(errors=user_errors(exc))
        return SetStaffHoursPayload(
            hours=[OpeningHours.of(h) for h in reply.hours],
            establishment=await load_establishment(info, reply.establishment_id),
        )

    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def book_appointment(
        self, info: Info[Context, None], input: BookAppointmentInput
    ) -> BookAppointmentPayload:
        ctx = info.context
        try:
            if input.start.tzinfo is None:
                raise invalid("start", "needs a timezone offset, e.g. 2027-03-01T10:00:00+01:00")
            request = booking_pb2.BookAppointmentRequest(
                client_id=str(input.client_id), service_id=str(input.service_id)
            )
            request.start.FromDatetime(input.start)
            if input.staff_id is not None:
                await _vouch_member(info, str(input.staff_id))
                request.staff_id = str(input.staff_id)
            reply = await ctx.call("booking", ctx.state.backends.booking.BookAppointment, request)
        except DomainError as exc:
            return BookAppointmentPayload(errors=user_errors(exc))
        return BookAppointmentPayload(appointment=Appointment.of(reply))

    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def cancel_appointment(
        self, info: Info[Context, None], input: CancelAppointmentInput
    ) -> CancelAppointmentPayload:
        ctx = info.context
        try:
            reply = await ctx.call(
                "booking",
                ctx.state.backends.booking.CancelAppointment,
                booking_pb2.CancelAppointmentRequest(id=str(input.id)),
            )
        except DomainError as exc:
            return CancelAppointmentPayload(errors=user_errors(exc))
        return CancelAppointmentPayload(appointment=Appointment.of(reply))
