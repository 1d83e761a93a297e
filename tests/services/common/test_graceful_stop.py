"""SIGTERM on a real service process under load (issue 7, graceful operations): calls in
flight are answered, none is committed without its answer, the outbox is flushed before
the process exits; a restarted service resumes its durable consumers where they stopped,
taking what was published while it was down, once."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import nats
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import func, select

from launcher.nats_server import NatsServer
from launcher.stack import free_port
from salon.booking.v1 import booking_pb2
from salon.booking.v1 import events_pb2 as booking_events
from salon.clients.v1 import clients_pb2, clients_pb2_grpc
from services.clients.store.tables import client_establishments, clients, outbox
from services.common.db import Database, new_id
from services.common.events import Event, EventType
from services.common.scope import Role, Scope, ScopeSigner

SECRET = "k" * 40
SIGNER = ScopeSigner([SECRET.encode()])
CLIENT_CREATED = "clients.client.created"


@dataclass
class ClientsProcess:
    """`python -m services.clients` as a container runs it, configured by the environment."""

    database_url: str
    nats_url: str
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "SALON_DATABASE_URL": self.database_url,
            "SALON_NATS_URL": self.nats_url,
            "SALON_SCOPE_SECRET": SECRET,
            "SALON_GRPC_HOST": "127.0.0.1",
            "SALON_GRPC_PORT": str(self.port),
            "SALON_METRICS_PORT": "-1",
            "SALON_SHUTDOWN_GRACE_SECONDS": "10",
        }
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.clients"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    async def wait_serving(self, timeout: float = 30) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        async with grpc.aio.insecure_channel(f"127.0.0.1:{self.port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            while True:
                assert self.process is not None and self.process.poll() is None, self.log_tail()
                try:
                    reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                assert asyncio.get_running_loop().time() < deadline, self.log_tail()
                await asyncio.sleep(0.1)

    def terminate(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    async def exited(self, timeout: float = 30) -> int:
        assert self.process is not None
        return await asyncio.to_thread(self.process.wait, timeout)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


@pytest.fixture
async def service(
    database_url: str, nats_server: NatsServer, tmp_path: Path
) -> AsyncIterator[ClientsProcess]:
    running = ClientsProcess(database_url, nats_server.url, tmp_path / "clients.log")
    try:
        yield running
    finally:
        running.kill()


def _md(org: str, est: str) -> tuple[tuple[str, bytes], ...]:
    return SIGNER.metadata(Scope(org, est, new_id(), Role.STAFF))


async def _events_of(nats_url: str, org: str, kind: str) -> int:
    """How many events of this organization and kind the stream holds: the pending count
    of a new consumer filtered on their subject (no fetch window to time out under load)."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        info = await js.add_consumer(
            "SALON",
            ConsumerConfig(
                filter_subject=f"salon.{org}.*.{kind}",
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.EXPLICIT,
                inactive_threshold=30,
            ),
        )
        return int(info.num_pending or 0)
    finally:
        await nc.close()


def _booked(org: str, est: str, client_id: str) -> Event:
    """An appointment event as the booking service's relay publishes it."""
    kind = EventType("booking", "appointment", "booked")
    start = Timestamp()
    start.FromDatetime(datetime.now(UTC) + timedelta(days=2))
    appointment = booking_pb2.Appointment(
        id=new_id(),
        establishment_id=est,
        client_id=client_id,
        service_id=new_id(),
        staff_id=new_id(),
        start=start,
        end=start,
        status=booking_pb2.APPOINTMENT_STATUS_BOOKED,
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
        data=booking_events.AppointmentBooked(appointment=appointment).SerializeToString(),
    )


async def test_sigterm_under_load_answers_what_it_took_and_flushes_the_outbox(
    service: ClientsProcess,
) -> None:
    org, est = new_id(), new_id()
    service.start()
    await service.wait_serving()
    created: list[str] = []
    refused: list[grpc.StatusCode] = []
    stop_sent = asyncio.Event()

    async def client_loop(stub: clients_pb2_grpc.ClientsServiceStub) -> None:
        while True:
            try:
                reply = await stub.CreateClient(
                    clients_pb2.CreateClientRequest(
                        first_name="Load", last_name=secrets.token_hex(4)
                    ),
                    metadata=_md(org, est),
                    timeout=20,
                )
            except grpc.aio.AioRpcError as exc:
                refused.append(exc.code())
                if stop_sent.is_set():
                    return
                raise
            created.append(reply.id)

    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        stub = clients_pb2_grpc.ClientsServiceStub(channel)
        loops = [asyncio.create_task(client_loop(stub)) for _ in range(24)]
        while len(created) < 100:  # under load: calls are queued and in flight
            assert not any(t.done() for t in loops), [t.exception() for t in loops if t.done()]
            await asyncio.sleep(0.02)
        stop_sent.set()
        service.terminate()
        assert await service.exited() == 0, service.log_tail()
        await asyncio.wait_for(asyncio.gather(*loops), timeout=30)

    db = Database(service.database_url)
    try:
        # Across organizations: the outbox count is of the whole database.
        async with db.read(across_organizations=True) as conn:
            rows = await conn.scalar(
                select(func.count()).select_from(clients).where(clients.c.organization_id == org)
            )
            unsent = await conn.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
            )
    finally:
        await db.dispose()
    # Every call the service took was answered: no client committed behind a lost answer.
    assert rows == len(created) == len(set(created))
    # The relay flushed before the exit: each creation is in the stream, once.
    assert unsent == 0, service.log_tail()
    assert await _events_of(service.nats_url, org, CLIENT_CREATED) == len(created)
    # Calls after the stop are refused (UNAVAILABLE; one racing the shutdown of its
    # connection may see CANCELLED), never failed otherwise; the count above shows that
    # none of them was committed.
    assert refused and set(refused) <= {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED}


async def test_a_restarted_service_resumes_its_consumer_where_it_stopped(
    service: ClientsProcess,
) -> None:
    org, home, elsewhere, later = new_id(), new_id(), new_id(), new_id()
    service.start()
    await service.wait_serving()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        stub = clients_pb2_grpc.ClientsServiceStub(channel)
        ann = await stub.CreateClient(
            clients_pb2.CreateClientRequest(first_name="Ann", last_name="Peeters"),
            metadata=_md(org, home),
            timeout=5,
        )
    nc = await nats.connect(service.nats_url)
    try:
        js = nc.jetstream()
        first = _booked(org, elsewhere, ann.id)
        await js.publish(first.subject, first.data, headers=first.headers())
        db = Database(service.database_url)

        async def history() -> set[str]:
            async with db.read(organization_id=org) as conn:
                found = await conn.execute(
                    select(client_establishments.c.establishment_id).where(
                        client_establishments.c.organization_id == org,
                        client_establishments.c.client_id == ann.id,
                    )
                )
                return {row[0] for row in found}

        try:
            for _ in range(300):
                if elsewhere in await history():
                    break
                await asyncio.sleep(0.05)
            assert elsewhere in await history(), service.log_tail()
            service.terminate()
            assert await service.exited() == 0, service.log_tail()

            # While it is down: a new appointment elsewhere, and the first one again
            # (a redelivery under another message id), which the consumer takes in stride.
            second = _booked(org, later, ann.id)
            await js.publish(second.subject, second.data, headers=second.headers())
            again = {**first.headers(), "Nats-Msg-Id": new_id()}
            await js.publish(first.subject, first.data, headers=again)
            assert later not in await history()

            service.start()
            await service.wait_serving()
            for _ in range(300):
                if later in await history():
                    break
                await asyncio.sleep(0.05)
            assert await history() == {home, elsewhere, later}, service.log_tail()
        finally:
            await db.dispose()
    finally:
        await nc.close()
