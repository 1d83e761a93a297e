"""B11 in the client file over a real clients process (real gRPC, NATS, SQLite and, with
TEST_DATABASE_URL, PostgreSQL): the export, the erasure and its single event, the refusals."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any

import grpc
import orjson
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from launcher.nats_server import NatsServer
from salon.clients.v1 import clients_pb2, clients_pb2_grpc, events_pb2
from salon.common.v1 import privacy_pb2
from services.clients.service import SPEC as CLIENTS
from services.clients.store.tables import metadata as clients_metadata
from services.clients.store.tables import outbox
from services.common import migrations
from services.common.db import Database
from services.common.errors import DomainError, ErrorCode, from_rpc_error
from services.common.scope import Role
from tests.support.services import Metadata, metadata, running


@dataclass
class Clients:
    stub: clients_pb2_grpc.ClientsServiceStub
    db: Database


@pytest.fixture
async def clients(database_url: str, nats_server: NatsServer) -> AsyncIterator[Clients]:
    async with running(nats_server.url, {"clients": database_url}, {"clients": CLIENTS}) as s:
        db = Database(database_url)
        try:
            yield Clients(clients_pb2_grpc.ClientsServiceStub(s.channel("clients")), db)
        finally:
            await db.dispose()


def _id() -> str:
    return secrets.token_hex(16)


def _owner(org: str, est: str) -> Metadata:
    return metadata(org, est, user_id="u-owner", role=Role.OWNER)


async def _error(call: Awaitable[Any]) -> DomainError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error = from_rpc_error(caught.value)
    assert error is not None, caught.value
    return error


async def _export(clients: Clients, md: Metadata, client_id: str) -> dict[str, Any]:
    reply = await clients.stub.ExportClientData(
        privacy_pb2.ExportClientDataRequest(client_id=client_id), metadata=md, timeout=5
    )
    assert reply.service == "clients"
    data: dict[str, Any] = orjson.loads(reply.json)
    return data


async def test_B11_export_then_erase_anonymises_once_with_one_event(clients: Clients) -> None:
    org, est = _id(), _id()
    md = _owner(org, est)
    client = await clients.stub.CreateClient(
        clients_pb2.CreateClientRequest(
            first_name="Ann", last_name="Peeters", email="ann@example.com", phone="+32470123456"
        ),
        metadata=md,
        timeout=5,
    )
    card = await clients.stub.CreateLoyaltyCard(
        clients_pb2.CreateLoyaltyCardRequest(client_id=client.id), metadata=md, timeout=5
    )

    data = await _export(clients, md, client.id)
    assert data["client"]["firstName"] == "Ann"
    assert data["client"]["lastName"] == "Peeters"
    assert data["client"]["email"] == "ann@example.com"
    assert data["client"]["phone"] == "+32470123456"
    assert data["client"]["erasedAt"] is None
    assert data["client"]["createdAt"].startswith(client.created_at.ToDatetime().date().isoformat())
    assert [e["establishmentId"] for e in data["establishments"]] == [est]
    assert [(c["id"], c["establishmentId"], c["points"]) for c in data["loyaltyCards"]] == [
        (card.id, est, 0)
    ]

    erased = await clients.stub.EraseClient(
        clients_pb2.EraseClientRequest(id=client.id), metadata=md, timeout=5
    )
    assert erased.id == client.id
    assert (erased.first_name, erased.last_name) == ("Erased", f"client {client.id[:8]}")
    assert not erased.HasField("email") and not erased.HasField("phone")
    again = await clients.stub.EraseClient(
        clients_pb2.EraseClientRequest(id=client.id), metadata=md, timeout=5
    )
    assert again == erased  # a no-op: nothing changed, not even updated_at

    after = await _export(clients, md, client.id)
    assert after["client"]["email"] is None and after["client"]["phone"] is None
    assert after["client"]["erasedAt"] is not None
    assert after["loyaltyCards"][0]["id"] == card.id  # history links stay
    assert b"Ann" not in orjson.dumps(after) and b"Peeters" not in orjson.dumps(after)

    async with clients.db.read(organization_id=org) as conn:
        rows = (
            await conn.execute(
                select(outbox.c.type, outbox.c.payload).where(outbox.c.organization_id == org)
            )
        ).all()
    types = [r.type for r in rows]
    assert types.count("salon.clients.client.erased.v1") == 1
    assert "salon.clients.client.updated.v1" not in types
    (payload,) = [r.payload for r in rows if r.type == "salon.clients.client.erased.v1"]
    assert events_pb2.ClientErased.FromString(payload) == events_pb2.ClientErased(
        client_id=client.id
    )

    # No personal data comes back: an update is refused, the old e-mail finds no one.
    error = await _error(
        clients.stub.UpdateClient(
            clients_pb2.UpdateClientRequest(id=client.id, first_name="Ann"), metadata=md, timeout=5
        )
    )
    assert error.code is ErrorCode.CONFLICT
    found = await clients.stub.FindOrCreateClient(
        clients_pb2.CreateClientRequest(first_name="Ann", last_name="P", email="ANN@example.com"),
        metadata=md,
        timeout=5,
    )
    assert found.created and found.client.id != client.id


async def test_B11_R01_only_the_owner_of_the_organization(clients: Clients) -> None:
    org, est = _id(), _id()
    client = await clients.stub.CreateClient(
        clients_pb2.CreateClientRequest(first_name="Bo", last_name="Janssens"),
        metadata=_owner(org, est),
        timeout=5,
    )
    export = privacy_pb2.ExportClientDataRequest(client_id=client.id)
    erase = clients_pb2.EraseClientRequest(id=client.id)
    for role in (Role.MANAGER, Role.STAFF):
        md = metadata(org, est, role=role)
        assert (
            await _error(clients.stub.ExportClientData(export, metadata=md, timeout=5))
        ).code is (ErrorCode.FORBIDDEN)
        assert (await _error(clients.stub.EraseClient(erase, metadata=md, timeout=5))).code is (
            ErrorCode.FORBIDDEN
        )
    other = _owner(_id(), est)  # R01: another organization's owner
    for md, client_id in ((other, client.id), (_owner(org, est), _id())):
        assert (
            await _error(
                clients.stub.ExportClientData(
                    privacy_pb2.ExportClientDataRequest(client_id=client_id), metadata=md, timeout=5
                )
            )
        ).code is ErrorCode.NOT_FOUND
        assert (
            await _error(
                clients.stub.EraseClient(
                    clients_pb2.EraseClientRequest(id=client_id), metadata=md, timeout=5
                )
            )
        ).code is ErrorCode.NOT_FOUND
    still = await _export(clients, _owner(org, est), client.id)
    assert still["client"]["firstName"] == "Bo" and still["client"]["erasedAt"] is None


async def test_B11_migrations_match_the_tables(database_url: str) -> None:
    db = Database(database_url)
    try:
        await migrations.upgrade(db, CLIENTS.migrations)
        async with db.read() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), clients_metadata)
            )
    finally:
        await db.dispose()
    assert diff == []
