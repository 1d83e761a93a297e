"""A checked-out appointment is completed: the booking service consumes the payments
service's `payments.receipt.created` events (published here as its outbox relay does) over
a real NATS server, with the real catalogue and client file as peers for booking, on
SQLite and (with TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import nats
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import select

from launcher.nats_server import NatsServer
from salon.booking.v1 import booking_pb2, booking_pb2_grpc, events_pb2
from salon.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from salon.clients.v1 import clients_pb2, clients_pb2_grpc
from salon.payments.v1 import events_pb2 as payments_events
from salon.payments.v1 import payments_pb2
from services.booking.events.consumers import PAYMENTS_DURABLE
from services.booking.service import SPEC as BOOKING
from services.booking.store.mail_tables import mail_queue
from services.booking.store.tables import processed_events
from services.catalog.service import SPEC as CATALOG
from services.clients.service import SPEC as CLIENTS
from services.common.db import Database, new_id, utcnow
from services.common.events import Event, EventType
from services.common.scope import Role, Scope
from tests.support.services import SIGNER, Metadata, metadata, running

T = TypeVar("T")

BRUSSELS = ZoneInfo("Europe/Brussels")
BOOKED = booking_pb2.APPOINTMENT_STATUS_BOOKED
CANCELLED = booking_pb2.APPOINTMENT_STATUS_CANCELLED
COMPLETED = booking_pb2.APPOINTMENT_STATUS_COMPLETED
RECEIPT_CREATED = EventType("payments", "receipt", "created")


@dataclass
class Stack:
    booking: booking_pb2_grpc.BookingServiceStub
    catalog: catalog_pb2_grpc.CatalogServiceStub
    clients: clients_pb2_grpc.ClientsServiceStub
    db: Database
    nats_url: str


@pytest.fixture
async def stack(database_url: str, nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[Stack]:
    """The catalogue and the client file on their own SQLite files, booking on the
    database under test."""
    databases = {
        "catalog": f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}",
        "clients": f"sqlite+aiosqlite:///{tmp_path / 'clients.db'}",
        "booking": database_url,
    }
    specs = {"catalog": CATALOG, "clients": CLIENTS, "booking": BOOKING}
    async with running(nats_server.url, databases, specs) as services:
        db = Database(database_url)
        try:
            yield Stack(
                booking_pb2_grpc.BookingServiceStub(services.channel("booking")),
                catalog_pb2_grpc.CatalogServiceStub(services.channel("catalog")),
                clients_pb2_grpc.ClientsServiceStub(services.channel("clients")),
                db,
                nats_server.url,
            )
        finally:
            await db.dispose()


# -- helpers ------------------------------------------------------------------------------


def _id() -> str:
    return secrets.token_hex(16)


async def _eventually(check: Callable[[], Awaitable[T]], timeout: float = 15.0) -> T:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await check()
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)


def _ts(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def _monday_at(clock: str) -> datetime:
    """The Monday after next at `clock` in Brussels: always ahead, never a DST change."""
    today = datetime.now(BRUSSELS).date()
    day: date = today + timedelta(days=7 - today.weekday() + 7)
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=BRUSSELS).astimezone(UTC)


@dataclass
class Salon:
    org: str
    est: str
    staff: str
    client: str
    service: str

    def md(self, *, role: Role = Role.STAFF) -> Metadata:
        return metadata(self.org, self.est, role=role)


async def _salon(stack: Stack) -> Salon:
    """An organization with one establishment open every day 09:00-18:00, a staff member,
    a client and a 60-minute service."""
    org, est, staff = _id(), _id(), _id()
    manager = metadata(org, est, role=Role.MANAGER)
    await stack.booking.SetOpeningHours(
        booking_pb2.SetOpeningHoursRequest(
            hours=[
                booking_pb2.OpeningHours(weekday=d, opens="09:00", closes="18:00")
                for d in range(1, 8)
            ]
        ),
        metadata=manager,
        timeout=5,
    )
    # A member of the establishment, as the gateway vouches for it.
    await stack.booking.SetStaffHours(
        booking_pb2.SetStaffHoursRequest(staff_id=staff),
        metadata=_with_member(org, est, staff),
        timeout=5,
    )
    client = await stack.clients.CreateClient(
        clients_pb2.CreateClientRequest(first_name="Ann", last_name="Peeters"),
        metadata=metadata(org, est),
        timeout=5,
    )
    service = await stack.catalog.CreateService(
        catalog_pb2.CreateServiceRequest(
            name="Cut", category="Hair", price="30.00", duration_minutes=60
        ),
        metadata=metadata(org, est, role=Role.OWNER),
        timeout=5,
    )
    return Salon(org, est, staff, client.id, service.service.id)


def _with_member(org: str, est: str, staff: str) -> Metadata:
    """A manager's scope vouching for `staff` as a member of `est`."""
    return SIGNER.metadata(
        Scope(org, est, "u-manager", Role.MANAGER, verified_members=frozenset({staff}))
    )


async def _book(stack: Stack, salon: Salon, clock: str) -> booking_pb2.Appointment:
    return await stack.booking.BookAppointment(
        booking_pb2.BookAppointmentRequest(
            client_id=salon.client,
            service_id=salon.service,
            staff_id=salon.staff,
            start=_ts(_monday_at(clock)),
        ),
        metadata=salon.md(),
        timeout=5,
    )


async def _appointments(stack: Stack, md: Metadata, *ids: str) -> list[booking_pb2.Appointment]:
    reply = await stack.booking.GetAppointments(
        booking_pb2.GetAppointmentsRequest(ids=list(ids)), metadata=md, timeout=5
    )
    return list(reply.appointments)


async def _status(stack: Stack, salon: Salon, appointment_id: str) -> int:
    [appointment] = await _appointments(stack, salon.md(), appointment_id)
    return appointment.status


def _receipt(org: str, est: str, appointment_id: str, client_id: str = "") -> Event:
    """What the payments service publishes once a checkout's receipt is written."""
    receipt = payments_pb2.Receipt(
        id=new_id(),
        number="000001",
        establishment_id=est,
        client_id=client_id,
        total="30.00",
        appointment_id=appointment_id,
    )
    return Event(
        id=new_id(),
        type=RECEIPT_CREATED.name,
        source="/salon/payments",
        time=utcnow(),
        organization_id=org,
        establishment_id=est,
        actor_id="u-till",
        subject=RECEIPT_CREATED.subject(org, est),
        data=payments_events.ReceiptCreated(receipt=receipt).SerializeToString(),
    )


async def _publish(nats_url: str, *events: Event, msg_id: str | None = None) -> None:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for event in events:
            headers = event.headers()
            if msg_id is not None:
                headers["Nats-Msg-Id"] = msg_id
            await js.publish(event.subject, event.data, headers=headers)
    finally:
        await nc.close()


async def _completed(stack: Stack, salon: Salon, appointment_id: str) -> None:
    async def check() -> None:
        assert await _status(stack, salon, appointment_id) == COMPLETED

    await _eventually(check)


async def _settled(stack: Stack, salon: Salon, clock: str) -> None:
    """Every receipt published so far has been consumed: a marker appointment's receipt
    published after them (the consumer takes the stream in order) has completed it."""
    marker = await _book(stack, salon, clock)
    await _publish(stack.nats_url, _receipt(salon.org, salon.est, marker.id))
    await _completed(stack, salon, marker.id)


async def _mails(stack: Stack, appointment_id: str) -> dict[str, str]:
    # The test looks by appointment id, whatever its organization.
    async with stack.db.read(across_organizations=True) as session:
        rows = await session.execute(
            select(mail_queue.c.kind, mail_queue.c.status).where(
                mail_queue.c.appointment_id == appointment_id
            )
        )
        return {kind: status for kind, status in rows}


class Collector:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def collect(self, msg: Any) -> None:
        self.events.append(Event.from_message(msg.subject, msg.headers, msg.data))


# -- tests --------------------------------------------------------------------------------


async def test_a_receipt_completes_its_appointment_with_its_event(stack: Stack) -> None:
    salon = await _salon(stack)
    appointment = await _book(stack, salon, "10:00")
    other = await _book(stack, salon, "12:00")

    # The booked event reached the mail queue: a reminder is pending.
    async def reminder_pending() -> None:
        assert (await _mails(stack, appointment.id)).get("reminder") == "pending"

    await _eventually(reminder_pending)
    collector = Collector()
    nc = await nats.connect(stack.nats_url)
    sub = await nc.subscribe(
        f"salon.{salon.org}.{salon.est}.booking.appointment.completed", cb=collector.collect
    )
    try:
        await _publish(stack.nats_url, _receipt(salon.org, salon.est, appointment.id, salon.client))
        await _completed(stack, salon, appointment.id)

        async def published() -> None:
            assert len(collector.events) == 1

        await _eventually(published)
    finally:
        await sub.unsubscribe()
        await nc.close()

    assert await _status(stack, salon, other.id) == BOOKED
    [event] = collector.events
    assert event.type == "salon.booking.appointment.completed.v1"
    assert event.actor_id == "u-till"
    body = event.parse(events_pb2.AppointmentCompleted).appointment
    assert (body.id, body.status, body.establishment_id, body.client_id) == (
        appointment.id,
        COMPLETED,
        salon.est,
        salon.client,
    )
    assert (body.start, body.end, body.staff_id) == (
        appointment.start,
        appointment.end,
        appointment.staff_id,
    )

    # The mail queue follows the completed event: the reminder is not sent.
    async def reminder_cancelled() -> None:
        assert (await _mails(stack, appointment.id)).get("reminder") == "cancelled"

    await _eventually(reminder_cancelled)
    assert (await _mails(stack, other.id)).get("reminder") == "pending"
    # A completed appointment frees nobody's slot and cannot be cancelled any more.
    agenda = await stack.booking.ListAgenda(
        booking_pb2.ListAgendaRequest(
            date=_monday_at("10:00").astimezone(BRUSSELS).date().isoformat()
        ),
        metadata=salon.md(),
        timeout=5,
    )
    assert {(a.id, a.status) for a in agenda.appointments} == {
        (appointment.id, COMPLETED),
        (other.id, BOOKED),
    }


async def test_a_cancelled_appointment_stays_cancelled(stack: Stack) -> None:
    salon = await _salon(stack)
    appointment = await _book(stack, salon, "10:00")
    await stack.booking.CancelAppointment(
        booking_pb2.CancelAppointmentRequest(id=appointment.id), metadata=salon.md(), timeout=5
    )

    await _publish(stack.nats_url, _receipt(salon.org, salon.est, appointment.id))
    await _settled(stack, salon, "14:00")

    assert await _status(stack, salon, appointment.id) == CANCELLED


async def test_the_same_receipt_twice_completes_once(stack: Stack) -> None:
    salon = await _salon(stack)
    appointment = await _book(stack, salon, "10:00")
    receipt = _receipt(salon.org, salon.est, appointment.id)
    collector = Collector()
    nc = await nats.connect(stack.nats_url)
    sub = await nc.subscribe(
        f"salon.{salon.org}.{salon.est}.booking.appointment.completed", cb=collector.collect
    )
    try:
        await _publish(stack.nats_url, receipt)
        await _completed(stack, salon, appointment.id)
        # Redelivered (another Nats-Msg-Id), and a second receipt for the same appointment.
        await _publish(stack.nats_url, receipt, msg_id=new_id())
        await _publish(stack.nats_url, _receipt(salon.org, salon.est, appointment.id))
        await _settled(stack, salon, "14:00")
        await asyncio.sleep(0.3)
    finally:
        await sub.unsubscribe()
        await nc.close()

    completed = [e.parse(events_pb2.AppointmentCompleted).appointment.id for e in collector.events]
    assert completed.count(appointment.id) == 1
    assert await _status(stack, salon, appointment.id) == COMPLETED


async def test_R01_an_appointment_of_another_organization_is_untouched(stack: Stack) -> None:
    salon = await _salon(stack)
    appointment = await _book(stack, salon, "10:00")
    other_org = _id()
    foreign = _receipt(other_org, salon.est, appointment.id)
    # Receipts without an appointment, or naming one that does not exist, change nothing.
    harmless = [_receipt(salon.org, salon.est, ""), _receipt(salon.org, salon.est, _id())]

    await _publish(stack.nats_url, foreign, *harmless)
    await _settled(stack, salon, "14:00")

    assert await _status(stack, salon, appointment.id) == BOOKED
    assert await _appointments(stack, metadata(other_org, salon.est), appointment.id) == []
    async with stack.db.read() as session:
        handled = (
            await session.execute(
                select(processed_events.c.event_id).where(
                    processed_events.c.consumer == PAYMENTS_DURABLE,
                    processed_events.c.event_id.in_([e.id for e in [foreign, *harmless]]),
                )
            )
        ).scalars()
        assert set(handled) == {e.id for e in [foreign, *harmless]}
