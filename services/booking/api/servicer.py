"""gRPC API of the agenda: protobuf in, domain calls, protobuf out.

Writes act on the session establishment of the signed scope (R07, R21). The peers are
asked before any write transaction opens, so no lock is held across a call: the clients
service (does the client exist in the organization's file, R10) and the catalogue (does the
service exist, and how long does it take in this establishment, R12). Each write records
its event in the same transaction and wakes the relay after commit.

Online booking (R16, R17, R26) finds or creates the client before its transaction and
records the deposit with payments after it commits; a refused deposit undoes the booking
(a compensating cancel), since no transaction spans two services.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.ext.asyncio import AsyncConnection

from salon.booking.v1 import booking_pb2, booking_pb2_grpc, events_pb2
from salon.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from salon.clients.v1 import clients_pb2, clients_pb2_grpc
from salon.payments.v1 import payments_pb2, payments_pb2_grpc
from services.booking.api.mail import MailSettingsRpc
from services.booking.domain import model
from services.booking.store import merge_repository, repository
from services.booking.store.tables import known_establishments, known_members, outbox
from services.common import access, tenancy_replica
from services.common.db import utcnow
from services.common.errors import DomainError, ErrorCode, not_found
from services.common.events import EventType
from services.common.money import format_amount, parse_amount
from services.common.outbox import record_event
from services.common.runtime import ServiceContext
from services.common.scope import Right, Scope, current_scope

APPOINTMENT_BOOKED = EventType("booking", "appointment", "booked")
APPOINTMENT_CANCELLED = EventType("booking", "appointment", "cancelled")
APPOINTMENT_MOVED = EventType("booking", "appointment", "moved")
OPENING_HOURS_SET = EventType("booking", "opening_hours", "set")

log = logging.getLogger("salon.booking")


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


class BookingServicer(MailSettingsRpc, booking_pb2_grpc.BookingServiceServicer):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # -- peers ----------------------------------------------------------------------------

    async def _check_client_exists(self, client_id: str) -> str:
        """The client file is the organization's (R10): any establishment books any client.
        Returns the id to book for: a merged client's is the kept record's (B07)."""
        stub = clients_pb2_grpc.ClientsServiceStub(self.ctx.channel("clients"))
        reply = await self.ctx.call(
            "clients", stub.GetClients, clients_pb2.GetClientsRequest(ids=[client_id])
        )
        wanted = reply.merged.get(client_id, client_id)
        if not any(c.id == wanted for c in reply.clients):
            raise not_found("client", "clientId")
        return wanted

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

    # -- booking, shared by the staff's and the public RPCs (B09) -------------------------

    async def _working_staff(
        self,
        session: AsyncConnection,
        scope: Scope,
        est: str,
        start: datetime,
        end: datetime,
        *,
        staff_id: str = "",
        preferred: str = "",
        writable: bool = True,
    ) -> list[str]:
        """Who may take [start, end) in `est`, in the order they are tried: the staff
        member asked for (a member there, NOT_FOUND otherwise), or every member
        (members_of order; `preferred` first), keeping those who work then
        (OUTSIDE_OPENING_HOURS when the establishment is closed). Whether they are free is
        the store's to decide. `writable`: the members the gateway vouched for in this
        request are remembered first (a read transaction only adds them to the list)."""
        org = scope.organization_id
        if staff_id:
            if not await tenancy_replica.is_member(session, known_members, scope, est, staff_id):
                raise not_found("staff member", "staffId")
            candidates = [staff_id]
        else:
            if writable:
                for member in sorted(scope.verified_members):
                    await tenancy_replica.remember_member(session, known_members, org, est, member)
                candidates = list(
                    await tenancy_replica.members_of(session, known_members, org, est)
                )
            else:
                members = await tenancy_replica.members_of(session, known_members, org, est)
                candidates = _candidates(members, scope.verified_members)
            if preferred:
                candidates = model.staff_first(preferred, candidates)
        tz = await _timezone(session, org, est)
        week = (await repository.get_opening_hours(session, org, [est])).get(est, [])
        own = await repository.get_staff_hours(session, org, est, candidates)
        return model.who_can_take(start, end, tz, week, candidates, own, asked=bool(staff_id))

    async def _book(
        self,
        session: AsyncConnection,
        scope: Scope,
        client_id: str,
        service_id: str,
        staff_id: str,
        start: datetime,
        end: datetime,
    ) -> tuple[model.Appointment, booking_pb2.Appointment]:
        """Book in the session establishment, in the caller's write transaction, with its
        event: the staff member asked for, or (none asked) the first member free for the
        whole appointment. The peers were asked before the transaction opened."""
        # B07: an id merged meanwhile lands on the kept record (and a merge being handled
        # waits for this booking, then re-points it).
        client_id = await merge_repository.resolve(session, scope.organization_id, client_id)
        est = await access.target_establishment(session, known_establishments, scope, "", None)
        working = await self._working_staff(session, scope, est, start, end, staff_id=staff_id)
        # B09: locks, overlap check (every establishment) and insert, in this transaction.
        appointment = await repository.book(
            session, scope.organization_id, est, client_id, service_id, working, start, end
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
        return appointment, message

    async def _record_cancelled(
        self, session: AsyncConnection, scope: Scope, appointment: model.Appointment
    ) -> booking_pb2.Appointment:
        message = appointment_to_proto(appointment)
        await record_event(
            session,
            outbox,
            APPOINTMENT_CANCELLED,
            events_pb2.AppointmentCancelled(appointment=message),
            scope,
            establishment_id=appointment.establishment_id,
        )
        return message

    # -- hours (R21, R22) -----------------------------------------------------------------

    async def SetOpeningHours(
        self, request: booking_pb2.SetOpeningHoursRequest, context: grpc.aio.ServicerContext
    ) -> booking_pb2.EstablishmentHours:
        scope = current_scope()
        model.check_may_set_hours(scope)
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
        model.check_may_set_hours(scope, staff_id)
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
        assert isinstance(outcomes[0], str)
        client_id = outcomes[0]
        end = start + duration
        async with self.ctx.db.write() as session:
            _, message = await self._book(
                session, scope, client_id, service_id, staff_id, start, end
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
            message = await self._record_cancelled(session, scope, appointment)
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

    # -- online booking (R16, R17, R26) ---------------------------------------------------
    #
    # The gateway calls these with a scope it signs for the organization of the
    # establishment asked for, without a user: scope.establishment_id is that
    # establishment, and a manage token acts only there (R26).

    async def _token_client(self, session: AsyncConnection, scope: Scope, token: str) -> str | None:
        if not token:
            return None
        return await repository.token_client(
            session, scope.organization_id, scope.establishment_id, model.hash_token(token)
        )

    async def _owned(
        self, session: AsyncConnection, scope: Scope, token: str, appointment_id: str
    ) -> model.Appointment:
        """The appointment if the token's client holds it in the scope's establishment;
        NOT_FOUND (appointmentId) alike for an unknown token, a token of another
        establishment, another client's appointment and an unknown one."""
        client_id = await self._token_client(session, scope, token)
        found = (
            await repository.client_appointment(
                session,
                scope.organization_id,
                scope.establishment_id,
                client_id,
                appointment_id,
            )
            if client_id and appointment_id
            else None
        )
        if found is None:
            raise model.appointment_not_found()
        return found

    async def PublicBook(
        self, request: booking_pb2.PublicBookRequest, context: grpc.aio.ServicerContext
    ) -> booking_pb2.PublicBookResponse:
        """Checks first (nothing written when they fail: the deposit's format too), then
        the client is found or created, then the appointment and the client's manage token
        in one transaction, then the deposit (R17). Should payments refuse the deposit (or
        fail), the booking is undone (compensation) and the error passes on."""
        scope = current_scope()
        org, est = scope.organization_id, scope.establishment_id
        service_id = model.check_id(request.service_id, "serviceId")
        asked = request.start.ToDatetime(tzinfo=UTC) if request.HasField("start") else None
        start = model.check_start(asked, utcnow())
        deposit = (
            format_amount(parse_amount(request.deposit, "deposit", allow_zero=False))
            if request.deposit
            else ""
        )
        # R16: only a service bookable online in this establishment, with its duration here.
        end = start + await self._service_duration(service_id, est, online_only=True)
        # Before a client is created: is the establishment open then, and anyone free? A
        # hint without locks; the write transaction below decides (B09).
        async with self.ctx.db.read() as session:
            working = await self._working_staff(session, scope, est, start, end, writable=False)
            if await repository.first_free(session, org, working, start, end) is None:
                raise model.slot_taken()
        clients = clients_pb2_grpc.ClientsServiceStub(self.ctx.channel("clients"))
        found = await self.ctx.call(
            "clients",
            clients.FindOrCreateClient,
            clients_pb2.CreateClientRequest(
                first_name=request.first_name,
                last_name=request.last_name,
                email=request.email,
                phone=request.phone,
            ),
        )
        client_id = found.client.id
        token = model.new_manage_token()
        async with self.ctx.db.write() as session:
            appointment, message = await self._book(
                session, scope, client_id, service_id, "", start, end
            )
            issued = await repository.issue_token(
                session, org, est, client_id, model.hash_token(token)
            )
        self.ctx.wake_relay()
        if deposit:
            payments = payments_pb2_grpc.PaymentsServiceStub(self.ctx.channel("payments"))
            try:
                await self.ctx.call(
                    "payments",
                    payments.RecordDeposit,
                    payments_pb2.RecordDepositRequest(
                        appointment_id=appointment.id, client_id=client_id, amount=deposit
                    ),
                )
            except BaseException:
                # A refusal (DomainError), payments unreachable (PeerError) or this call
                # cancelled: the caller sees a failure, so the booking must not stand. Shielded
                # so that a cancelled call still finishes the undo.
                await asyncio.shield(self._undo_public_book(scope, appointment, issued))
                raise
        return booking_pb2.PublicBookResponse(appointment=message, manage_token=token)

    async def _undo_public_book(
        self, scope: Scope, appointment: model.Appointment, issued: repository.IssuedToken
    ) -> None:
        """Compensation of a public booking whose deposit failed: the appointment is
        cancelled (with its event, so that every follower sees it go) and the client's
        previous manage token there, if any, works again. Never raises: the deposit's
        error is the one the caller must see."""
        try:
            async with self.ctx.db.write() as session:
                try:
                    cancelled = await repository.cancel(
                        session, scope.organization_id, appointment.establishment_id, appointment.id
                    )
                except DomainError:
                    cancelled = None  # already cancelled meanwhile: nothing left to undo
                if cancelled is not None:
                    await self._record_cancelled(session, scope, cancelled)
                await repository.withdraw_token(
                    session,
                    scope.organization_id,
                    appointment.establishment_id,
                    appointment.client_id,
                    issued,
                )
        except Exception:
            log.exception(
                "could not undo the public booking %s after its deposit failed", appointment.id
            )
            return
        self.ctx.wake_relay()

    async def PublicAppointments(
        self, request: booking_pb2.PublicAppointmentsRequest, context: grpc.aio.ServicerContext
    ) -> booking_pb2.ListAppointmentsResponse:
        """The token's client's appointments in the scope's establishment, every status,
        latest first. An unknown token and a token of another establishment both answer an
        empty list (R26: nothing tells whether a token exists elsewhere)."""
        scope = current_scope()
        async with self.ctx.db.read() as session:
            client_id = await self._token_client(session, scope, request.manage_token)
            found = (
                await repository.client_appointments(
                    session,
                    scope.organization_id,
                    scope.establishment_id,
                    client_id,
                    None,
                    newest_first=True,
                )
                if client_id
                else []
            )
        return appointments_to_proto(found)

    async def PublicCancel(
        self, request: booking_pb2.PublicCancelRequest, context: grpc.aio.ServicerContext
    ) -> booking_pb2.Appointment:
        scope = current_scope()
        async with self.ctx.db.write() as session:
            owned = await self._owned(session, scope, request.manage_token, request.appointment_id)
            # Still booked and not begun (CONFLICT otherwise), decided by the update itself.
            appointment = await repository.cancel(
                session,
                scope.organization_id,
                scope.establishment_id,
                owned.id,
                client_id=owned.client_id,
                after=utcnow(),
                field="appointmentId",
            )
            message = await self._record_cancelled(session, scope, appointment)
        self.ctx.wake_relay()
        return message

    async def PublicReschedule(
        self, request: booking_pb2.PublicRescheduleRequest, context: grpc.aio.ServicerContext
    ) -> booking_pb2.Appointment:
        """The same service and duration at the new start: the same staff member if free
        then, else the first other member free then (SLOT_TAKEN otherwise), within the
        opening hours. Ownership, the overlap check and the move in one transaction, under
        the same locks as a booking (B09)."""
        scope = current_scope()
        org, est = scope.organization_id, scope.establishment_id
        asked = request.start.ToDatetime(tzinfo=UTC) if request.HasField("start") else None
        now = utcnow()
        start = model.check_start(asked, now)
        async with self.ctx.db.write() as session:
            owned = await self._owned(session, scope, request.manage_token, request.appointment_id)
            model.check_manageable(owned, now)
            end = start + (owned.end - owned.start)
            working = await self._working_staff(
                session, scope, est, start, end, preferred=owned.staff_id
            )
            appointment = await repository.move(session, org, est, owned.id, working, start, end)
            message = appointment_to_proto(appointment)
            await record_event(
                session,
                outbox,
                APPOINTMENT_MOVED,
                events_pb2.AppointmentMoved(appointment=message),
                scope,
                establishment_id=est,
            )
        self.ctx.wake_relay()
        return message
