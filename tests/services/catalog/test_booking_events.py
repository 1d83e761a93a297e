"""The catalogue counts a service's future appointments from the booking service's
appointment events, for the impact of a delete (B05): over a real catalog process and a
real NATS server, on SQLite and (with TEST_DATABASE_URL) PostgreSQL. The events are
published as the booking service's outbox publishes them, with their CloudEvents headers,
more than once and out of order."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import grpc
import nats
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import select

from launcher.nats_server import NatsServer
from salon.booking.v1 import booking_pb2
from salon.booking.v1 import events_pb2 as booking_events
from salon.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from services.catalog.domain.model import AppointmentFact, AppointmentStatus, supersedes
from services.catalog.events.consumers import BOOKING_DURABLE
from services.catalog.service import SPEC as CATALOG
from services.catalog.store import repository
from services.catalog.store.tables import processed_events, service_appointments
from services.common.db import Database, new_id, utcnow
from services.common.events import Event, EventType
from services.common.runtime import ServiceProcess
from services.common.scope import Role, Scope, ScopeSigner
from services.common.settings import ServiceSettings

SECRET = "k" * 40
SIGNER = ScopeSigner([SECRET.encode()])
T = TypeVar("T")
Metadata = tuple[tuple[str, bytes], ...]

VERBS: dict[str, tuple[type[Message], int]] = {
    "booked": (booking_events.AppointmentBooked, booking_pb2.APPOINTMENT_STATUS_BOOKED),
    "moved": (booking_events.AppointmentMoved, booking_pb2.APPOINTMENT_STATUS_BOOKED),
    "cancelled": (booking_events.AppointmentCancelled, booking_pb2.APPOINTMENT_STATUS_CANCELLED),
    "completed": (booking_events.AppointmentCompleted, booking_pb2.APPOINTMENT_STATUS_COMPLETED),
}


@dataclass
class Catalog:
    stub: catalog_pb2_grpc.CatalogServiceStub
    db: Database
    nats_url: str


@pytest.fixture
async def catalog(database_url: str, nats_server: NatsServer) -> AsyncIterator[Catalog]:
    settings = ServiceSettings(
        database_url=database_url,
        nats_url=nats_server.url,
        scope_secret=SECRET,
        grpc_port=0,
        shutdown_grace_seconds=1,
    )
    process = ServiceProcess(CATALOG, settings)
    port = await process.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    db = Database(database_url)
    yield Catalog(catalog_pb2_grpc.CatalogServiceStub(channel), db, nats_server.url)
    await db.dispose()
    await channel.close()
    await process.stop()


def _id() -> str:
    return secrets.token_hex(16)


def _md(org: str, est: str) -> Metadata:
    return SIGNER.metadata(Scope(org, est, _id(), Role.MANAGER))


def _ts(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


@dataclass
class Appointment:
    """One appointment of the booking service, and the events it publishes for it."""

    org: str
    est: str
    service_id: str
    start: datetime
    id: str = ""

    def __post_init__(self) -> None:
        self.id = self.id or new_id()

    def event(self, verb: str, at: datetime | None = None, **changes: Any) -> Event:
        """The `verb` event with the appointment as it then is; `at`: the event's time."""
        for name, value in changes.items():
            setattr(self, name, value)
        message_type, status = VERBS[verb]
        kind = EventType("booking", "appointment", verb)
        appointment = booking_pb2.Appointment(
            id=self.id,
            establishment_id=self.est,
            client_id=new_id(),
            service_id=self.service_id,
            staff_id=new_id(),
            start=_ts(self.start),
            end=_ts(self.start + timedelta(minutes=30)),
            status=status,  # type: ignore[arg-type]
        )
        return Event(
            id=new_id(),
            type=kind.name,
            source="/salon/booking",
            time=at or datetime.now(UTC),
            organization_id=self.org,
            establishment_id=self.est,
            actor_id=None,
            subject=kind.subject(self.org, self.est),
            data=message_type(appointment=appointment).SerializeToString(),
        )


def _in(days: float) -> datetime:
    return (utcnow() + timedelta(days=days)).replace(microsecond=0)


async def _publish(nats_url: str, *events: Event, msg_id: str | None = None) -> None:
    """Into the stream, as the booking service's outbox relay does; `msg_id`: another
    Nats-Msg-Id, so that JetStream keeps a second copy (a redelivery to the consumer)."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for event in events:
            headers = event.headers()
            if msg_id is not None:
                headers["Nats-Msg-Id"] = msg_id
            ack = await js.publish(event.subject, event.data, headers=headers)
            assert not ack.duplicate
    finally:
        await nc.close()


async def _eventually(check: Callable[[], Awaitable[T]], timeout: float = 15.0) -> T:
    """Effects that travel by events: wait for them, within reason."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await check()
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)


async def _count(catalog: Catalog, org: str, service_id: str) -> int:
    async with catalog.db.read(organization_id=org) as session:
        return await repository.future_appointments(session, org, service_id)


async def _counts(catalog: Catalog, org: str, service_id: str, expected: int) -> None:
    async def check() -> None:
        assert await _count(catalog, org, service_id) == expected

    await _eventually(check)


async def _settled(catalog: Catalog, org: str) -> None:
    """Every event published so far has been consumed: a marker appointment published
    after them (the consumer takes the stream in order) has been counted."""
    marker = Appointment(org, _id(), _id(), _in(1))
    await _publish(catalog.nats_url, marker.event("booked"))
    await _counts(catalog, org, marker.service_id, 1)


async def _cut(catalog: Catalog, md: Metadata) -> catalog_pb2.Service:
    change = await catalog.stub.CreateService(
        catalog_pb2.CreateServiceRequest(
            name="Cut", category="Hair", price="40", duration_minutes=30, bookable_online=True
        ),
        metadata=md,
        timeout=5,
    )
    return change.service


async def _listed(catalog: Catalog, md: Metadata) -> list[str]:
    listed = await catalog.stub.ListServices(
        catalog_pb2.ListServicesRequest(), metadata=md, timeout=5
    )
    return [s.id for s in listed.services]


async def _delete(
    catalog: Catalog, md: Metadata, service_id: str, confirm: bool = False
) -> catalog_pb2.DeleteServiceResponse:
    return await catalog.stub.DeleteService(
        catalog_pb2.DeleteServiceRequest(id=service_id, confirm=confirm), metadata=md, timeout=5
    )


async def test_B05_a_future_appointment_makes_the_delete_ask_for_confirmation(
    catalog: Catalog,
) -> None:
    org, a, b = _id(), _id(), _id()
    md = _md(org, a)
    cut = await _cut(catalog, md)
    await _publish(catalog.nats_url, Appointment(org, b, cut.id, _in(2)).event("booked"))
    await _counts(catalog, org, cut.id, 1)

    impact = await _delete(catalog, md, cut.id)
    assert impact.deleted_service_id == ""
    assert impact.future_appointments == 1
    assert list(impact.establishment_ids) == [a]
    assert await _listed(catalog, md) == [cut.id]

    confirmed = await _delete(catalog, md, cut.id, confirm=True)
    assert (confirmed.deleted_service_id, confirmed.future_appointments) == (cut.id, 1)
    assert await _listed(catalog, md) == []


async def test_B05_a_cancelled_appointment_no_longer_counts_and_is_not_resurrected(
    catalog: Catalog,
) -> None:
    org, a = _id(), _id()
    md = _md(org, a)
    cut = await _cut(catalog, md)
    visit = Appointment(org, a, cut.id, _in(2))
    booked = visit.event("booked")
    await _publish(catalog.nats_url, booked)
    await _counts(catalog, org, cut.id, 1)

    await _publish(catalog.nats_url, visit.event("cancelled"))
    await _counts(catalog, org, cut.id, 0)

    # The booked event redelivered (same id: applied once), and published again by the
    # booking service under a new id (an older state): neither brings the appointment back.
    again = replace(booked, id=new_id())
    await _publish(catalog.nats_url, booked, msg_id=new_id())
    await _publish(catalog.nats_url, again)
    await _settled(catalog, org)
    assert await _count(catalog, org, cut.id) == 0
    async with catalog.db.read(organization_id=org) as session:
        applied = (
            await session.execute(
                select(processed_events.c.event_id).where(
                    processed_events.c.consumer == BOOKING_DURABLE,
                    processed_events.c.event_id.in_([booked.id, again.id]),
                )
            )
        ).scalars()
        assert sorted(applied) == sorted([booked.id, again.id])
        status = (
            await session.execute(
                select(service_appointments.c.status).where(
                    service_appointments.c.organization_id == org,
                    service_appointments.c.appointment_id == visit.id,
                )
            )
        ).scalar_one()
    assert status == "cancelled"

    deleted = await _delete(catalog, md, cut.id)
    assert (deleted.deleted_service_id, deleted.future_appointments) == (cut.id, 0)
    assert await _listed(catalog, md) == []


async def test_B05_past_and_completed_appointments_do_not_count(catalog: Catalog) -> None:
    org, a = _id(), _id()
    md = _md(org, a)
    cut = await _cut(catalog, md)
    done = Appointment(org, a, cut.id, _in(1))
    await _publish(
        catalog.nats_url,
        Appointment(org, a, cut.id, _in(-1)).event("booked"),
        Appointment(org, a, cut.id, utcnow() - timedelta(minutes=1)).event("booked"),
        done.event("booked"),
        done.event("completed"),
    )
    await _settled(catalog, org)
    assert await _count(catalog, org, cut.id) == 0
    # Another organization's appointment of the same service id is not this one's.
    await _publish(catalog.nats_url, Appointment(_id(), a, cut.id, _in(3)).event("booked"))
    await _settled(catalog, org)
    assert await _count(catalog, org, cut.id) == 0

    deleted = await _delete(catalog, md, cut.id)
    assert (deleted.deleted_service_id, deleted.future_appointments) == (cut.id, 0)


async def test_B05_events_out_of_order_end_in_the_latest_state(catalog: Catalog) -> None:
    org, a = _id(), _id()
    md = _md(org, a)
    cut = await _cut(catalog, md)
    colour = await catalog.stub.CreateService(
        catalog_pb2.CreateServiceRequest(name="Colour", price="60", duration_minutes=60),
        metadata=md,
        timeout=5,
    )
    t0 = datetime.now(UTC)
    # Booked for a cut, then moved to a colour three days later, then moved again to four
    # days later: the booking service's order. They arrive the other way round.
    visit = Appointment(org, a, cut.id, _in(2))
    booked = visit.event("booked", at=t0)
    moved = visit.event("moved", at=t0 + timedelta(seconds=1), service_id=colour.service.id)
    moved_again = visit.event("moved", at=t0 + timedelta(seconds=2), start=_in(4))
    # A second one: cancelled after its move; the move arrives last.
    other = Appointment(org, a, cut.id, _in(5))
    other_booked = other.event("booked", at=t0)
    other_moved = other.event("moved", at=t0 + timedelta(seconds=1), start=_in(6))
    other_cancelled = other.event("cancelled", at=t0 + timedelta(seconds=2))
    await _publish(
        catalog.nats_url,
        moved_again,
        moved,
        booked,
        other_cancelled,
        other_booked,
        other_moved,
    )
    await _settled(catalog, org)
    assert await _count(catalog, org, cut.id) == 0
    assert await _count(catalog, org, colour.service.id) == 1
    async with catalog.db.read(organization_id=org) as session:
        rows = {
            r.appointment_id: r
            for r in await session.execute(
                select(service_appointments).where(service_appointments.c.organization_id == org)
            )
        }
    assert (rows[visit.id].service_id, rows[visit.id].start_at) == (colour.service.id, visit.start)
    assert rows[visit.id].status == "booked"
    assert rows[other.id].status == "cancelled"

    impact = await _delete(catalog, md, colour.service.id)
    assert (impact.deleted_service_id, impact.future_appointments) == ("", 1)
    assert (await _delete(catalog, md, cut.id)).deleted_service_id == cut.id


def test_B05_what_an_appointment_event_replaces() -> None:
    t0 = datetime.now(UTC)
    later, earlier = t0 + timedelta(seconds=1), t0 - timedelta(seconds=1)
    booked, cancelled = AppointmentStatus.BOOKED, AppointmentStatus.CANCELLED
    completed = AppointmentStatus.COMPLETED

    def fact(status: AppointmentStatus, at: datetime, first: bool = False) -> AppointmentFact:
        return AppointmentFact("x", "s", t0, status, at, first)

    # A booked event is an appointment's first: it never replaces what is recorded.
    assert not supersedes(fact(booked, later, first=True), booked, t0)
    assert not supersedes(fact(booked, later, first=True), cancelled, t0)
    # Moves: the later one wins, a tie to the newcomer.
    assert supersedes(fact(booked, later), booked, t0)
    assert supersedes(fact(booked, t0), booked, t0)
    assert not supersedes(fact(booked, earlier), booked, t0)
    # An end is never undone by a booked state, and always replaces one.
    assert not supersedes(fact(booked, later), cancelled, t0)
    assert supersedes(fact(cancelled, earlier), booked, t0)
    assert supersedes(fact(completed, later), cancelled, t0)
    assert not supersedes(fact(completed, earlier), cancelled, t0)
