"""The clients service over real gRPC on loopback: scope verification, error details,
isolation between organizations, events published; the other services' health."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import grpc
import nats
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from launcher.nats_server import NatsServer
from salon.booking.v1 import booking_pb2, booking_pb2_grpc
from salon.clients.v1 import clients_pb2, clients_pb2_grpc, events_pb2
from services.booking.service import SPEC as BOOKING
from services.clients.service import SPEC as CLIENTS
from services.common.errors import ErrorCode, from_rpc_error
from services.common.events import Event
from services.common.runtime import ServiceProcess
from services.common.scope import Role, Scope, ScopeSigner
from services.common.settings import ServiceSettings

SECRET = "k" * 40  # 32+ characters, as production mode demands
SIGNER = ScopeSigner([SECRET.encode()])


def _settings(database_url: str, nats_url: str) -> ServiceSettings:
    return ServiceSettings(
        database_url=database_url,
        nats_url=nats_url,
        scope_secret=SECRET,
        grpc_port=0,
        shutdown_grace_seconds=1,
    )


@pytest.fixture
async def clients_stub(
    database_url: str, nats_server: NatsServer
) -> AsyncIterator[clients_pb2_grpc.ClientsServiceStub]:
    process = ServiceProcess(CLIENTS, _settings(database_url, nats_server.url))
    port = await process.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    yield clients_pb2_grpc.ClientsServiceStub(channel)
    await channel.close()
    await process.stop()


def _md(org: str | None = None, est: str | None = None) -> tuple[tuple[str, bytes], ...]:
    return SIGNER.metadata(
        Scope(
            org or secrets.token_hex(16),
            est or secrets.token_hex(16),
            secrets.token_hex(16),
            Role.STAFF,
        )
    )


async def test_calls_without_a_valid_scope_are_unauthenticated(clients_stub) -> None:
    request = clients_pb2.CreateClientRequest(first_name="Ann", last_name="Peeters")
    forged = ScopeSigner([b"not the secret" * 3]).metadata(Scope("o", "e", "u", Role.OWNER))
    for metadata in [None, forged]:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await clients_stub.CreateClient(request, metadata=metadata, timeout=5)
        assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_invalid_input_carries_code_and_field_and_writes_nothing(clients_stub) -> None:
    md = _md()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await clients_stub.CreateClient(
            clients_pb2.CreateClientRequest(first_name="Ann", last_name="P", email="nope"),
            metadata=md,
            timeout=5,
        )
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    error = from_rpc_error(caught.value)
    assert error is not None and error.code is ErrorCode.INVALID and error.field == "email"
    listed = await clients_stub.ListClients(
        clients_pb2.ListClientsRequest(), metadata=md, timeout=5
    )
    assert listed.page_info.total_count == 0


async def test_R01_batch_read_leaves_out_other_organizations(clients_stub) -> None:
    org_a, org_b = secrets.token_hex(16), secrets.token_hex(16)
    ann = await clients_stub.CreateClient(
        clients_pb2.CreateClientRequest(first_name="Ann", last_name="Peeters"),
        metadata=_md(org_a),
        timeout=5,
    )
    got_a = await clients_stub.GetClients(
        clients_pb2.GetClientsRequest(ids=[ann.id]), metadata=_md(org_a), timeout=5
    )
    got_b = await clients_stub.GetClients(
        clients_pb2.GetClientsRequest(ids=[ann.id]), metadata=_md(org_b), timeout=5
    )
    assert [c.id for c in got_a.clients] == [ann.id]
    assert list(got_b.clients) == []
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await clients_stub.UpdateClient(
            clients_pb2.UpdateClientRequest(id=ann.id, email=""), metadata=_md(org_b), timeout=5
        )
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND


async def test_each_change_is_published_as_an_event(clients_stub, nats_server: NatsServer) -> None:
    org, est = secrets.token_hex(16), secrets.token_hex(16)
    nc = await nats.connect(nats_server.url)
    received: list[Event] = []

    async def collect(msg) -> None:
        received.append(Event.from_message(msg.subject, msg.headers, msg.data))

    sub = await nc.subscribe(f"salon.{org}.>", cb=collect)
    try:
        ann = await clients_stub.CreateClient(
            clients_pb2.CreateClientRequest(first_name="Ann", last_name="Peeters"),
            metadata=_md(org, est),
            timeout=5,
        )
        await clients_stub.UpdateClient(
            clients_pb2.UpdateClientRequest(id=ann.id, phone="0470 12 34 56"),
            metadata=_md(org, est),
            timeout=5,
        )
        # An update that changes nothing publishes nothing.
        await clients_stub.UpdateClient(
            clients_pb2.UpdateClientRequest(id=ann.id, first_name="Ann"),
            metadata=_md(org, est),
            timeout=5,
        )
        for _ in range(100):
            if len(received) >= 2:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
    finally:
        await sub.unsubscribe()
        await nc.close()
    assert [e.type for e in received] == [
        "salon.clients.client.created.v1",
        "salon.clients.client.updated.v1",
    ]
    assert all(e.subject.startswith(f"salon.{org}.{est}.clients.client.") for e in received)
    updated = received[1].parse(events_pb2.ClientUpdated)
    assert list(updated.changed_fields) == ["phone"]  # type: ignore[attr-defined]
    assert updated.client.phone == "+32470123456"  # type: ignore[attr-defined]


async def test_another_service_runs_on_the_same_runtime_and_is_healthy(
    tmp_path, nats_server: NatsServer
) -> None:
    process = ServiceProcess(
        BOOKING, _settings(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", nats_server.url)
    )
    port = await process.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            health = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service="salon.booking.v1.BookingService"), timeout=5
            )
            assert health.status == health_pb2.HealthCheckResponse.SERVING
            # The booking service is built now: an unknown id is simply left out.
            got = await booking_pb2_grpc.BookingServiceStub(channel).GetAppointments(
                booking_pb2.GetAppointmentsRequest(ids=["x"]), metadata=_md(), timeout=5
            )
            assert list(got.appointments) == []
    finally:
        await process.stop()


async def test_reflection_is_served_in_development_only(tmp_path, nats_server: NatsServer) -> None:
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    for mode, expected in [("development", True), ("production", False)]:
        settings = _settings(f"sqlite+aiosqlite:///{tmp_path / (mode + '.db')}", nats_server.url)
        settings.mode = mode
        process = ServiceProcess(CLIENTS, settings)
        port = await process.start()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = reflection_pb2_grpc.ServerReflectionStub(channel)
                call = stub.ServerReflectionInfo(
                    iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
                )
                try:
                    names = [s.name async for r in call for s in r.list_services_response.service]
                    served = "salon.clients.v1.ClientsService" in names
                except grpc.aio.AioRpcError as exc:
                    assert exc.code() is grpc.StatusCode.UNIMPLEMENTED
                    served = False
            assert served is expected, mode
        finally:
            await process.stop()


async def test_R16_a_scope_without_a_user_reaches_only_the_public_methods(clients_stub) -> None:
    """The public booking page signs a scope without a user; the client file answers it
    only what online booking needs (find-or-create, read), nothing of the staff's."""
    org, est = secrets.token_hex(16), secrets.token_hex(16)
    public = SIGNER.metadata(Scope(org, est))
    found = await clients_stub.FindOrCreateClient(
        clients_pb2.CreateClientRequest(
            first_name="Nora", last_name="Online", email="nora@example.com"
        ),
        metadata=public,
        timeout=5,
    )
    got = await clients_stub.GetClients(
        clients_pb2.GetClientsRequest(ids=[found.client.id]), metadata=public, timeout=5
    )
    assert [c.id for c in got.clients] == [found.client.id]
    for call in [
        clients_stub.ListClients(clients_pb2.ListClientsRequest(), metadata=public, timeout=5),
        clients_stub.UpdateClient(
            clients_pb2.UpdateClientRequest(id=found.client.id, email=""),
            metadata=public,
            timeout=5,
        ),
        clients_stub.CreateClient(
            clients_pb2.CreateClientRequest(first_name="A", last_name="B"),
            metadata=public,
            timeout=5,
        ),
    ]:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
