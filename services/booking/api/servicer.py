"""gRPC API of the agenda: protobuf in, domain calls, protobuf out.

Writes act on the session establishment of the signed scope (R07, R21). The peers are
asked before any write transaction opens, so no lock is held across a call: the clients
service (does the client exist in the organization's file, R10) and the catalogue (does the
service exist, and how long does it take in this establishment, R12). Each write records
its event in the same transaction and wakes the relay after commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.ext.asyncio import AsyncConnection

from salon.booking.v1 import booking_pb2, booking_pb2_grpc, events_pb2
from salon.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from salon.clients.v1 import clients_pb2, clients_pb2_grpc
from services.booking.domain import model
from services.booking.store import repository
from services.booking.store.tables import known_establishments, known_members, outbox
from services.common import access, tenancy_replica
from services.common.db import utcnow
from services.common.errors import DomainError, ErrorCode, not_found
from services.common.events import EventType
from services.common.outbox import record_event
from services.common.runtime import ServiceContext
from services.common.scope import Right, Scope, current_scope

APPOINTMENT_BOOKED = EventType("booking", "appointment", "booked")
APPOINTMENT_CANCELLED = EventType("booking", "appointment", "cancelled")
OPENING_HOURS_SET = EventType("booking", "opening_hours", "set")


def _ts(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def status_to_proto(status: model.Status) -> booking_pb2.AppointmentStatus.ValueType:
    return booking_pb2.AppointmentStatus.Value(f"APPOINTMENT_STATUS_{status.value}")


def hours_to_proto(hours: Iterable[model.HoursRange]) -> list[booking_pb2.OpeningHours]:
    return [
        booking_pb2.OpeningHours(weekday=h.weekday, opens=h.opens_text, closes=h.closes_text)
        for h in hours
    ]


def hours_from_proto(hours: Iterable[booking_pb2.OpeningHours]) -> list[model.HoursRange]:
    return model.check_hours((h.weekday, h.opens, h.closes) for h in hours)


def appointment_to_proto(appointment: model.Appointment) -> booking_pb2.Appointment:
    return booking_pb2.Appointment(
        id=appointment.id,
        establishment_id=appointment.establishment_id,
        client_id=appointment.client_id,
        service_id=appointment.service_id,
        staff_id=appointment.staff_id,
        start=_ts(appointment.start),
        end=_ts(appointment.end),
        status=status_to_proto(appointment.status),
    )


def appointments_to_proto(
    appointments: Iterable[model.Appointment],
) -> booking_pb2.ListAppointmentsResponse:
    return booking_pb2.ListAppointmentsResponse(
        appointments=[appointment_to_proto(a) for a in appointments]
    )


def slot_to_proto(slot: model.Slot) -> booking_pb2.Slot:
    return booking_pb2.Slot(start=_ts(slot.start), end=_ts(slot.end), staff_id=slot.staff_id)


async def _readable_target(
    session: AsyncConnection,
    scope: Scope,
    requested: str,
    right: Right | None,
    field: str = "establishmentId",
) -> str:
    """access.target_establishment without its writes, so that it may run in a read
    transaction (an SQLite reader must not write): the session establishment is returned
    as is; one the gateway vouched for in this request is taken without being remembered
    (its tenancy event makes it known soon enough); any other one must be known in the
    organization (NOT_FOUND otherwise, R01). Then FORBIDDEN without the right (R04)."""
    if not requested or requested == scope.establishment_id:
        return scope.establishment_id
    if requested not in scope.verified_establishments:
        return await access.target_establishment(
            session, known_establishments, scope, requested, right, field
        )
    if right is not None and not scope.has_right(right):
        raise DomainError(
            ErrorCode.FORBIDDEN, f"{right.value} is needed to act on another establishment", field
        )
    return requested


async def _timezone(
    session: AsyncConnection, organization_id: str, establishment_id: str
) -> ZoneInfo:
    # Unknown until the gateway's establishment-created event arrives (the establishment
    # may be known only from a caller's scope): then model.DEFAULT_TIMEZONE,
    # "Europe/Brussels".
    return model.zone(
        await repository.establishment_timezone(session, organization_id, establishment_id)
    )


def _candidates(members: Sequence[str], verified: Iterable[str]) -> list[str]:
    """The known members in their order (members_of), then those the gateway vouched for
    in this request that the events have not brought yet."""
    known = list(members)
    return known + sorted(set(verified) - set(known))


class BookingServicer(booking_pb2_grpc.BookingServiceServicer):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # -- peers ----------------------------------------------------------------------------

    async def _check_client_exists(self, client_id: str) -> None:
        """The client file is the organization's (R10): any establishment books any client."""
        stub = clients_pb2_grpc.ClientsServiceStub(self.ctx.channel("clients"))
        reply = await self.ctx.call(
            "clients", stub.GetClients, clients_pb2.GetClientsRequest(ids=[client_id])
        )
        if not any(c.id == client_id for c in reply.clients):
            raise not_found("client", "clientId")

    async def _service_duration(
        self, service_id: str, establishment_id: str, *, online_only: bool = False
    ) -> timedelta:
        """The service's duration in that establishment (R12); a deleted or unknown
        service is not found, and so is one not bookable online there when `online_only`."""
        stub = catalog_pb2_grpc.CatalogServiceStub(self.ctx.channel("catalog"))
        reply = await self.ctx.call(
            "catalog",
            stub.GetServices,
            catalog_pb2.GetServicesRequest(ids=[service_id], establishment_id=establishment_id),
        )
        found = next((s for s in reply.services if s.id == service_id), None)
        if found is None or (online_only and not found.bookable_online):
            raise not_found("service", "serviceId")
        return model.check_duration(found.duration_minutes)

    # -- hours (R21, R22) -----------------------------------------------------------------

    async def SetOpeningHours(
        self, request: booking_pb2.SetOpeningHoursRequest, context: grpc.aio.ServicerContext
    ) -> booking_pb2.EstablishmentHours:
        scope = current_scope()
        hours = hours_from_proto(request.hours)
        async with self.ctx.db.write() as session:
            est = await access.target_establishment(session, known_establishments, scope, "", None)
            await repository.replace_opening_hours(session, scope.organization_id, est, hours)
            message = booking_pb2.EstablishmentHours(
                establishment_id=est, hours=hours_to_proto(hours)
            )
            await record_event(
                session,
                outbox,
                OPENING_HOURS_SET,
                events_pb2.OpeningHoursSet(hours=message),
                scope,
                establishment_id=est,
            )
        self.ctx.wake_relay()
        return message

    async def GetOpeningHours(
        self, request: booking_pb2.GetOpeningHoursRequest, context: grpc.aio.ServicerContext
    ) -> booking_pb2.GetOpeningHoursResponse:
        # Opening hours are not private within the organization: any establishment of it,
        # no right needed. Unknown and foreign ids read as no hours.
        scope = current_scope()
        ids = model.check_ids(request.establishment_ids, "establishmentIds")
        async with self.ctx.db.read() as session:
            found = await repository.get_opening_hours(session, scope.organization_id, ids)
        return booking_pb2.GetOpeningHoursResponse(
            establishments=[
                booking_pb2.EstablishmentHours(
                    establishment_id=est, hours=hours_to_proto(found.get(est, []))
                )
                for est in ids
            ]
        )

    async def SetStaffHours(
        self, request: booking_pb2.SetStaffHoursRequest, context: grpc.aio.ServicerContext
    ) -> booking_pb2.StaffHours:
        scope = current_scope()
        staff_id = model.check_id(request.staff_id, "staffId")
        hours = hours_from_proto(request.hours)
        async with self.ctx.db.write() as session:
            est = await access.target_establishment(session, known_establishments, scope, "", None)
            if not await tenancy_replica.is_member(session, known_members, scope, est, staff_id):
                raise not_found("staff member", "staffId")
            await repository.replace_staff_hours(
                session, scope.organization_id, est, staff_id, hours
            )
        return booking_pb2.StaffHours(
            establishment_id=est, staff_id=staff_id, hours=hours_to_proto(hours)
        )

    # -- appointments (R21, B09) ----------------------------------------------------------

    async def BookAppointment(
        self, request: booking_pb2.BookAppointmentRequest, context: grpc.aio.ServicerContext
    ) -> booking_pb2.Appointment:
        scope = current_scope()
        org = scope.organization_id
        client_id = model.check_id(request.client_id, "clientId")
        service_id = model.check_id(request.service_id, "serviceId")
        asked = request.start.ToDatetime(tzinfo=UTC) if request.HasField("start") else None
        start = model.check_start(asked, utcnow())
        staff_id = request.staff_id
        # Both peers at once; their refusals in a fixed order (client, then service).
        outcomes = await asyncio.gather(
            self._check_client_exists(client_id),
            self._service_duration(service_id, scope.establishment_id),
            return_exceptions=True,
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        duration = outcomes[1]
        assert isinstance(duration, timedelta)
        end = start + duration
        async with self.ctx.db.write() as session:
            est = await access.target_establishment(session, known_establishments, scope, "", None)
            if staff_id:
                if not await tenancy_replica.is_member(
                    session, known_members, scope, est, staff_id
                ):
                    raise not_found("staff member", "staffId")
                candidates = [staff_id]
            else:
                # The first member free for the whole appointment (members_of order); the
                # ones the gateway vouched for in this request are remembered first.
                for member in sorted(scope.verified_members):
                    await tenancy_replica.remember_member(session, known_members, org, est, member)
                candidates = list(
                    await tenancy_replica.members_of(session, known_members, org, est)
                )
            tz = await _timezone(session, org, est)
            week = (await repository.get_opening_hours(session, org, [est])).get(est, [])
            own = await repository.get_staff_hours(session, org, est, candidates)
            working = model.who_can_take(
                start, end, tz, week, candidates, own, asked=bool(staff_id)
            )
            # B09: locks, overlap check (every establishment) and insert, in this transaction.
            appointment = await repository.book(
                session, org, est, client_id, service_id, working, start, end
            )
            message = appointment_to_proto(appointment)
            await record_event(
                session,
                outbox,
                APPOINTMENT_BOOKED,
                events_pb2.AppointmentBooked(appointment=message),
                scope,
                establishment_id=est,
            )
        self.ctx.wake_relay()
        return message

    async def CancelAppointment(
        self, request: booking_pb2.CancelAppointmentRequest, context: grpc.aio.ServicerContext
    ) -> booking_pb2.Appointment:
        scope = current_scope()
        if not request.id:
            raise not_found("appointment", "id")
        async with self.ctx.db.write() as session:
            # Only the session establishment's own (R21): another establishment's or
            # organization's appointment is not found.
            appointment = await repository.cancel(
                session, scope.organization_id, scope.establishment_id, request.id
            )
            message = appointment_to_proto(appointment)
            await record_event(
                session,
                outbox,
                APPOINTMENT_CANCELLED,
                events_pb2.AppointmentCancelled(appointment=message),
                scope,
                establishment_id=appointment.establishment_id,
            )
        self.ctx.wake_relay()
        return message

    async def GetAppointments(
        self, request: booking_pb2.GetAppointmentsRequest, context: grpc.aio.ServicerContext
    ) -> booking_pb2.GetAppointmentsResponse:
        # The batch read behind references to appointments (a client's history, a receipt):
        # any establishment of the organization; other organizations' ids are left out.
        scope = current_scope()
        ids = model.check_ids(request.ids)
        async with self.ctx.db.read() as session:
            found = await repository.get_appointments(session, scope.organization_id, ids)
        return booking_pb2.GetAppointmentsResponse(
            appointments=[appointment_to_proto(a) for a in found]
        )

    async def ListAgenda(
        self, request: booking_pb2.ListAgendaRequest, context: grpc.aio.ServicerContext
    ) -> booking_pb2.ListAppointmentsResponse:
        scope = current_scope()
        day = model.check_date(request.date)
        async with self.ctx.db.read() as session:
            # R04, checked here whatever the gateway did.
            est = await _readable_target(
                session, scope, request.establishment_id, Right.SWITCH_AGENDA
            )
            start, end = model.day_bounds(day, await _timezone(session, scope.organization_id, est))
            found = await repository.agenda(session, scope.organization_id, est, start, end)
        return appointments_to_proto(found)

    async def ListClientAppointments(
        self,
        request: booking_pb2.ListClientAppointmentsRequest,
        context: grpc.aio.ServicerContext,
    ) -> booking_pb2.ListAppointmentsResponse:
        scope = current_scope()
        client_id = model.check_id(request.client_id, "clientId")
        upcoming_from = utcnow() if request.upcoming_only else None
        async with self.ctx.db.read() as session:
            found = await repository.client_appointments(
                session, scope.organization_id, scope.establishment_id, client_id, upcoming_from
            )
        return appointments_to_proto(found)

    async def Availability(
        self, request: booking_pb2.AvailabilityRequest, context: grpc.aio.ServicerContext
    ) -> booking_pb2.AvailabilityResponse:
        # Any establishment of the organization, no right needed: free slots are what a
        # colleague elsewhere (or, later, the public page) must be able to see.
        scope = current_scope()
        org = scope.organization_id
        service_id = model.check_id(request.service_id, "serviceId")
        day = model.check_date(request.date)
        if request.establishment_id and request.establishment_id != scope.establishment_id:
            # An unknown or foreign establishment answers as such before the catalogue is
            # asked (whatever the service).
            async with self.ctx.db.read() as session:
                await _readable_target(session, scope, request.establishment_id, None)
        est = request.establishment_id or scope.establishment_id
        duration = await self._service_duration(service_id, est, online_only=request.online_only)
        async with self.ctx.db.read() as session:
            tz = await _timezone(session, org, est)
            week = (await repository.get_opening_hours(session, org, [est])).get(est, [])
            members = await tenancy_replica.members_of(session, known_members, org, est)
            candidates = _candidates(members, scope.verified_members)
            own = await repository.get_staff_hours(session, org, est, candidates)
            day_start, day_end = model.day_bounds(day, tz)
            busy = await repository.busy_times(session, org, candidates, day_start, day_end)
        slots = model.free_slots(
            day, tz, week, {s: own.get(s) for s in candidates}, busy, duration, utcnow()
        )
        return booking_pb2.AvailabilityResponse(slots=[slot_to_proto(s) for s in slots])
