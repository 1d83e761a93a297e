"""The booking service over real gRPC on loopback, asking the real catalogue (does the
service exist, how long in this establishment) and the real clients service (does the
client exist): opening and staff hours per establishment (R21, R22), the agenda of another
establishment (R04), never two overlapping appointments for one person in any
establishment (B09), availability, cancelling, events, and what is learnt from the
tenancy events. Dates are computed from today (the Monday after next), so tests do not age.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import AsyncIterator, Awaitable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import nats
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from launcher.nats_server import NatsServer
from salon.booking.v1 import booking_pb2, booking_pb2_grpc, events_pb2
from salon.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from salon.clients.v1 import clients_pb2, clients_pb2_grpc
from salon.tenancy.v1 import events_pb2 as tenancy_events_pb2
from services.booking.service import SPEC as BOOKING
from services.catalog.service import SPEC as CATALOG
from services.clients.service import SPEC as CLIENTS
from services.common.db import new_id, utcnow
from services.common.errors import DomainError, ErrorCode, from_rpc_error
from services.common.events import Event, EventType
from services.common.runtime import ServiceProcess
from services.common.scope import Right, Role, Scope, ScopeSigner
from services.common.settings import ServiceSettings
from services.common.tenancy_replica import ESTABLISHMENT_CREATED, MEMBERSHIP_ADDED

SECRET = "k" * 40
SIGNER = ScopeSigner([SECRET.encode()])
BRUSSELS = ZoneInfo("Europe/Brussels")
BOOKED = booking_pb2.APPOINTMENT_STATUS_BOOKED
CANCELLED = booking_pb2.APPOINTMENT_STATUS_CANCELLED
EVERY_DAY = [(d, "09:00", "18:00") for d in range(1, 8)]

Metadata = tuple[tuple[str, bytes], ...]


def _settings(database_url: str, nats_url: str, **extra: Any) -> ServiceSettings:
    return ServiceSettings(
        database_url=database_url,
        nats_url=nats_url,
        scope_secret=SECRET,
        grpc_port=0,
        shutdown_grace_seconds=1,
        **extra,
    )


@dataclass
class Stack:
    booking: booking_pb2_grpc.BookingServiceStub
    catalog: catalog_pb2_grpc.CatalogServiceStub
    clients: clients_pb2_grpc.ClientsServiceStub
    nats_url: str


@pytest.fixture
async def stack(database_url: str, nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[Stack]:
    """The catalogue and the client file on their own SQLite files, the booking service on
    the database under test."""
    catalog = ServiceProcess(
        CATALOG, _settings(f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}", nats_server.url)
    )
    clients = ServiceProcess(
        CLIENTS, _settings(f"sqlite+aiosqlite:///{tmp_path / 'clients.db'}", nats_server.url)
    )
    # One after the other: Alembic's context is process-global.
    catalog_port = await catalog.start()
    clients_port = await clients.start()
    booking = ServiceProcess(
        BOOKING,
        _settings(
            database_url,
            nats_server.url,
            catalog_addr=f"127.0.0.1:{catalog_port}",
            clients_addr=f"127.0.0.1:{clients_port}",
        ),
    )
    port = await booking.start()
    channels = [
        grpc.aio.insecure_channel(f"127.0.0.1:{p}") for p in (port, catalog_port, clients_port)
    ]
    try:
        yield Stack(
            booking_pb2_grpc.BookingServiceStub(channels[0]),
            catalog_pb2_grpc.CatalogServiceStub(channels[1]),
            clients_pb2_grpc.ClientsServiceStub(channels[2]),
            nats_server.url,
        )
    finally:
        for channel in channels:
            await channel.close()
        await asyncio.gather(booking.stop(), catalog.stop(), clients.stop())


# -- helpers ------------------------------------------------------------------------------


def _id() -> str:
    return secrets.token_hex(16)


def _md(
    org: str,
    est: str,
    *rights: Right,
    role: Role = Role.STAFF,
    user: str = "u1",
    members: Iterable[str] = (),
    establishments: Iterable[str] = (),
) -> Metadata:
    """A signed scope; `members` and `establishments` are what the gateway vouches for."""
    return SIGNER.metadata(
        Scope(
            org,
            est,
            user,
            role,
            frozenset(rights),
            verified_members=frozenset(members),
            verified_establishments=frozenset(establishments),
        )
    )


def _monday() -> date:
    """The Monday after next, in Brussels: always in the future, never a DST change day."""
    today = datetime.now(BRUSSELS).date()
    return today + timedelta(days=7 - today.weekday() + 7)


def _at(day: date, clock: str, tz: ZoneInfo = BRUSSELS) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=tz).astimezone(UTC)


def _ts(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def _local(ts: Timestamp, tz: ZoneInfo = BRUSSELS) -> str:
    return ts.ToDatetime(tzinfo=UTC).astimezone(tz).strftime("%H:%M")


async def _error(call: Awaitable[Any]) -> DomainError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error = from_rpc_error(caught.value)
    assert error is not None, caught.value
    return error


async def _open(
    stack: Stack, org: str, est: str, hours: Iterable[tuple[int, str, str]] = EVERY_DAY
) -> booking_pb2.EstablishmentHours:
    return await stack.booking.SetOpeningHours(
        booking_pb2.SetOpeningHoursRequest(
            hours=[booking_pb2.OpeningHours(weekday=d, opens=o, closes=c) for d, o, c in hours]
        ),
        metadata=_md(org, est, role=Role.MANAGER),
        timeout=5,
    )


async def _staff_hours(
    stack: Stack, org: str, est: str, staff: str, hours: Iterable[tuple[int, str, str]]
) -> booking_pb2.StaffHours:
    return await stack.booking.SetStaffHours(
        booking_pb2.SetStaffHoursRequest(
            staff_id=staff,
            hours=[booking_pb2.OpeningHours(weekday=d, opens=o, closes=c) for d, o, c in hours],
        ),
        metadata=_md(org, est, role=Role.MANAGER, members=[staff]),
        timeout=5,
    )


async def _member(stack: Stack, org: str, est: str, *staff: str) -> None:
    """Members of `est`, as the gateway vouches for them (no hours of their own)."""
    for person in staff:
        await _staff_hours(stack, org, est, person, [])


async def _client(stack: Stack, org: str, est: str, name: str = "Ann") -> str:
    client = await stack.clients.CreateClient(
        clients_pb2.CreateClientRequest(first_name=name, last_name="Peeters"),
        metadata=_md(org, est),
        timeout=5,
    )
    return client.id


async def _service(stack: Stack, org: str, est: str, minutes: int = 60) -> str:
    change = await stack.catalog.CreateService(
        catalog_pb2.CreateServiceRequest(
            name=f"Cut {minutes}", category="Hair", price="30.00", duration_minutes=minutes
        ),
        metadata=_md(org, est, role=Role.OWNER),
        timeout=5,
    )
    return change.service.id


async def _book(
    stack: Stack,
    md: Metadata,
    client: str,
    service: str,
    start: datetime,
    staff: str = "",
    timeout: float = 5,
) -> booking_pb2.Appointment:
    return await stack.booking.BookAppointment(
        booking_pb2.BookAppointmentRequest(
            client_id=client, service_id=service, start=_ts(start), staff_id=staff
        ),
        metadata=md,
        timeout=timeout,
    )


async def _agenda(
    stack: Stack, md: Metadata, day: date, establishment_id: str = ""
) -> list[booking_pb2.Appointment]:
    reply = await stack.booking.ListAgenda(
        booking_pb2.ListAgendaRequest(date=day.isoformat(), establishment_id=establishment_id),
        metadata=md,
        timeout=5,
    )
    return list(reply.appointments)


async def _slots(
    stack: Stack, md: Metadata, service: str, day: date, establishment_id: str = ""
) -> list[tuple[str, str]]:
    """(local start, staff id) of every free slot."""
    reply = await stack.booking.Availability(
        booking_pb2.AvailabilityRequest(
            service_id=service, date=day.isoformat(), establishment_id=establishment_id
        ),
        metadata=md,
        timeout=5,
    )
    return [(_local(s.start), s.staff_id) for s in reply.slots]


async def _publish(stack: Stack, kind: EventType, org: str, est: str, message: Message) -> None:
    event = Event(
        id=new_id(),
        type=kind.name,
        source="/salon/gateway",
        time=utcnow(),
        organization_id=org,
        establishment_id=est,
        actor_id=None,
        subject=kind.subject(org, est),
        data=message.SerializeToString(),
    )
    nc = await nats.connect(stack.nats_url)
    try:
        await nc.jetstream().publish(event.subject, event.data, headers=event.headers())
    finally:
        await nc.close()


@dataclass
class Salon:
    """One organization with establishments A and B open 09:00-18:00 every day, a client, a
    60-minute service, and a staff member `both` of A and of B, `only_a` of A alone."""

    org: str
    a: str
    b: str
    client: str
    service: str
    both: str
    only_a: str

    def in_a(self, *rights: Right, role: Role = Role.STAFF) -> Metadata:
        return _md(self.org, self.a, *rights, role=role)

    def in_b(self, *rights: Right, role: Role = Role.STAFF) -> Metadata:
        return _md(self.org, self.b, *rights, role=role)


async def _salon(stack: Stack, org: str = "") -> Salon:
    org, a, b, both, only_a = org or _id(), _id(), _id(), _id(), _id()
    await asyncio.gather(_open(stack, org, a), _open(stack, org, b))
    await _member(stack, org, a, both, only_a)
    await _member(stack, org, b, both)
    client, service = await asyncio.gather(_client(stack, org, a), _service(stack, org, a))
    return Salon(org, a, b, client, service, both, only_a)


def _outcomes(results: list[Any]) -> tuple[list[Any], list[DomainError | None]]:
    done = [r for r in results if not isinstance(r, BaseException)]
    failed = [from_rpc_error(r) for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(done) + len(failed) == len(results), results
    return done, failed


# -- B09: never two overlapping appointments for one person ----------------------------------


async def test_B09_fifty_concurrent_bookings_of_one_slot_exactly_one_wins(stack: Stack) -> None:
    """THE PROOF: the same person, the same slot, fifty requests at once."""
    salon = await _salon(stack)
    monday = _monday()
    start = _at(monday, "10:00")

    results = await asyncio.gather(
        *(
            _book(stack, salon.in_a(), salon.client, salon.service, start, salon.both, timeout=20)
            for _ in range(50)
        ),
        return_exceptions=True,
    )

    booked, refused = _outcomes(results)
    assert len(booked) == 1 and len(refused) == 49
    assert all(
        e is not None and (e.code, e.field) == (ErrorCode.SLOT_TAKEN, "start") for e in refused
    )
    [appointment] = await _agenda(stack, salon.in_a(), monday)
    assert appointment.id == booked[0].id and appointment.staff_id == salon.both

    # The next day, starts every 10 minutes from 10:00 to 11:50, each asked three times
    # at once: whatever wins, the booked ones never overlap. Every start left over
    # overlaps a booked one, and no three starts between 10:00 and 11:50 are an hour
    # apart: exactly two win, whichever they are.
    tuesday = monday + timedelta(days=1)
    starts = [_at(tuesday, "10:00") + timedelta(minutes=10 * i) for i in range(12)]
    results = await asyncio.gather(
        *(
            _book(stack, salon.in_a(), salon.client, salon.service, s, salon.both, timeout=20)
            for s in starts * 3
        ),
        return_exceptions=True,
    )
    booked, refused = _outcomes(results)
    assert len(booked) == 2
    assert all(e is not None and e.code is ErrorCode.SLOT_TAKEN for e in refused)
    spans = sorted((b.start.ToDatetime(), b.end.ToDatetime()) for b in booked)
    assert all(before[1] <= after[0] for before, after in itertools.pairwise(spans))
    assert len(await _agenda(stack, salon.in_a(), tuesday)) == 2


async def test_B09_one_person_in_two_establishments_at_once_one_wins(stack: Stack) -> None:
    salon = await _salon(stack)
    monday = _monday()
    # Ten different hours, each asked in A and in B at the same moment.
    starts = [_at(monday, "09:00") + timedelta(minutes=60 * i) for i in range(8)] + [
        _at(monday + timedelta(days=1), "09:00") + timedelta(minutes=60 * i) for i in range(2)
    ]

    results = await asyncio.gather(
        *(
            _book(stack, md, salon.client, salon.service, start, salon.both, timeout=20)
            for start in starts
            for md in (salon.in_a(), salon.in_b())
        ),
        return_exceptions=True,
    )

    booked, refused = _outcomes(results)
    assert len(booked) == 10 and len(refused) == 10
    assert sorted(b.start.ToDatetime(tzinfo=UTC) for b in booked) == sorted(starts)
    assert all(
        e is not None and (e.code, e.field) == (ErrorCode.SLOT_TAKEN, "start") for e in refused
    )
    in_a = await _agenda(stack, salon.in_a(), monday)
    in_b = await _agenda(stack, salon.in_b(), monday)
    assert len(in_a) + len(in_b) == 8


async def test_without_a_staff_member_the_first_free_member_working_then_is_booked(
    stack: Stack,
) -> None:
    salon = await _salon(stack)
    monday = _monday()
    late = _id()
    await _member(stack, salon.org, salon.a, late)
    await _staff_hours(stack, salon.org, salon.a, late, [(1, "14:00", "18:00")])
    ten = _at(monday, "10:00")

    first = await _book(stack, salon.in_a(), salon.client, salon.service, ten)
    second = await _book(stack, salon.in_a(), salon.client, salon.service, ten)
    none_left = await _error(_book(stack, salon.in_a(), salon.client, salon.service, ten))
    afternoon = [
        await _book(stack, salon.in_a(), salon.client, salon.service, _at(monday, "15:00"))
        for _ in range(3)
    ]

    # Members in the order they became known: `both`, `only_a`, then `late` (who works
    # from 14:00 only).
    assert (first.staff_id, second.staff_id) == (salon.both, salon.only_a)
    assert (none_left.code, none_left.field) == (ErrorCode.SLOT_TAKEN, "start")
    assert [a.staff_id for a in afternoon] == [salon.both, salon.only_a, late]


# -- R21, R22, R12: per establishment ---------------------------------------------------------


async def test_R21_opening_hours_are_per_establishment(stack: Stack) -> None:
    salon = await _salon(stack)
    other_org, theirs = _id(), _id()
    await _open(stack, other_org, theirs, [(1, "07:00", "08:00")])
    monday = _monday()

    changed = await _open(stack, salon.org, salon.b, [(1, "13:00", "20:00"), (1, "08:00", "12:00")])
    reply = await stack.booking.GetOpeningHours(
        booking_pb2.GetOpeningHoursRequest(
            establishment_ids=[salon.b, salon.a, _id(), theirs, salon.b]
        ),
        metadata=salon.in_a(),
        timeout=5,
    )

    assert changed.establishment_id == salon.b
    assert [(h.weekday, h.opens, h.closes) for h in changed.hours] == [
        (1, "08:00", "12:00"),
        (1, "13:00", "20:00"),
    ]
    [b, a, unknown, foreign] = reply.establishments
    assert b == changed
    assert (a.establishment_id, len(a.hours)) == (salon.a, 7)
    assert (len(unknown.hours), foreign.establishment_id, len(foreign.hours)) == (0, theirs, 0)

    # 12:00-13:00 on Monday: open in A, closed in B.
    noon = _at(monday, "12:00")
    in_a = await _book(stack, salon.in_a(), salon.client, salon.service, noon, salon.both)
    error = await _error(
        _book(stack, salon.in_b(), salon.client, salon.service, noon + timedelta(days=7))
    )
    assert in_a.establishment_id == salon.a
    assert (error.code, error.field) == (ErrorCode.OUTSIDE_OPENING_HOURS, "start")
    # B is closed on Tuesdays now.
    assert await _slots(stack, salon.in_b(), salon.service, monday + timedelta(days=1)) == []
    assert (await _slots(stack, salon.in_b(), salon.service, monday))[0] == ("08:00", salon.both)


async def test_R22_staff_hours_are_per_establishment(stack: Stack) -> None:
    salon = await _salon(stack)
    monday = _monday()
    hours = await _staff_hours(stack, salon.org, salon.a, salon.both, [(1, "13:00", "18:00")])

    outside = await _error(
        _book(stack, salon.in_a(), salon.client, salon.service, _at(monday, "10:00"), salon.both)
    )
    in_b = await _book(
        stack, salon.in_b(), salon.client, salon.service, _at(monday, "10:00"), salon.both
    )
    in_a = await _book(
        stack, salon.in_a(), salon.client, salon.service, _at(monday, "14:00"), salon.both
    )
    slots = await _slots(stack, salon.in_a(), salon.service, monday)

    assert (hours.establishment_id, hours.staff_id) == (salon.a, salon.both)
    assert (outside.code, outside.field) == (ErrorCode.OUTSIDE_OPENING_HOURS, "staffId")
    assert (in_b.establishment_id, in_a.establishment_id) == (salon.b, salon.a)
    theirs = [start for start, staff in slots if staff == salon.both]
    assert theirs[0] == "13:00" and "14:00" not in theirs and theirs[-1] == "17:00"
    assert next(start for start, staff in slots if staff == salon.only_a) == "09:00"

    # Their own hours removed: the opening hours again.
    await _staff_hours(stack, salon.org, salon.a, salon.both, [])
    again = await _slots(stack, salon.in_a(), salon.service, monday)
    assert next(start for start, staff in again if staff == salon.both) == "09:00"


async def test_R12_the_duration_is_the_service_s_in_the_establishment(stack: Stack) -> None:
    salon = await _salon(stack)
    monday = _monday()
    await stack.catalog.UpdateService(
        catalog_pb2.UpdateServiceRequest(id=salon.service, duration_minutes=90),
        metadata=salon.in_b(role=Role.OWNER),
        timeout=5,
    )

    in_a = await _book(
        stack, salon.in_a(), salon.client, salon.service, _at(monday, "09:00"), salon.both
    )
    in_b = await _book(
        stack, salon.in_b(), salon.client, salon.service, _at(monday, "11:00"), salon.both
    )
    slots_b = await _slots(stack, salon.in_b(), salon.service, monday)

    assert (_local(in_a.start), _local(in_a.end)) == ("09:00", "10:00")
    assert (_local(in_b.start), _local(in_b.end)) == ("11:00", "12:30")
    # 90 minutes in B: the last slot starts at 16:30.
    assert slots_b[-1] == ("16:30", salon.both)


async def test_R04_agenda_of_another_establishment_needs_SWITCH_AGENDA(stack: Stack) -> None:
    salon = await _salon(stack)
    other_org, theirs = _id(), _id()
    await _open(stack, other_org, theirs)
    monday = _monday()
    in_b = await _book(
        stack, salon.in_b(), salon.client, salon.service, _at(monday, "11:00"), salon.both
    )
    await _book(stack, salon.in_a(), salon.client, salon.service, _at(monday, "09:00"))

    forbidden = await _error(_agenda(stack, salon.in_a(), monday, salon.b))
    with_right = await _agenda(stack, salon.in_a(Right.SWITCH_AGENDA), monday, salon.b)
    owner = await _agenda(stack, salon.in_a(role=Role.OWNER), monday, salon.b)
    own = await _agenda(stack, salon.in_a(), monday, salon.a)
    not_found = [
        await _error(_agenda(stack, salon.in_a(Right.SWITCH_AGENDA, role=Role.OWNER), monday, e))
        for e in (theirs, _id())
    ]

    assert (forbidden.code, forbidden.field) == (ErrorCode.FORBIDDEN, "establishmentId")
    assert [a.id for a in with_right] == [in_b.id] and owner == with_right
    assert [a.establishment_id for a in own] == [salon.a]
    assert {(e.code, e.field) for e in not_found} == {(ErrorCode.NOT_FOUND, "establishmentId")}


# -- availability -----------------------------------------------------------------------------


async def test_B09_a_person_booked_in_B_is_neither_free_nor_bookable_in_A_then(
    stack: Stack,
) -> None:
    salon = await _salon(stack)
    monday = _monday()
    await _open(stack, salon.org, salon.a, [(1, "09:00", "12:00")])
    await _book(stack, salon.in_b(), salon.client, salon.service, _at(monday, "10:00"), salon.both)

    slots = await _slots(stack, salon.in_a(), salon.service, monday)

    assert [start for start, staff in slots if staff == salon.both] == ["09:00", "11:00"]
    assert [start for start, staff in slots if staff == salon.only_a] == [
        "09:00",
        "09:15",
        "09:30",
        "09:45",
        "10:00",
        "10:15",
        "10:30",
        "10:45",
        "11:00",
    ]
    assert slots == sorted(slots)  # by start, then staff id

    overlapping = await _error(
        _book(stack, salon.in_a(), salon.client, salon.service, _at(monday, "10:30"), salon.both)
    )
    before = await _book(
        stack, salon.in_a(), salon.client, salon.service, _at(monday, "09:00"), salon.both
    )
    after = await _book(
        stack, salon.in_a(), salon.client, salon.service, _at(monday, "11:00"), salon.both
    )
    colleague = await _book(
        stack, salon.in_a(), salon.client, salon.service, _at(monday, "10:30"), salon.only_a
    )
    assert (overlapping.code, overlapping.field) == (ErrorCode.SLOT_TAKEN, "start")
    assert [_local(a.start) for a in (before, after, colleague)] == ["09:00", "11:00", "10:30"]
    assert await _slots(stack, salon.in_a(), salon.service, monday) == [
        ("09:00", salon.only_a),
        ("09:15", salon.only_a),
        ("09:30", salon.only_a),
    ]

    # No slot in the past, opening hours or not.
    yesterday = datetime.now(BRUSSELS).date() - timedelta(days=1)
    assert await _slots(stack, salon.in_a(), salon.service, yesterday) == []


async def test_availability_of_another_establishment_needs_no_right(stack: Stack) -> None:
    salon = await _salon(stack)
    other_org, theirs = _id(), _id()
    await _open(stack, other_org, theirs)
    monday = _monday()
    # The gateway vouches for B (the catalogue has not heard of it yet).
    md = _md(salon.org, salon.a, establishments=[salon.b])

    from_a = await _slots(stack, md, salon.service, monday, salon.b)
    from_b = await _slots(stack, salon.in_b(), salon.service, monday)
    errors = [
        await _error(_slots(stack, salon.in_a(role=Role.OWNER), salon.service, monday, e))
        for e in (theirs, _id())
    ]

    assert from_a == from_b and from_a[0] == ("09:00", salon.both)
    assert {s for _start, s in from_a} == {salon.both}
    assert {(e.code, e.field) for e in errors} == {(ErrorCode.NOT_FOUND, "establishmentId")}

    # Online only (the public page): a service bookable online in B only.
    await stack.catalog.UpdateService(
        catalog_pb2.UpdateServiceRequest(id=salon.service, bookable_online=True),
        metadata=salon.in_b(role=Role.OWNER),
        timeout=5,
    )

    async def online(est: str) -> Any:
        return await stack.booking.Availability(
            booking_pb2.AvailabilityRequest(
                service_id=salon.service, date=monday.isoformat(), online_only=True
            ),
            metadata=_md(salon.org, est),
            timeout=5,
        )

    assert len((await online(salon.b)).slots) == len(from_b)
    not_online = await _error(online(salon.a))
    assert (not_online.code, not_online.field) == (ErrorCode.NOT_FOUND, "serviceId")


async def test_cancelling_frees_the_slot(stack: Stack) -> None:
    salon = await _salon(stack)
    monday = _monday()
    ten = _at(monday, "10:00")
    booked = await _book(stack, salon.in_a(), salon.client, salon.service, ten, salon.both)
    assert ("10:00", salon.both) not in await _slots(stack, salon.in_a(), salon.service, monday)

    cancelled = await stack.booking.CancelAppointment(
        booking_pb2.CancelAppointmentRequest(id=booked.id), metadata=salon.in_a(), timeout=5
    )
    again = await _error(
        stack.booking.CancelAppointment(
            booking_pb2.CancelAppointmentRequest(id=booked.id), metadata=salon.in_a(), timeout=5
        )
    )

    assert (cancelled.id, cancelled.status) == (booked.id, CANCELLED)
    assert (again.code, again.field) == (ErrorCode.CONFLICT, "id")
    assert ("10:00", salon.both) in await _slots(stack, salon.in_a(), salon.service, monday)
    rebooked = await _book(stack, salon.in_b(), salon.client, salon.service, ten, salon.both)
    assert rebooked.status == BOOKED


async def test_R01_R21_an_appointment_is_cancelled_only_in_its_establishment(
    stack: Stack,
) -> None:
    salon = await _salon(stack)
    booked = await _book(
        stack, salon.in_a(), salon.client, salon.service, _at(_monday(), "10:00"), salon.both
    )

    errors = [
        await _error(
            stack.booking.CancelAppointment(
                booking_pb2.CancelAppointmentRequest(id=appointment_id), metadata=md, timeout=5
            )
        )
        for appointment_id, md in [
            (booked.id, salon.in_b(role=Role.OWNER)),
            (booked.id, _md(_id(), salon.a, role=Role.OWNER)),
            (_id(), salon.in_a()),
            ("", salon.in_a()),
        ]
    ]

    assert {(e.code, e.field) for e in errors} == {(ErrorCode.NOT_FOUND, "id")}
    # Still booked; read from any establishment of the organization, in no other one.
    ours = await stack.booking.GetAppointments(
        booking_pb2.GetAppointmentsRequest(ids=[_id(), booked.id, booked.id]),
        metadata=salon.in_b(),
        timeout=5,
    )
    theirs = await stack.booking.GetAppointments(
        booking_pb2.GetAppointmentsRequest(ids=[booked.id]),
        metadata=_md(_id(), salon.a, role=Role.OWNER),
        timeout=5,
    )
    assert list(ours.appointments) == [booked]
    assert list(theirs.appointments) == []


# -- refused input writes nothing -------------------------------------------------------------


async def test_bad_input_is_refused_and_nothing_is_written(stack: Stack) -> None:
    salon = await _salon(stack)
    other_org, theirs = _id(), _id()
    their_client = await _client(stack, other_org, theirs, "Bob")
    deleted = await _service(stack, salon.org, salon.a, 30)
    await stack.catalog.DeleteService(
        catalog_pb2.DeleteServiceRequest(id=deleted, confirm=True),
        metadata=salon.in_a(role=Role.OWNER),
        timeout=5,
    )
    monday = _monday()
    md = salon.in_a()
    ten = _at(monday, "10:00")
    stranger = _id()

    def book(client: str = salon.client, service: str = salon.service, **kw: Any) -> Any:
        return _book(stack, md, client, service, kw.get("start", ten), kw.get("staff", salon.both))

    cases = [
        (book(start=_at(monday, "08:30")), ErrorCode.OUTSIDE_OPENING_HOURS, "start"),
        (book(start=_at(monday, "17:30")), ErrorCode.OUTSIDE_OPENING_HOURS, "start"),
        (book(start=utcnow() - timedelta(hours=1)), ErrorCode.INVALID, "start"),
        (book(client=_id()), ErrorCode.NOT_FOUND, "clientId"),
        (book(client=their_client), ErrorCode.NOT_FOUND, "clientId"),
        (book(client=""), ErrorCode.INVALID, "clientId"),
        (book(service=_id()), ErrorCode.NOT_FOUND, "serviceId"),
        (book(service=deleted), ErrorCode.NOT_FOUND, "serviceId"),
        (book(service=""), ErrorCode.INVALID, "serviceId"),
        (book(staff=stranger), ErrorCode.NOT_FOUND, "staffId"),
        (
            stack.booking.BookAppointment(
                booking_pb2.BookAppointmentRequest(
                    client_id=salon.client, service_id=salon.service, staff_id=salon.both
                ),
                metadata=md,
                timeout=5,
            ),
            ErrorCode.INVALID,
            "start",
        ),
        (_agenda(stack, md, monday, "x" * 40), ErrorCode.NOT_FOUND, "establishmentId"),
        (
            stack.booking.ListAgenda(
                booking_pb2.ListAgendaRequest(date="2027-13-01"), metadata=md, timeout=5
            ),
            ErrorCode.INVALID,
            "date",
        ),
        (
            stack.booking.Availability(
                booking_pb2.AvailabilityRequest(service_id=salon.service, date="next monday"),
                metadata=md,
                timeout=5,
            ),
            ErrorCode.INVALID,
            "date",
        ),
        (
            _slots(stack, md, _id(), monday),
            ErrorCode.NOT_FOUND,
            "serviceId",
        ),
        (
            stack.booking.GetAppointments(
                booking_pb2.GetAppointmentsRequest(ids=[str(i) for i in range(1001)]),
                metadata=md,
                timeout=5,
            ),
            ErrorCode.INVALID,
            "ids",
        ),
        (
            stack.booking.SetStaffHours(
                booking_pb2.SetStaffHoursRequest(staff_id=stranger),
                metadata=_md(salon.org, salon.a, role=Role.MANAGER),
                timeout=5,
            ),
            ErrorCode.NOT_FOUND,
            "staffId",
        ),
        (  # R21: a staff member does not set the establishment's hours ...
            stack.booking.SetOpeningHours(
                booking_pb2.SetOpeningHoursRequest(
                    hours=[booking_pb2.OpeningHours(weekday=1, opens="09:00", closes="17:00")]
                ),
                metadata=md,
                timeout=5,
            ),
            ErrorCode.FORBIDDEN,
            None,
        ),
        (  # ... nor a colleague's week
            stack.booking.SetStaffHours(
                booking_pb2.SetStaffHoursRequest(staff_id=salon.both), metadata=md, timeout=5
            ),
            ErrorCode.FORBIDDEN,
            None,
        ),
        (_open(stack, salon.org, salon.a, [(8, "09:00", "17:00")]), ErrorCode.INVALID, "hours"),
        (_open(stack, salon.org, salon.a, [(1, "09:00", "24:30")]), ErrorCode.INVALID, "hours"),
        (_open(stack, salon.org, salon.a, [(1, "17:00", "09:00")]), ErrorCode.INVALID, "hours"),
        (
            _open(stack, salon.org, salon.a, [(1, "09:00", "13:00"), (1, "12:00", "18:00")]),
            ErrorCode.INVALID,
            "hours",
        ),
        (
            _staff_hours(stack, salon.org, salon.a, salon.both, [(0, "09:00", "17:00")]),
            ErrorCode.INVALID,
            "hours",
        ),
    ]
    for call, code, field in cases:
        error = await _error(call)
        assert (error.code, error.field) == (code, field), (code, field)
    # Without a valid scope: nobody.
    forged = ScopeSigner([b"not the secret" * 3]).metadata(Scope("o", "e", "u", Role.OWNER))
    for metadata in [None, forged]:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _book(stack, metadata, salon.client, salon.service, ten, salon.both)  # type: ignore[arg-type]
        assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED

    assert await _agenda(stack, md, monday) == []
    listed = await stack.booking.ListClientAppointments(
        booking_pb2.ListClientAppointmentsRequest(client_id=salon.client), metadata=md, timeout=5
    )
    assert list(listed.appointments) == []
    hours = await stack.booking.GetOpeningHours(
        booking_pb2.GetOpeningHoursRequest(establishment_ids=[salon.a]), metadata=md, timeout=5
    )
    assert len(hours.establishments[0].hours) == 7
    # `both` still works the opening hours in A, `stranger` is nobody's colleague.
    slots = await _slots(stack, md, salon.service, monday)
    assert {staff for _start, staff in slots} == {salon.both, salon.only_a}


# -- reads ------------------------------------------------------------------------------------


async def test_R21_the_agenda_and_a_client_s_list_hold_the_session_establishment_s_own(
    stack: Stack,
) -> None:
    salon = await _salon(stack)
    monday = _monday()
    late = await _book(
        stack, salon.in_a(), salon.client, salon.service, _at(monday, "16:00"), salon.both
    )
    early = await _book(
        stack, salon.in_a(), salon.client, salon.service, _at(monday, "09:00"), salon.only_a
    )
    next_day = await _book(
        stack, salon.in_a(), salon.client, salon.service, _at(monday, "09:00") + timedelta(days=1)
    )
    await _book(stack, salon.in_b(), salon.client, salon.service, _at(monday, "12:00"), salon.both)
    await stack.booking.CancelAppointment(
        booking_pb2.CancelAppointmentRequest(id=late.id), metadata=salon.in_a(), timeout=5
    )

    # The local day, by start, whatever the status.
    agenda = await _agenda(stack, salon.in_a(), monday)
    assert [(a.id, a.status) for a in agenda] == [(early.id, BOOKED), (late.id, CANCELLED)]

    async def listed(md: Metadata, upcoming_only: bool) -> list[str]:
        reply = await stack.booking.ListClientAppointments(
            booking_pb2.ListClientAppointmentsRequest(
                client_id=salon.client, upcoming_only=upcoming_only
            ),
            metadata=md,
            timeout=5,
        )
        return [a.id for a in reply.appointments]

    assert await listed(salon.in_a(), False) == [early.id, late.id, next_day.id]
    assert await listed(salon.in_a(), True) == [early.id, next_day.id]
    assert len(await listed(salon.in_b(), False)) == 1
    assert await listed(_md(_id(), salon.a), False) == []


# -- events -----------------------------------------------------------------------------------


async def test_bookings_cancellations_and_hours_are_published_as_events(stack: Stack) -> None:
    org = _id()
    nc = await nats.connect(stack.nats_url)
    received: list[Event] = []

    async def collect(msg: Any) -> None:
        received.append(Event.from_message(msg.subject, msg.headers, msg.data))

    sub = await nc.subscribe(f"salon.{org}.*.booking.>", cb=collect)
    try:
        salon = await _salon(stack, org)  # the opening hours of A and B: two events
        booked = await _book(
            stack, salon.in_b(), salon.client, salon.service, _at(_monday(), "10:00"), salon.both
        )
        await stack.booking.CancelAppointment(
            booking_pb2.CancelAppointmentRequest(id=booked.id), metadata=salon.in_b(), timeout=5
        )
        await _open(stack, salon.org, salon.a, [(2, "10:00", "16:00")])
        for _ in range(100):
            if len(received) >= 5:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
    finally:
        await sub.unsubscribe()
        await nc.close()

    a, b = salon.a, salon.b
    hours_set = "salon.booking.opening_hours.set.v1"
    assert {(e.type, e.subject) for e in received[:2]} == {
        (hours_set, f"salon.{org}.{a}.booking.opening_hours.set"),
        (hours_set, f"salon.{org}.{b}.booking.opening_hours.set"),
    }
    assert [(e.type, e.subject, e.establishment_id) for e in received[2:]] == [
        ("salon.booking.appointment.booked.v1", f"salon.{org}.{b}.booking.appointment.booked", b),
        (
            "salon.booking.appointment.cancelled.v1",
            f"salon.{org}.{b}.booking.appointment.cancelled",
            b,
        ),
        (hours_set, f"salon.{org}.{a}.booking.opening_hours.set", a),
    ]
    assert received[2].parse(events_pb2.AppointmentBooked).appointment == booked
    cancelled = received[3].parse(events_pb2.AppointmentCancelled).appointment
    assert (cancelled.id, cancelled.status) == (booked.id, CANCELLED)
    hours = received[4].parse(events_pb2.OpeningHoursSet).hours
    assert (hours.establishment_id, [h.opens for h in hours.hours]) == (a, ["10:00"])


# -- tenancy events ----------------------------------------------------------------------------


async def test_members_and_timezones_are_learnt_from_tenancy_events(stack: Stack) -> None:
    """A member known from tenancy.membership.added only (no vouching scope), in an
    establishment whose tenancy.establishment.created event says Europe/London."""
    org, london, staff = _id(), _id(), _id()
    london_tz = ZoneInfo("Europe/London")
    await _open(stack, org, london, [(d, "09:00", "17:00") for d in range(1, 8)])
    client, service = await asyncio.gather(
        _client(stack, org, london), _service(stack, org, london)
    )
    md = _md(org, london)
    monday = _monday()
    refused = await _error(_book(stack, md, client, service, _at(monday, "10:00"), staff))
    assert (refused.code, refused.field) == (ErrorCode.NOT_FOUND, "staffId")
    # Nobody works there yet.
    assert await _slots(stack, md, service, monday) == []

    await _publish(
        stack,
        MEMBERSHIP_ADDED,
        org,
        london,
        tenancy_events_pb2.MembershipAdded(
            organization_id=org, establishment_id=london, user_id=staff
        ),
    )
    await _publish(
        stack,
        ESTABLISHMENT_CREATED,
        org,
        london,
        tenancy_events_pb2.EstablishmentCreated(
            organization_id=org, establishment_id=london, name="London", timezone="Europe/London"
        ),
    )
    for _ in range(100):
        reply = await stack.booking.Availability(
            booking_pb2.AvailabilityRequest(service_id=service, date=monday.isoformat()),
            metadata=md,
            timeout=5,
        )
        if reply.slots and _local(reply.slots[0].start, london_tz) == "09:00":
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the tenancy events were not applied")

    assert {s.staff_id for s in reply.slots} == {staff}
    booked = await _book(stack, md, client, service, _at(monday, "16:00", london_tz), staff)
    too_late = await _error(_book(stack, md, client, service, _at(monday, "16:30", london_tz)))
    assert _local(booked.end, london_tz) == "17:00"
    assert (too_late.code, too_late.field) == (ErrorCode.OUTSIDE_OPENING_HOURS, "start")
    assert [a.id for a in await _agenda(stack, md, monday)] == [booked.id]
