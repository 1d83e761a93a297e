"""The client file learns from the booking service's appointment events where a client
has history (R10), over a real clients process and a real NATS server, on SQLite and (with
TEST_DATABASE_URL) PostgreSQL: the events are published as the booking service's outbox
publishes them, with their CloudEvents headers."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import grpc
import nats
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import func, select

from launcher.nats_server import NatsServer
from salon.booking.v1 import booking_pb2
from salon.booking.v1 import events_pb2 as booking_events
from salon.clients.v1 import clients_pb2, clients_pb2_grpc
from services.clients.events.consumers import BOOKING_DURABLE
from services.clients.service import SPEC as CLIENTS
from services.clients.store.tables import client_establishments, processed_events
from services.common.db import Database, new_id, utcnow
from services.common.events import Event, EventType
from services.common.runtime import ServiceProcess
from services.common.scope import Role, Scope, ScopeSigner
from services.common.settings import ServiceSettings

SECRET = "k" * 40
SIGNER = ScopeSigner([SECRET.encode()])
T = TypeVar("T")

VERBS: dict[str, type[Message]] = {
    "booked": booking_events.AppointmentBooked,
    "moved": booking_events.AppointmentMoved,
    "cancelled": booking_events.AppointmentCancelled,
    "completed": booking_events.AppointmentCompleted,
}
STATUS = {
    "booked": booking_pb2.APPOINTMENT_STATUS_BOOKED,
    "moved": booking_pb2.APPOINTMENT_STATUS_BOOKED,
    "cancelled": booking_pb2.APPOINTMENT_STATUS_CANCELLED,
    "completed": booking_pb2.APPOINTMENT_STATUS_COMPLETED,
}


@dataclass
class Clients:
    stub: clients_pb2_grpc.ClientsServiceStub
    db: Database
    nats_url: str


@pytest.fixture
async def clients(database_url: str, nats_server: NatsServer) -> AsyncIterator[Clients]:
    settings = ServiceSettings(
        database_url=database_url,
        nats_url=nats_server.url,
        scope_secret=SECRET,
        grpc_port=0,
        shutdown_grace_seconds=1,
    )
    process = ServiceProcess(CLIENTS, settings)
    port = await process.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    db = Database(database_url)
    yield Clients(clients_pb2_grpc.ClientsServiceStub(channel), db, nats_server.url)
    await db.dispose()
    await channel.close()
    await process.stop()


def _id() -> str:
    return secrets.token_hex(16)


def _md(org: str, est: str) -> tuple[tuple[str, bytes], ...]:
    return SIGNER.metadata(Scope(org, est, _id(), Role.STAFF))


def _ts(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def _appointment_event(
    verb: str, org: str, est: str, client_id: str, appointment_id: str | None = None
) -> Event:
    """What the booking service publishes for an appointment of `client_id` in `est`."""
    kind = EventType("booking", "appointment", verb)
    start = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    appointment = booking_pb2.Appointment(
        id=appointment_id or new_id(),
        establishment_id=est,
        client_id=client_id,
        service_id=new_id(),
        staff_id=new_id(),
        start=_ts(start),
        end=_ts(start + timedelta(minutes=30)),
        status=STATUS[verb],
    )
    return Event(
        id=new_id(),
        type=kind.name,
        source="/salon/booking",
        time=datetime.now(UTC),
        organization_id=org,
        establishment_id=est,
        actor_id=None,
        subject=kind.subject(org, est),
        data=VERBS[verb](appointment=appointment).SerializeToString(),
    )


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


async def _create(clients: Clients, org: str, est: str, first: str = "Ann") -> clients_pb2.Client:
    return await clients.stub.CreateClient(
        clients_pb2.CreateClientRequest(first_name=first, last_name="Peeters"),
        metadata=_md(org, est),
        timeout=5,
    )


async def _establishments(clients: Clients, org: str, client_id: str) -> list[str]:
    got = await clients.stub.GetClients(
        clients_pb2.GetClientsRequest(ids=[client_id]), metadata=_md(org, _id()), timeout=5
    )
    [client] = got.clients
    return list(client.establishment_ids)


async def _listed_in(clients: Clients, org: str, est: str) -> list[clients_pb2.Client]:
    listed = await clients.stub.ListClients(
        clients_pb2.ListClientsRequest(establishment_id=est), metadata=_md(org, _id()), timeout=5
    )
    return list(listed.clients)


async def _settled(clients: Clients, org: str) -> None:
    """Every event published so far has been consumed: a marker appointment published
    after them (the consumer takes the stream in order) has had its effect."""
    a, m = _id(), _id()
    marker = await _create(clients, org, a, first="Marker")
    await _publish(clients.nats_url, _appointment_event("booked", org, m, marker.id))

    async def arrived() -> None:
        assert m in await _establishments(clients, org, marker.id)

    await _eventually(arrived)


async def test_R10_a_booked_appointment_lists_the_client_in_that_establishment(
    clients: Clients,
) -> None:
    org, a, b = _id(), _id(), _id()
    ann = await _create(clients, org, a)
    assert await _listed_in(clients, org, b) == []

    await _publish(clients.nats_url, _appointment_event("booked", org, b, ann.id))

    async def listed_in_b() -> list[clients_pb2.Client]:
        found = await _listed_in(clients, org, b)
        assert [c.id for c in found] == [ann.id]
        return found

    [listed] = await _eventually(listed_in_b)
    assert list(listed.establishment_ids) == [a, b]
    assert await _establishments(clients, org, ann.id) == [a, b]
    # Still one client file: listed in A as well, and once in the whole organization.
    assert [c.id for c in await _listed_in(clients, org, a)] == [ann.id]


async def test_R10_moved_and_completed_add_history_and_cancelled_keeps_it(
    clients: Clients,
) -> None:
    org, a, b, c, d = _id(), _id(), _id(), _id(), _id()
    ann = await _create(clients, org, a)
    booked = _appointment_event("booked", org, b, ann.id)
    appointment_id = booked.parse(booking_events.AppointmentBooked).appointment.id
    await _publish(
        clients.nats_url,
        booked,
        _appointment_event("cancelled", org, b, ann.id, appointment_id),
        _appointment_event("moved", org, c, ann.id),
        _appointment_event("completed", org, d, ann.id),
    )

    async def everywhere() -> None:
        assert set(await _establishments(clients, org, ann.id)) == {a, b, c, d}

    await _eventually(everywhere)
    await _settled(clients, org)
    # The cancelled appointment was arranged in B: the client keeps her history there.
    assert [x.id for x in await _listed_in(clients, org, b)] == [ann.id]
    assert set(await _establishments(clients, org, ann.id)) == {a, b, c, d}


async def test_R10_a_redelivered_event_applies_once(clients: Clients) -> None:
    org, a, b = _id(), _id(), _id()
    ann = await _create(clients, org, a)
    booked = _appointment_event("booked", org, b, ann.id)
    await _publish(clients.nats_url, booked)

    async def in_b() -> None:
        assert b in await _establishments(clients, org, ann.id)

    await _eventually(in_b)

    async def history() -> tuple[int, datetime]:
        async with clients.db.read(organization_id=org) as session:
            processed = (
                await session.execute(
                    select(func.count())
                    .select_from(processed_events)
                    .where(
                        processed_events.c.consumer == BOOKING_DURABLE,
                        processed_events.c.event_id == booked.id,
                    )
                )
            ).scalar_one()
            last_at = (
                await session.execute(
                    select(client_establishments.c.last_at).where(
                        client_establishments.c.client_id == ann.id,
                        client_establishments.c.establishment_id == b,
                    )
                )
            ).scalar_one()
        return int(processed), last_at

    before = await history()
    assert before[0] == 1
    # The same event (same ce-id) delivered again: past JetStream's duplicate window, or
    # after a crash before the ack.
    await _publish(clients.nats_url, booked, msg_id=new_id())
    await _settled(clients, org)
    assert await history() == before
    assert await _establishments(clients, org, ann.id) == [a, b]


async def test_R10_an_appointment_of_a_client_not_in_the_organization_is_ignored(
    clients: Clients,
) -> None:
    org, other_org, a, b = _id(), _id(), _id(), _id()
    ann = await _create(clients, org, a)
    ignored = [
        # Ann's id, but another organization's appointment.
        _appointment_event("booked", other_org, b, ann.id),
        # An id the client file does not know.
        _appointment_event("booked", org, b, new_id()),
    ]
    await _publish(clients.nats_url, *ignored)
    # The consumer goes on past both (the marker arrives), handled (not failing and
    # retried), and records nothing for them.
    await _settled(clients, org)
    # Across organizations: neither event left a row, in whichever organization.
    async with clients.db.read(across_organizations=True) as session:
        handled = (
            await session.execute(
                select(processed_events.c.event_id).where(
                    processed_events.c.consumer == BOOKING_DURABLE,
                    processed_events.c.event_id.in_([e.id for e in ignored]),
                )
            )
        ).scalars()
        assert set(handled) == {e.id for e in ignored}
        in_b = (
            await session.execute(
                select(func.count())
                .select_from(client_establishments)
                .where(client_establishments.c.establishment_id == b)
            )
        ).scalar_one()
    assert in_b == 0
    assert await _establishments(clients, org, ann.id) == [a]
    assert await _listed_in(clients, org, b) == []
    assert await _listed_in(clients, other_org, b) == []
