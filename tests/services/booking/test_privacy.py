"""B11 in the booking service over a real process (gRPC, NATS, SQLite and, with
TEST_DATABASE_URL, PostgreSQL): the export of a client's appointments, mails and manage
links; the erasure published as the clients service's relay does, handled once."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import grpc
import nats
import orjson
import pytest

from launcher.nats_server import NatsServer
from salon.booking.v1 import booking_pb2_grpc
from salon.clients.v1 import events_pb2 as clients_events
from salon.common.v1 import privacy_pb2
from services.booking.service import SPEC as BOOKING
from services.booking.store.mail_tables import mail_queue
from services.booking.store.tables import appointments, manage_tokens
from services.common.db import Database, new_id, utcnow
from services.common.errors import ErrorCode, from_rpc_error
from services.common.events import Event, EventType
from services.common.scope import Role
from tests.support.services import Metadata, metadata, running

T = TypeVar("T")
CLIENT_ERASED = EventType("clients", "client", "erased")


def _id() -> str:
    return secrets.token_hex(16)


def _owner(org: str, est: str) -> Metadata:
    return metadata(org, est, user_id="u-owner", role=Role.OWNER)


async def _eventually(check: Callable[[], Awaitable[T]], timeout: float = 15.0) -> T:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await check()
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)


async def _publish_erased(nats_url: str, org: str, est: str, client_id: str) -> None:
    """ClientErased into the stream as the clients service's relay does, each call under a
    new event id (a second call is a redelivery of the erasure)."""
    event = Event(
        id=new_id(),
        type=CLIENT_ERASED.name,
        source="/salon/clients",
        time=utcnow(),
        organization_id=org,
        establishment_id=est,
        actor_id="u-owner",
        subject=CLIENT_ERASED.subject(org, est),
        data=clients_events.ClientErased(client_id=client_id).SerializeToString(),
    )
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish(event.subject, event.data, headers=event.headers())
    finally:
        await nc.close()


async def _seed(db: Database, org: str, est: str, client_id: str) -> dict[str, str]:
    """An appointment with a sent confirmation and a pending reminder, and a manage link."""
    now = utcnow()
    start = now + timedelta(days=3)
    ids = {"appointment": new_id(), "sent": new_id(), "pending": new_id()}
    async with db.write(organization_id=org) as conn:
        await conn.execute(
            appointments.insert().values(
                id=ids["appointment"],
                organization_id=org,
                establishment_id=est,
                client_id=client_id,
                service_id="svc-1",
                staff_id="staff-1",
                start_at=start,
                end_at=start + timedelta(minutes=30),
                status="BOOKED",
                created_at=now,
                updated_at=now,
            )
        )
        for key, kind, status in (
            ("sent", "confirmation", "sent"),
            ("pending", "reminder", "pending"),
        ):
            await conn.execute(
                mail_queue.insert().values(
                    id=ids[key],
                    organization_id=org,
                    establishment_id=est,
                    appointment_id=ids["appointment"],
                    kind=kind,
                    client_id=client_id,
                    service_id="svc-1",
                    starts_at=start,
                    ends_at=start + timedelta(minutes=30),
                    recipient="ann@example.com",
                    subject="Your appointment, Ann",
                    body="Hello Ann,",
                    due_at=now,
                    status=status,
                    attempts=1,
                    next_attempt_at=now + timedelta(days=2),
                    sent_at=now if status == "sent" else None,
                    created_at=now,
                    updated_at=now,
                )
            )
        await conn.execute(
            manage_tokens.insert().values(
                token_hash=secrets.token_hex(32),
                organization_id=org,
                establishment_id=est,
                client_id=client_id,
                created_at=now,
            )
        )
    return ids


@pytest.fixture
async def booking(
    database_url: str, nats_server: NatsServer
) -> AsyncIterator[tuple[booking_pb2_grpc.BookingServiceStub, Database]]:
    async with running(nats_server.url, {"booking": database_url}, {"booking": BOOKING}) as s:
        db = Database(database_url)
        try:
            yield booking_pb2_grpc.BookingServiceStub(s.channel("booking")), db
        finally:
            await db.dispose()


async def _export(stub: booking_pb2_grpc.BookingServiceStub, md: Metadata, client_id: str) -> Any:
    reply = await stub.ExportClientData(
        privacy_pb2.ExportClientDataRequest(client_id=client_id), metadata=md, timeout=5
    )
    assert reply.service == "booking"
    return orjson.loads(reply.json)


async def test_B11_booking_exports_then_erases_its_copies(
    booking: tuple[booking_pb2_grpc.BookingServiceStub, Database], nats_server: NatsServer
) -> None:
    stub, db = booking
    org, est, client_id = _id(), _id(), _id()
    ids = await _seed(db, org, est, client_id)
    md = _owner(org, est)

    data = await _export(stub, md, client_id)
    (appointment,) = data["appointments"]
    assert (appointment["id"], appointment["establishmentId"], appointment["status"]) == (
        ids["appointment"],
        est,
        "BOOKED",
    )
    assert (appointment["serviceId"], appointment["staffId"]) == ("svc-1", "staff-1")
    assert appointment["start"].endswith("+00:00")
    mails = {m["id"]: m for m in data["mails"]}
    assert mails[ids["sent"]]["recipient"] == "ann@example.com"
    assert mails[ids["pending"]]["kind"] == "reminder"
    assert mails[ids["pending"]]["status"] == "pending"
    (link,) = data["manageLinks"]
    assert link["establishmentId"] == est and set(link) == {
        "establishmentId",
        "createdAt",
        "expiresAt",
    }

    # R01 and unknown clients: nothing, like a client without data here; owners only.
    assert await _export(stub, _owner(_id(), est), client_id) == {}
    assert await _export(stub, md, _id()) == {}
    for role in (Role.MANAGER, Role.STAFF):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _export(stub, metadata(org, est, role=role), client_id)
        error = from_rpc_error(caught.value)
        assert error is not None and error.code is ErrorCode.FORBIDDEN

    # An erasure in another organization first: taken and done with, nothing of it here.
    await _publish_erased(nats_server.url, _id(), est, client_id)
    await _publish_erased(nats_server.url, org, est, client_id)

    async def erased() -> Any:
        after = await _export(stub, md, client_id)
        assert "manageLinks" not in after
        for mail in after["mails"]:
            assert (mail["recipient"], mail["subject"], mail["body"]) == (None, None, None)
        return after

    after = await _eventually(erased)
    statuses = {m["id"]: m["status"] for m in after["mails"]}
    assert statuses == {ids["sent"]: "sent", ids["pending"]: "cancelled"}
    assert after["appointments"][0]["id"] == ids["appointment"]  # the history stays

    # A redelivery (another event id) is harmless.
    await _publish_erased(nats_server.url, org, est, client_id)
    await asyncio.sleep(0.3)
    assert await _export(stub, md, client_id) == after
