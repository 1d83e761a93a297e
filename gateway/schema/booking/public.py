"""The public booking page (R16, R26, B01): no session; each operation runs for the
organization of the establishment (or slug) it names, without a user."""

from __future__ import annotations

from datetime import date, datetime

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.errors import NotFound
from gateway.schema.base import Money, UserError, user_errors
from gateway.schema.booking.types import Appointment, Slot
from gateway.schema.catalog.types import Service
from gateway.schema.tenancy.types import Establishment, Organization
from gateway.store import tenancy
from salon.booking.v1 import booking_pb2
from salon.catalog.v1 import catalog_pb2
from services.common.errors import DomainError, invalid, not_found

MAX_TOKEN = 200


async def enter(info: Info[Context, None], establishment_id: strawberry.ID) -> str:
    """Run the rest of the request for this establishment's organization; its id."""
    ctx = info.context
    # Across organizations: the public page names an establishment, not yet its
    # organization; the rest of the request runs under the organization found.
    async with ctx.state.db.read(across_organizations=True) as conn:
        est = await tenancy.public_establishment(conn, str(establishment_id))
    if est is None:
        raise not_found("establishment", "establishmentId")
    ctx.use_public(est.organization_id, est.id)
    ctx.vouch(est.id)
    return est.id


async def enter_query(info: Info[Context, None], establishment_id: strawberry.ID) -> str:
    try:
        return await enter(info, establishment_id)
    except DomainError as exc:
        raise NotFound(exc.message) from None


async def organization(info: Info[Context, None], slug: str) -> tenancy.Organization | None:
    # Across organizations: a public page is found by its organization's slug.
    async with info.context.state.db.read(across_organizations=True) as conn:
        return await tenancy.organization_by_slug(conn, slug[:80])


async def _slots(info: Info[Context, None], est: str, service_id: str, day: date) -> list[Slot]:
    ctx = info.context
    reply = await ctx.call(
        "booking",
        ctx.state.backends.booking.Availability,
        booking_pb2.AvailabilityRequest(
            service_id=service_id, date=day.isoformat(), establishment_id=est, online_only=True
        ),
    )
    return [Slot.of(s) for s in reply.slots]


@strawberry.type
class EstablishmentSlots:
    establishment: Establishment
    slots: list[Slot]


@strawberry.type
class PublicQuery:
    @strawberry.field(
        description="One page for the organization, its establishments side by "
        "side (R16). null when no organization has this slug."
    )
    async def public_booking_page(
        self, info: Info[Context, None], organization_slug: str
    ) -> Organization | None:
        org = await organization(info, organization_slug)
        if org is None:
            return None
        async with info.context.state.db.read(organization_id=org.id) as conn:
            first = (await tenancy.establishments_of(conn, org.id))[:1]
        if first:
            info.context.use_public(org.id, first[0].id)
        return Organization.of(org)

    @strawberry.field(description="The services bookable online there, with its values.")
    async def public_services(
        self, info: Info[Context, None], establishment_id: strawberry.ID
    ) -> list[Service]:
        ctx = info.context
        est = await enter_query(info, establishment_id)
        reply = await ctx.call(
            "catalog",
            ctx.state.backends.catalog.ListServices,
            catalog_pb2.ListServicesRequest(establishment_id=est, bookable_online_only=True),
        )
        return [Service.of(s) for s in reply.services]

    @strawberry.field(description="Free slots of a service bookable online there.")
    async def public_availability(
        self,
        info: Info[Context, None],
        establishment_id: strawberry.ID,
        service_id: strawberry.ID,
        date: date,
    ) -> list[Slot]:
        est = await enter_query(info, establishment_id)
        try:
            return await _slots(info, est, str(service_id), date)
        except DomainError as exc:
            raise NotFound(exc.message) from None

    @strawberry.field(
        description="B01: the free slots of one service in every establishment at "
        "once (where it is bookable online)."
    )
    async def public_availability_across(
        self,
        info: Info[Context, None],
        organization_slug: str,
        service_id: strawberry.ID,
        date: date,
    ) -> list[EstablishmentSlots]:
        ctx = info.context
        org = await organization(info, organization_slug)
        if org is None:
            return []
        async with ctx.state.db.read(organization_id=org.id) as conn:
            establishments = await tenancy.establishments_of(conn, org.id)
        if not establishments:
            return []
        ctx.use_public(org.id, establishments[0].id)
        out = []
        for est in establishments:
            ctx.vouch(est.id)
            try:
                slots = await _slots(info, est.id, str(service_id), date)
            except DomainError:
                continue  # not offered online there
            out.append(EstablishmentSlots(establishment=Establishment.of(est), slots=slots))
        return out

    @strawberry.field(
        description="R26: the token's client's appointments in that establishment only."
    )
    async def public_appointments(
        self, info: Info[Context, None], establishment_id: strawberry.ID, manage_token: str
    ) -> list[Appointment]:
        ctx = info.context
        await enter_query(info, establishment_id)
        if len(manage_token) > MAX_TOKEN:
            return []
        reply = await ctx.call(
            "booking",
            ctx.state.backends.booking.PublicAppointments,
            booking_pb2.PublicAppointmentsRequest(manage_token=manage_token),
        )
        return [Appointment.of(a) for a in reply.appointments]


@strawberry.input
class PublicBookInput:
    establishment_id: strawberry.ID
    service_id: strawberry.ID
    start: datetime
    first_name: str
    last_name: str
    email: str
    phone: str | None = None
    deposit: Money | None = None


@strawberry.type
class PublicBookPayload:
    appointment: Appointment | None = None
    manage_token: str | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class PublicCancelInput:
    establishment_id: strawberry.ID
    manage_token: str
    appointment_id: strawberry.ID


@strawberry.type
class PublicCancelPayload:
    appointment: Appointment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class PublicRescheduleInput:
    establishment_id: strawberry.ID
    manage_token: str
    appointment_id: strawberry.ID
    start: datetime


@strawberry.type
class PublicReschedulePayload:
    appointment: Appointment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise invalid("start", "needs a timezone offset, e.g. 2027-03-01T10:00:00+01:00")
    return value


def _token(value: str) -> str:
    if not value or len(value) > MAX_TOKEN:
        raise not_found("appointment", "manageToken")
    return value


@strawberry.type
class PublicMutation:
    @strawberry.mutation(
        description="Books online in one establishment (R16): finds or creates "
        "the client in the shared file; answers a manage token (R26)."
    )
    async def public_book(
        self, info: Info[Context, None], input: PublicBookInput
    ) -> PublicBookPayload:
        ctx = info.context
        try:
            await enter(info, input.establishment_id)
            request = booking_pb2.PublicBookRequest(
                service_id=str(input.service_id),
                first_name=input.first_name,
                last_name=input.last_name,
                email=input.email,
                phone=input.phone or "",
                deposit=input.deposit or "",
            )
            request.start.FromDatetime(_aware(input.start))
            reply = await ctx.call("booking", ctx.state.backends.booking.PublicBook, request)
        except DomainError as exc:
            return PublicBookPayload(errors=user_errors(exc))
        return PublicBookPayload(
            appointment=Appointment.of(reply.appointment), manage_token=reply.manage_token
        )

    @strawberry.mutation
    async def public_cancel(
        self, info: Info[Context, None], input: PublicCancelInput
    ) -> PublicCancelPayload:
        ctx = info.context
        try:
            await enter(info, input.establishment_id)
            reply = await ctx.call(
                "booking",
                ctx.state.backends.booking.PublicCancel,
                booking_pb2.PublicCancelRequest(
                    manage_token=_token(input.manage_token),
                    appointment_id=str(input.appointment_id),
                ),
            )
        except DomainError as exc:
            return PublicCancelPayload(errors=user_errors(exc))
        return PublicCancelPayload(appointment=Appointment.of(reply))

    @strawberry.mutation
    async def public_reschedule(
        self, info: Info[Context, None], input: PublicRescheduleInput
    ) -> PublicReschedulePayload:
        ctx = info.context
        try:
            await enter(info, input.establishment_id)
            request = booking_pb2.PublicRescheduleRequest(
                manage_token=_token(input.manage_token),
                appointment_id=str(input.appointment_id),
            )
            request.start.FromDatetime(_aware(input.start))
            reply = await ctx.call("booking", ctx.state.backends.booking.PublicReschedule, request)
        except DomainError as exc:
            return PublicReschedulePayload(errors=user_errors(exc))
        return PublicReschedulePayload(appointment=Appointment.of(reply))
