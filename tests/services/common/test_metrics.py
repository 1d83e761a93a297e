"""Prometheus metrics of a real service process (the clients service): scraped over HTTP
from its own /metrics port, after real RPCs, a real outbox row and a real consumer."""

from __future__ import annotations

import asyncio
import secrets

import grpc
import httpx
import nats
import pytest
from prometheus_client.parser import text_string_to_metric_families

from launcher.nats_server import NatsServer
from salon.clients.v1 import clients_pb2, clients_pb2_grpc, events_pb2
from services.clients.service import SPEC as CLIENTS
from services.clients.store.tables import outbox
from services.common.events import EventType
from services.common.outbox import record_event
from services.common.runtime import ServiceProcess
from services.common.scope import Role, Scope
from tests.support.services import metadata, running

CREATE = "/salon.clients.v1.ClientsService/CreateClient"
CREATED = EventType("clients", "client", "created")
RECEIPT_CREATED = EventType("payments", "receipt", "created")
DURABLE = "clients-payments"


@pytest.fixture
def nats_server(fresh_nats_server: NatsServer) -> NatsServer:
    """The consumer lag checked here is of this test's events alone: a server of its own."""
    return fresh_nats_server


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def _scrape(process: ServiceProcess) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    assert process.metrics_port
    async with httpx.AsyncClient() as http:
        reply = await http.get(f"http://127.0.0.1:{process.metrics_port}/metrics", timeout=5)
    assert reply.status_code == 200
    assert "organization_id" not in reply.text
    return _samples(reply.text)


async def _until(predicate, process: ServiceProcess) -> dict:  # type: ignore[no-untyped-def]
    samples: dict = {}
    for _ in range(100):
        samples = await _scrape(process)
        if predicate(samples):
            return samples
        await asyncio.sleep(0.1)
    raise AssertionError(f"metrics never matched: {sorted(k for k in samples if 'salon' in k[0])}")


async def test_service_metrics_rpcs_outbox_consumer_lag_and_pool(
    database_url: str, nats_server: NatsServer
) -> None:
    org, est = secrets.token_hex(16), secrets.token_hex(16)
    extra = {"clients": {"metrics_refresh_seconds": 0.1}}
    async with running(
        nats_server.url, {"clients": database_url}, {"clients": CLIENTS}, extra
    ) as services:
        process = services.processes["clients"]
        stub = clients_pb2_grpc.ClientsServiceStub(services.channel("clients"))

        # RPCs: two OK, one refused without a scope, one INVALID_ARGUMENT.
        request = clients_pb2.CreateClientRequest(first_name="Ann", last_name="Peeters")
        for _ in range(2):
            await stub.CreateClient(request, metadata=metadata(org, est), timeout=5)
        with pytest.raises(grpc.aio.AioRpcError):
            await stub.CreateClient(request, timeout=5)
        with pytest.raises(grpc.aio.AioRpcError) as bad:
            await stub.CreateClient(
                clients_pb2.CreateClientRequest(first_name="", last_name=""),
                metadata=metadata(org, est),
                timeout=5,
            )

        # A consumer: a message without event headers on its subject is poison.
        nc = await nats.connect(nats_server.url)
        try:
            js = nc.jetstream()
            subject = RECEIPT_CREATED.subject(org, est)
            await js.publish(subject, b"not an event")
            samples = await _until(
                lambda s: (
                    s.get(
                        (
                            "salon_consumer_events_total",
                            (("durable", DURABLE), ("outcome", "poison"), ("type", "unknown")),
                        ),
                        0,
                    )
                    >= 1
                ),
                process,
            )
            # Stopped, the durable's new messages wait: lag from JetStream's consumer info.
            consumer = next(c for c in process.consumers if c.durable == DURABLE)
            await consumer.stop()
            await js.publish(subject, b"waiting")
            # The relay stopped, an event stays in the outbox: backlog and age.
            assert process.ctx.relay is not None
            await process.ctx.relay.stop()
            async with process.db.write(organization_id=org) as conn:
                await record_event(
                    conn,
                    outbox,
                    CREATED,
                    events_pb2.ClientCreated(client=clients_pb2.Client(id="c1")),
                    Scope(org, est, "u", Role.OWNER),
                    establishment_id=est,
                )
            samples = await _until(
                lambda s: (
                    s.get(("salon_outbox_backlog", ()), 0) >= 1
                    # Waiting, or handed to a pull request the stopped consumer had left
                    # open at the server (delivered, never acked): lag either way.
                    and s.get(("salon_consumer_pending_messages", (("durable", DURABLE),)), 0)
                    + s.get(("salon_consumer_ack_pending_messages", (("durable", DURABLE),)), 0)
                    >= 1
                ),
                process,
            )
        finally:
            await nc.close()

    ok = ("salon_grpc_server_requests_total", (("code", "OK"), ("method", CREATE)))
    unauthenticated = (
        "salon_grpc_server_requests_total",
        (("code", "UNAUTHENTICATED"), ("method", CREATE)),
    )
    invalid = (
        "salon_grpc_server_requests_total",
        (("code", bad.value.code().name), ("method", CREATE)),
    )
    assert samples[ok] == 2
    assert samples[unauthenticated] == 1
    assert bad.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert samples[invalid] == 1
    count = ("salon_grpc_server_request_seconds_count", (("method", CREATE),))
    assert samples[count] == 4
    assert samples[("salon_grpc_server_request_seconds_sum", (("method", CREATE),))] > 0
    assert samples[("salon_outbox_backlog", ())] == 1
    assert samples[("salon_outbox_oldest_age_seconds", ())] >= 0
    # DB pool: each pool's size, and its connections in use (the refresher may hold one).
    pools = {k[1] for k in samples if k[0] == "salon_db_pool_size"}
    expected = {(("pool", "write"),), (("pool", "read"),)}
    assert pools == (expected if database_url.startswith("sqlite") else {(("pool", "main"),)})
    assert all(samples[("salon_db_pool_size", p)] >= 1 for p in pools)
    assert all(
        0 <= samples[("salon_db_pool_checked_out", p)] <= 2 * samples[("salon_db_pool_size", p)]
        for p in pools
    )
    assert samples[("process_cpu_seconds_total", ())] > 0
