"""Online booking over real gRPC on loopback (R16, R17, R26): the booking service asks the
real catalogue (bookable online there?), the real client file (find or create by e-mail)
and the real payments service (the deposit). The public RPCs run with the scope the
gateway signs for the establishment asked for: no user, no rights, no vouched members.

A Salon here: establishments A and B open 09:00-18:00 every day; `both` works in A and B,
`only_a` in A; a 60-minute service bookable online in A only, unless said otherwise.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import nats
import pytest

from launcher.nats_server import NatsServer
from salon.booking.v1 import booking_pb2, booking_pb2_grpc, events_pb2
from salon.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from salon.clients.v1 import clients_pb2, clients_pb2_grpc
from salon.payments.v1 import payments_pb2, payments_pb2_grpc
from services.booking.domain import model
from services.booking.service import SPEC as BOOKING
from services.booking.store import repository
from services.booking.store.tables import manage_tokens
from services.catalog.service import SPEC as CATALOG
from services.clients.service import SPEC as CLIENTS
from services.common import migrations
from services.common.db import Database, utcnow
from services.common.errors import DomainError, ErrorCode, from_rpc_error
from services.common.events import Event
from services.common.runtime import ServiceProcess
from services.common.scope import Role, Scope
from services.payments.service import SPEC as PAYMENTS
from tests.services.booking.test_grpc import (
    BOOKED,
    CANCELLED,
    EVERY_DAY,
    SIGNER,
    Metadata,
    _at,
    _error,
    _md,
    _monday,
    _settings,
    _ts,
)


@dataclass
class Stack:
    booking: booking_pb2_grpc.BookingServiceStub
    catalog: catalog_pb2_grpc.CatalogServiceStub
    clients: clients_pb2_grpc.ClientsServiceStub
    payments: payments_pb2_grpc.PaymentsServiceStub
    nats_url: str
    # Stopped by the fixture at the end; a test that stops one first takes it out.
    processes: dict[str, ServiceProcess] = field(default_factory=dict)


@pytest.fixture
async def stack(database_url: str, nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[Stack]:
    """The peers on their own SQLite files, the booking service on the database under
    test."""
    peers = {
        spec.name: ServiceProcess(
            spec, _settings(f"sqlite+aiosqlite:///{tmp_path / spec.name}.db", nats_server.url)
        )
        for spec in (CATALOG, CLIENTS, PAYMENTS)
    }
    ports: dict[str, int] = {}
    for name, process in peers.items():  # one after the other: Alembic's context is global
        ports[name] = await process.start()
    booking = ServiceProcess(
        BOOKING,
        _settings(
            database_url,
            nats_server.url,
            **{f"{name}_addr": f"127.0.0.1:{port}" for name, port in ports.items()},
        ),
    )
    ports["booking"] = await booking.start()
    channels = {name: grpc.aio.insecure_channel(f"127.0.0.1:{p}") for name, p in ports.items()}
    running = Stack(
        booking_pb2_grpc.BookingServiceStub(channels["booking"]),
        catalog_pb2_grpc.CatalogServiceStub(channels["catalog"]),
        clients_pb2_grpc.ClientsServiceStub(channels["clients"]),
        payments_pb2_grpc.PaymentsServiceStub(channels["payments"]),
        nats_server.url,
        {"booking": booking, **peers},
    )
    try:
        yield running
    finally:
        for channel in channels.values():
            await channel.close()
        await asyncio.gather(*(p.stop() for p in running.processes.values()))


# -- helpers ------------------------------------------------------------------------------


def _id() -> str:
    return secrets.token_hex(16)


def _public(org: str, est: str) -> Metadata:
    """The scope the gateway signs for a public request: no user, no rights."""
    return SIGNER.metadata(Scope(org, est))


@dataclass
class Salon:
    org: str
    a: str
    b: str
    service: str
    both: str
    only_a: str

    @property
    def public_a(self) -> Metadata:
        return _public(self.org, self.a)

    @property
    def public_b(self) -> Metadata:
        return _public(self.org, self.b)


async def _hours(stack: Stack, org: str, est: str, staff: str = "") -> None:
    """Opening hours 09:00-18:00 every day; with `staff`, makes them a member there (as the
    gateway vouches for them on a staff request), with no hours of their own."""
    md = _md(org, est, role=Role.MANAGER, members=[staff] if staff else [])
    if staff:
        await stack.booking.SetStaffHours(
            booking_pb2.SetStaffHoursRequest(staff_id=staff), metadata=md, timeout=5
        )
        return
    await stack.booking.SetOpeningHours(
        booking_pb2.SetOpeningHoursRequest(
            hours=[booking_pb2.OpeningHours(weekday=d, opens=o, closes=c) for d, o, c in EVERY_DAY]
        ),
        metadata=md,
        timeout=5,
    )


async def _salon(stack: Stack, *, online_in_b: bool = False) -> Salon:
    org, a, b, both, only_a = _id(), _id(), _id(), _id(), _id()
    await asyncio.gather(_hours(stack, org, a), _hours(stack, org, b))
    for est, staff in ((a, both), (a, only_a), (b, both)):  # in order: members_of order
        await _hours(stack, org, est, staff)
    owner_a = _md(org, a, role=Role.OWNER)
    created = await stack.catalog.CreateService(
        catalog_pb2.CreateServiceRequest(
            name="Cut", category="Hair", price="30.00", duration_minutes=60
        ),
        metadata=owner_a,
        timeout=5,
    )
    service = created.service.id
    for est in (a, b) if online_in_b else (a,):
        await stack.catalog.UpdateService(
            catalog_pb2.UpdateServiceRequest(id=service, bookable_online=True),
            metadata=_md(org, est, role=Role.OWNER),
            timeout=5,
        )
    return Salon(org, a, b, service, both, only_a)


async def _public_book(
    stack: Stack,
    md: Metadata,
    service: str,
    start: datetime,
    email: str = "ann@example.com",
    deposit: str = "",
    first_name: str = "Ann",
    timeout: float = 10,
) -> booking_pb2.PublicBookResponse:
    return await stack.booking.PublicBook(
        booking_pb2.PublicBookRequest(
            service_id=service,
            start=_ts(start),
            first_name=first_name,
            last_name="Peeters",
            email=email,
            phone="+32 470 12 34 56",
            deposit=deposit,
        ),
        metadata=md,
        timeout=timeout,
    )


async def _listed(stack: Stack, md: Metadata, token: str) -> list[booking_pb2.Appointment]:
    reply = await stack.booking.PublicAppointments(
        booking_pb2.PublicAppointmentsRequest(manage_token=token), metadata=md, timeout=5
    )
    return list(reply.appointments)


async def _cancel(stack: Stack, md: Metadata, token: str, appointment_id: str) -> Any:
    return await stack.booking.PublicCancel(
        booking_pb2.PublicCancelRequest(manage_token=token, appointment_id=appointment_id),
        metadata=md,
        timeout=5,
    )


async def _reschedule(
    stack: Stack, md: Metadata, token: str, appointment_id: str, start: datetime
) -> booking_pb2.Appointment:
    return await stack.booking.PublicReschedule(
        booking_pb2.PublicRescheduleRequest(
            manage_token=token, appointment_id=appointment_id, start=_ts(start)
        ),
        metadata=md,
        timeout=10,
    )


async def _agenda(stack: Stack, org: str, est: str) -> list[booking_pb2.Appointment]:
    reply = await stack.booking.ListAgenda(
        booking_pb2.ListAgendaRequest(date=_monday().isoformat()),
        metadata=_md(org, est),
        timeout=5,
    )
    return list(reply.appointments)


async def _clients_named(stack: Stack, org: str, est: str, email: str) -> list[str]:
    reply = await stack.clients.ListClients(
        clients_pb2.ListClientsRequest(search=email), metadata=_md(org, est), timeout=5
    )
    return [c.id for c in reply.clients]


def _slot(appointment: booking_pb2.Appointment) -> tuple[datetime, datetime, str]:
    return (
        appointment.start.ToDatetime(tzinfo=UTC),
        appointment.end.ToDatetime(tzinfo=UTC),
        appointment.staff_id,
    )


Verb = tuple[str, booking_pb2.Appointment]


class Events:
    """The booking service's appointment events of one organization, as they arrive."""

    def __init__(self, nats_url: str, org: str) -> None:
        self.nats_url, self.org = nats_url, org
        self.received: list[Event] = []

    async def __aenter__(self) -> Events:
        self.nc = await nats.connect(self.nats_url)

        async def collect(msg: Any) -> None:
            self.received.append(Event.from_message(msg.subject, msg.headers, msg.data))

        self.sub = await self.nc.subscribe(f"salon.{self.org}.*.booking.appointment.>", cb=collect)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.sub.unsubscribe()
        await self.nc.close()

    def verbs(self, keep: Callable[[booking_pb2.Appointment], bool]) -> list[Verb]:
        """("booked" | "moved" | "cancelled", the appointment) of the events kept. Every
        appointment event has the same shape (the appointment in field 1)."""
        found = [
            (e.type.split(".")[-2], e.parse(events_pb2.AppointmentBooked).appointment)
            for e in self.received
        ]
        return [(verb, appointment) for verb, appointment in found if keep(appointment)]

    async def wait(
        self, count: int, keep: Callable[[booking_pb2.Appointment], bool] = lambda _a: True
    ) -> list[Verb]:
        """The kept events once there are `count` of them (or after 5 s)."""
        for _ in range(100):
            if len(self.verbs(keep)) >= count:
                break
            await asyncio.sleep(0.05)
        return self.verbs(keep)


# -- R16: booking online --------------------------------------------------------------------


async def test_R16_booking_online_finds_or_creates_the_client_once(stack: Stack) -> None:
    salon = await _salon(stack)
    monday = _monday()

    first = await _public_book(stack, salon.public_a, salon.service, _at(monday, "10:00"))
    again = await _public_book(
        stack, salon.public_a, salon.service, _at(monday, "12:00"), email="ANN@Example.com"
    )

    booked = first.appointment
    assert (booked.establishment_id, booked.service_id, booked.status) == (
        salon.a,
        salon.service,
        BOOKED,
    )
    assert booked.staff_id == salon.both  # the first member free then, as BookAppointment
    assert booked.end.ToDatetime() - booked.start.ToDatetime() == timedelta(minutes=60)
    # The same e-mail (whatever its case): the same client, created once, in A.
    assert again.appointment.client_id == booked.client_id
    assert await _clients_named(stack, salon.org, salon.b, "ann@example.com") == [booked.client_id]
    client = (
        await stack.clients.GetClients(
            clients_pb2.GetClientsRequest(ids=[booked.client_id]),
            metadata=salon.public_a,
            timeout=5,
        )
    ).clients[0]
    assert (client.first_name, client.email, client.created_in_establishment_id) == (
        "Ann",
        "ann@example.com",
        salon.a,
    )
    # The staff's agenda holds both; the token lists them, the latest first.
    assert {a.id for a in await _agenda(stack, salon.org, salon.a)} == {
        booked.id,
        again.appointment.id,
    }
    assert len(again.manage_token) >= 43 and again.manage_token != first.manage_token
    listed = await _listed(stack, salon.public_a, again.manage_token)
    assert [a.id for a in listed] == [again.appointment.id, booked.id]
    # One token per client and establishment: the new booking's token replaced the first.
    assert await _listed(stack, salon.public_a, first.manage_token) == []


async def test_R16_only_a_service_bookable_online_there_and_nothing_written_otherwise(
    stack: Stack,
) -> None:
    salon = await _salon(stack)
    monday = _monday()
    ten = _at(monday, "10:00")
    taken = await _public_book(stack, salon.public_a, salon.service, ten, email="first@x.be")
    await _public_book(stack, salon.public_a, salon.service, ten, email="second@x.be")

    def book(**kw: Any) -> Any:
        args: dict[str, Any] = {
            "md": salon.public_a,
            "service": salon.service,
            "start": _at(monday, "15:00"),
            "email": "late@x.be",
        } | kw
        return _public_book(stack, **args)

    refusals = {
        "not online in B": await _error(book(md=salon.public_b)),
        "unknown service": await _error(book(service=_id())),
        "both staff taken": await _error(book(start=ten)),
        "closed": await _error(book(start=_at(monday, "17:30"))),
        "past": await _error(book(start=utcnow() - timedelta(hours=1))),
        "no first name": await _error(book(first_name=" ")),
        "bad e-mail": await _error(book(email="not-an-email")),
    }

    assert {k: (e.code, e.field) for k, e in refusals.items()} == {
        "not online in B": (ErrorCode.NOT_FOUND, "serviceId"),
        "unknown service": (ErrorCode.NOT_FOUND, "serviceId"),
        "both staff taken": (ErrorCode.SLOT_TAKEN, "start"),
        "closed": (ErrorCode.OUTSIDE_OPENING_HOURS, "start"),
        "past": (ErrorCode.INVALID, "start"),
        "no first name": (ErrorCode.INVALID, "firstName"),
        "bad e-mail": (ErrorCode.INVALID, "email"),
    }
    # Nothing of the refused bookings: neither an appointment nor a client.
    assert len(await _agenda(stack, salon.org, salon.a)) == 2
    assert await _agenda(stack, salon.org, salon.b) == []
    assert await _clients_named(stack, salon.org, salon.a, "late@x.be") == []
    assert [a.id for a in await _listed(stack, salon.public_a, taken.manage_token)] == [
        taken.appointment.id
    ]


# -- R26: managing per establishment --------------------------------------------------------


async def test_R26_a_token_of_A_lists_and_changes_nothing_in_B_and_works_in_A(
    stack: Stack,
) -> None:
    salon = await _salon(stack, online_in_b=True)
    monday = _monday()
    in_a = await _public_book(stack, salon.public_a, salon.service, _at(monday, "10:00"))
    in_b = await _public_book(stack, salon.public_b, salon.service, _at(monday, "14:00"))
    other = await _public_book(
        stack, salon.public_a, salon.service, _at(monday, "10:00"), email="bob@x.be"
    )
    token_a, token_b = in_a.manage_token, in_b.manage_token
    a_id, b_id = in_a.appointment.id, in_b.appointment.id
    assert in_a.appointment.client_id == in_b.appointment.client_id  # one shared client file

    # Listing: each token in its own establishment only; unknown tokens list nothing.
    assert [a.id for a in await _listed(stack, salon.public_a, token_a)] == [a_id]
    assert [a.id for a in await _listed(stack, salon.public_b, token_b)] == [b_id]
    assert await _listed(stack, salon.public_b, token_a) == []
    assert await _listed(stack, salon.public_a, token_b) == []
    assert await _listed(stack, salon.public_a, "") == []
    assert await _listed(stack, salon.public_a, secrets.token_urlsafe(32)) == []
    assert await _listed(stack, _public(_id(), salon.a), token_a) == []  # another org

    # Acting: a token of A in B, a token on another establishment's or client's
    # appointment, and unknown ids are all just NOT_FOUND (appointmentId).
    later = _at(monday, "15:00")
    attempts = [
        _cancel(stack, salon.public_b, token_a, a_id),
        _cancel(stack, salon.public_b, token_a, b_id),
        _cancel(stack, salon.public_a, token_a, b_id),
        _cancel(stack, salon.public_a, token_b, a_id),
        _cancel(stack, salon.public_a, token_a, other.appointment.id),
        _cancel(stack, salon.public_a, other.manage_token, a_id),
        _cancel(stack, salon.public_a, secrets.token_urlsafe(32), a_id),
        _cancel(stack, salon.public_a, token_a, _id()),
        _cancel(stack, salon.public_a, token_a, ""),
        _reschedule(stack, salon.public_b, token_a, a_id, later),
        _reschedule(stack, salon.public_b, token_a, b_id, later),
        _reschedule(stack, salon.public_a, token_b, a_id, later),
        _reschedule(stack, salon.public_a, other.manage_token, a_id, later),
    ]
    refused = [await _error(attempt) for attempt in attempts]
    assert {(e.code, e.field) for e in refused} == {(ErrorCode.NOT_FOUND, "appointmentId")}
    agenda = {a.id: a for a in await _agenda(stack, salon.org, salon.a)}
    assert agenda[a_id] == in_a.appointment and agenda[other.appointment.id].status == BOOKED

    # In A, the token of A works.
    moved = await _reschedule(stack, salon.public_a, token_a, a_id, later)
    cancelled = await _cancel(stack, salon.public_a, token_a, a_id)
    twice = await _error(_cancel(stack, salon.public_a, token_a, a_id))
    not_moved = await _error(_reschedule(stack, salon.public_a, token_a, a_id, later))

    assert (moved.id, moved.start) == (a_id, _ts(later))
    assert (cancelled.id, cancelled.status) == (a_id, CANCELLED)
    assert {(e.code, e.field) for e in (twice, not_moved)} == {
        (ErrorCode.CONFLICT, "appointmentId")
    }
    assert [(a.id, a.status) for a in await _listed(stack, salon.public_a, token_a)] == [
        (a_id, CANCELLED)
    ]
    assert [(a.id, a.status) for a in await _listed(stack, salon.public_b, token_b)] == [
        (b_id, BOOKED)
    ]


async def test_R26_cancel_frees_the_slot_and_is_published(stack: Stack) -> None:
    salon = await _salon(stack)
    ten = _at(_monday(), "10:00")
    async with Events(stack.nats_url, salon.org) as events:
        mine = await _public_book(stack, salon.public_a, salon.service, ten)
        await _public_book(stack, salon.public_a, salon.service, ten, email="bob@x.be")
        full = await _error(_public_book(stack, salon.public_a, salon.service, ten, "eve@x.be"))

        cancelled = await _cancel(stack, salon.public_a, mine.manage_token, mine.appointment.id)
        eve = await _public_book(stack, salon.public_a, salon.service, ten, email="eve@x.be")

        published = await events.wait(2, lambda a: a.id == mine.appointment.id)
    assert (full.code, full.field) == (ErrorCode.SLOT_TAKEN, "start")
    assert (cancelled.status, cancelled.staff_id) == (CANCELLED, mine.appointment.staff_id)
    assert eve.appointment.staff_id == mine.appointment.staff_id
    assert published == [("booked", mine.appointment), ("cancelled", cancelled)]


async def test_R26_B09_reschedule_keeps_the_staff_member_when_free_and_respects_hours(
    stack: Stack,
) -> None:
    salon = await _salon(stack)
    monday = _monday()
    # `both` is busy in B at 14:00 (B09: one person in two places) and 16:00; `only_a`
    # in A at 16:00.
    staff_b, staff_a = _md(salon.org, salon.b), _md(salon.org, salon.a)
    client = (
        await stack.clients.CreateClient(
            clients_pb2.CreateClientRequest(first_name="Cas", last_name="Janssens"),
            metadata=staff_a,
            timeout=5,
        )
    ).id
    for md, staff, clock in (
        (staff_b, salon.both, "14:00"),
        (staff_b, salon.both, "16:00"),
        (staff_a, salon.only_a, "16:00"),
    ):
        await stack.booking.BookAppointment(
            booking_pb2.BookAppointmentRequest(
                client_id=client,
                service_id=salon.service,
                start=_ts(_at(monday, clock)),
                staff_id=staff,
            ),
            metadata=md,
            timeout=5,
        )
    async with Events(stack.nats_url, salon.org) as events:
        booked = await _public_book(stack, salon.public_a, salon.service, _at(monday, "10:00"))
        token, appointment_id = booked.manage_token, booked.appointment.id

        def to(clock: str) -> Any:
            return _reschedule(stack, salon.public_a, token, appointment_id, _at(monday, clock))

        same_staff = await to("11:00")
        overlapping_itself = await to("11:30")  # its own old time is no obstacle
        other_staff = await to("14:00")
        refusals = [
            await _error(to("16:00")),  # both members busy then
            await _error(to("17:30")),  # would end after closing
            await _error(_reschedule(stack, salon.public_a, token, appointment_id, utcnow())),
        ]
        published = await events.wait(4, lambda a: a.id == appointment_id)

    assert booked.appointment.staff_id == salon.both
    assert _slot(same_staff) == (_at(monday, "11:00"), _at(monday, "12:00"), salon.both)
    assert _slot(overlapping_itself)[2] == salon.both
    assert _slot(other_staff) == (_at(monday, "14:00"), _at(monday, "15:00"), salon.only_a)
    assert [(e.code, e.field) for e in refusals] == [
        (ErrorCode.SLOT_TAKEN, "start"),
        (ErrorCode.OUTSIDE_OPENING_HOURS, "start"),
        (ErrorCode.INVALID, "start"),
    ]
    # The refusals changed nothing; the moves were published with the new times.
    assert [a for a in await _agenda(stack, salon.org, salon.a) if a.id == appointment_id] == [
        other_staff
    ]
    assert published == [
        ("booked", booked.appointment),
        ("moved", same_staff),
        ("moved", overlapping_itself),
        ("moved", other_staff),
    ]
    [moved] = [e for e in events.received if e.type == "salon.booking.appointment.moved.v1"][2:]
    assert moved.parse(events_pb2.AppointmentMoved).appointment == other_staff
    assert moved.subject == f"salon.{salon.org}.{salon.a}.booking.appointment.moved"


async def test_B09_concurrent_reschedules_onto_one_slot_never_double_book(stack: Stack) -> None:
    """Six appointments of one client (the last token covers them all), moved at once to
    15:00 where two people work: exactly two moves win, one per person."""
    salon = await _salon(stack)
    monday = _monday()
    booked = [
        await _public_book(stack, salon.public_a, salon.service, _at(monday, f"{h:02d}:00"))
        for h in (9, 9, 10, 10, 11, 11)
    ]
    token = booked[-1].manage_token
    results = await asyncio.gather(
        *(
            _reschedule(stack, salon.public_a, token, b.appointment.id, _at(monday, "15:00"))
            for b in booked
        ),
        return_exceptions=True,
    )

    moved = [r for r in results if isinstance(r, booking_pb2.Appointment)]
    assert len(moved) == 2, results
    assert {m.staff_id for m in moved} == {salon.both, salon.only_a}
    refused = [
        from_rpc_error(r) if isinstance(r, grpc.aio.AioRpcError) else r
        for r in results
        if isinstance(r, BaseException)
    ]
    assert {(e.code, e.field) for e in refused if isinstance(e, DomainError)} == {
        (ErrorCode.SLOT_TAKEN, "start")
    }
    assert len(refused) == 4 and all(isinstance(e, DomainError) for e in refused), refused
    at_three = [a for a in await _agenda(stack, salon.org, salon.a) if a.start == moved[0].start]
    assert sorted(a.staff_id for a in at_three) == sorted([salon.both, salon.only_a])


# -- R17: deposits --------------------------------------------------------------------------


async def test_R17_a_deposit_is_recorded_for_the_appointment_s_establishment(
    stack: Stack,
) -> None:
    salon = await _salon(stack)
    booked = await _public_book(
        stack, salon.public_a, salon.service, _at(_monday(), "10:00"), deposit="25"
    )
    appointment = booked.appointment

    found = await stack.payments.GetDepositsByAppointments(
        payments_pb2.GetDepositsByAppointmentsRequest(appointment_ids=[appointment.id]),
        metadata=_md(salon.org, salon.b),
        timeout=5,
    )
    in_a, in_b = [
        await stack.payments.ListClientDeposits(
            payments_pb2.ListClientDepositsRequest(client_id=appointment.client_id),
            metadata=_md(salon.org, est),
            timeout=5,
        )
        for est in (salon.a, salon.b)
    ]

    [deposit] = found.deposits
    assert (deposit.appointment_id, deposit.client_id, deposit.establishment_id) == (
        appointment.id,
        appointment.client_id,
        salon.a,
    )
    assert (deposit.amount, deposit.status) == ("25.00", payments_pb2.DEPOSIT_STATUS_PAID)
    assert list(in_a.deposits) == [deposit]
    assert list(in_b.deposits) == []
    assert appointment.status == BOOKED


async def test_R17_a_bad_deposit_writes_nothing(stack: Stack) -> None:
    salon = await _salon(stack)
    ten = _at(_monday(), "10:00")

    refused = [
        await _error(_public_book(stack, salon.public_a, salon.service, ten, deposit=amount))
        for amount in ("-1", "abc", "0", "1.234", "NaN")
    ]

    assert {(e.code, e.field) for e in refused} == {(ErrorCode.INVALID, "deposit")}
    assert await _agenda(stack, salon.org, salon.a) == []
    assert await _clients_named(stack, salon.org, salon.a, "ann@example.com") == []


async def test_R17_a_deposit_that_fails_after_booking_cancels_the_booking(stack: Stack) -> None:
    """No amount that the booking service accepts is refused by payments (both parse it
    the same way), so payments is stopped: the deposit fails after the booking committed,
    and the booking is undone (compensation). The client's earlier token still works."""
    salon = await _salon(stack)
    monday = _monday()
    earlier = await _public_book(stack, salon.public_a, salon.service, _at(monday, "09:00"))
    payments = stack.processes.pop("payments")
    await payments.stop()

    async with Events(stack.nats_url, salon.org) as events:
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await _public_book(
                stack, salon.public_a, salon.service, _at(monday, "10:00"), deposit="20"
            )
        published = await events.wait(2, lambda a: a.id != earlier.appointment.id)

    # payments unreachable: the caller is told the service is unavailable and may retry
    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "payments" in (failed.value.details() or "")
    assert [verb for verb, _a in published] == ["booked", "cancelled"]
    undone = published[1][1]
    assert published[0][1].id == undone.id and undone.status == CANCELLED
    agenda = {a.id: a for a in await _agenda(stack, salon.org, salon.a)}
    assert agenda[undone.id].status == CANCELLED
    assert agenda[undone.id].start == _ts(_at(monday, "10:00"))
    assert agenda[earlier.appointment.id].status == BOOKED
    # The token issued with the failed booking was withdrawn: the earlier one works again,
    # and lists the undone appointment too (it is the client's, cancelled).
    listed = await _listed(stack, salon.public_a, earlier.manage_token)
    assert [(a.id, a.status) for a in listed] == [
        (undone.id, CANCELLED),
        (earlier.appointment.id, BOOKED),
    ]
    # The slot is free again.
    again = await _public_book(stack, salon.public_a, salon.service, _at(monday, "10:00"))
    assert again.appointment.staff_id == undone.staff_id


# -- the store: tokens and cancelling online --------------------------------------------------


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=20)
    await migrations.upgrade(database, BOOKING.migrations)
    yield database
    await database.dispose()


async def test_R26_tokens_are_stored_hashed_one_per_client_and_establishment(
    db: Database,
) -> None:
    org, a, b, client = _id(), _id(), _id(), _id()
    tokens = [model.new_manage_token() for _ in range(12)]

    async def issue(est: str, token: str) -> repository.IssuedToken:
        async with db.write(organization_id=org) as session:
            return await repository.issue_token(session, org, est, client, model.hash_token(token))

    async def client_of(est: str, token: str) -> str | None:
        async with db.read(organization_id=org) as session:
            return await repository.token_client(session, org, est, model.hash_token(token))

    first = await issue(a, tokens[0])
    in_b = await issue(b, tokens[1])
    # Ten bookings of one client at once: one token stands, none fails.
    await asyncio.gather(*(issue(a, t) for t in tokens[2:]))
    async with db.read(organization_id=org) as session:
        rows = (await session.execute(manage_tokens.select())).all()

    assert (first.previous_hash, in_b.previous_hash) == (None, None)
    assert len(rows) == 2 and {r.establishment_id for r in rows} == {a, b}
    assert all(r.token_hash not in tokens and len(r.token_hash) == 64 for r in rows)
    owners = [await client_of(a, t) for t in tokens[2:]]
    assert owners.count(client) == 1
    assert await client_of(a, tokens[0]) is None
    assert await client_of(b, tokens[1]) == client
    assert await client_of(a, tokens[1]) is None  # B's token in A

    # A failed booking's token is withdrawn: the previous one works again.
    current = tokens[2:][owners.index(client)]
    replacement = await issue(a, tokens[0])
    async with db.write(organization_id=org) as session:
        await repository.withdraw_token(session, org, a, client, replacement)
    assert replacement.previous_hash == model.hash_token(current)
    assert await client_of(a, current) == client
    assert await client_of(a, tokens[0]) is None


async def test_R26_an_appointment_that_has_begun_is_not_cancelled_online(db: Database) -> None:
    org, est, staff = _id(), _id(), _id()
    start = utcnow() + timedelta(hours=1)
    async with db.write(organization_id=org) as session:
        booked = await repository.book(
            session, org, est, _id(), _id(), [staff], start, start + timedelta(hours=1)
        )

    async def cancel(after: datetime, client_id: str | None = None) -> Any:
        async with db.write(organization_id=org) as session:
            return await repository.cancel(
                session,
                org,
                est,
                booked.id,
                client_id=client_id,
                after=after,
                field="appointmentId",
            )

    begun = await _error_of(cancel(start + timedelta(minutes=1), booked.client_id))
    foreign = await _error_of(cancel(utcnow(), _id()))
    cancelled = await cancel(utcnow(), booked.client_id)
    again = await _error_of(cancel(utcnow(), booked.client_id))

    assert (begun.code, begun.field, begun.message) == (
        ErrorCode.CONFLICT,
        "appointmentId",
        "the appointment has already begun",
    )
    assert (foreign.code, foreign.field) == (ErrorCode.NOT_FOUND, "appointmentId")
    assert cancelled.status is model.Status.CANCELLED
    assert (again.code, again.message) == (
        ErrorCode.CONFLICT,
        "the appointment is cancelled, not booked",
    )


async def _error_of(call: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        await call
    return caught.value
