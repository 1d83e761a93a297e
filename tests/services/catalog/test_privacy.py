"""B11 in the catalog service over a real process (gRPC, NATS, SQLite and, with
TEST_DATABASE_URL, PostgreSQL): it holds nothing about a client ({}, owners only), and it
takes the clients service's erasure event (once per event id)."""

from __future__ import annotations

import asyncio
import secrets

import grpc
import nats
import pytest
from sqlalchemy import select

from launcher.nats_server import NatsServer
from salon.catalog.v1 import catalog_pb2_grpc
from salon.clients.v1 import events_pb2 as clients_events
from salon.common.v1 import privacy_pb2
from services.catalog.events.privacy import CLIENTS_DURABLE
from services.catalog.service import SPEC
from services.catalog.store.tables import processed_events
from services.common.db import Database, new_id, utcnow
from services.common.errors import ErrorCode, from_rpc_error
from services.common.events import Event, EventType
from services.common.scope import Role
from tests.support.services import metadata, running

CLIENT_ERASED = EventType("clients", "client", "erased")


def _id() -> str:
    return secrets.token_hex(16)


async def test_B11_catalog_holds_nothing_and_takes_the_erasure(
    database_url: str, nats_server: NatsServer
) -> None:
    org, est, client_id = _id(), _id(), _id()
    async with running(nats_server.url, {"catalog": database_url}, {"catalog": SPEC}) as s:
        stub = catalog_pb2_grpc.CatalogServiceStub(s.channel("catalog"))
        request = privacy_pb2.ExportClientDataRequest(client_id=client_id)
        reply = await stub.ExportClientData(
            request, metadata=metadata(org, est, role=Role.OWNER), timeout=5
        )
        assert (reply.service, reply.json) == ("catalog", "{}")
        for role in (Role.MANAGER, Role.STAFF):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.ExportClientData(
                    request, metadata=metadata(org, est, role=role), timeout=5
                )
            error = from_rpc_error(caught.value)
            assert error is not None and error.code is ErrorCode.FORBIDDEN

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
        nc = await nats.connect(nats_server.url)
        try:
            await nc.jetstream().publish(event.subject, event.data, headers=event.headers())
        finally:
            await nc.close()

        db = Database(database_url)
        try:
            taken: list[str] = []
            for _ in range(300):
                async with db.read() as conn:
                    taken = list(
                        (
                            await conn.execute(
                                select(processed_events.c.event_id).where(
                                    processed_events.c.consumer == CLIENTS_DURABLE
                                )
                            )
                        ).scalars()
                    )
                if event.id in taken:
                    break
                await asyncio.sleep(0.05)
            assert event.id in taken
        finally:
            await db.dispose()
