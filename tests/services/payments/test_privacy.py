"""B11 in the payments service over a real process (gRPC, NATS, SQLite and, with
TEST_DATABASE_URL, PostgreSQL): the export of a client's receipts, deposits, gift cards and
subscriptions; the erasure recorded once, the amounts kept."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import grpc
import nats
import orjson
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from launcher.nats_server import NatsServer
from salon.clients.v1 import events_pb2 as clients_events
from salon.common.v1 import privacy_pb2
from salon.payments.v1 import payments_pb2_grpc
from services.common import migrations
from services.common.db import Database, new_id, utcnow
from services.common.errors import ErrorCode, from_rpc_error
from services.common.events import Event, EventType
from services.common.scope import Role
from services.payments.service import SPEC as PAYMENTS
from services.payments.store import tables as t
from tests.support.services import Metadata, metadata, running

T = TypeVar("T")
CLIENT_ERASED = EventType("clients", "client", "erased")
Stub = payments_pb2_grpc.PaymentsServiceStub


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
    """ClientErased as the clients service's relay publishes it, under a new event id."""
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
    now = utcnow()
    ids = {k: new_id() for k in ("receipt", "deposit", "card", "subscription")}
    async with db.write(organization_id=org) as conn:
        await conn.execute(
            t.deposits.insert().values(
                id=ids["deposit"],
                organization_id=org,
                establishment_id=est,
                appointment_id="appt-1",
                client_id=client_id,
                amount=Decimal("10.00"),
                status="APPLIED",
                created_at=now,
                receipt_id=ids["receipt"],
            )
        )
        await conn.execute(
            t.receipts.insert().values(
                id=ids["receipt"],
                organization_id=org,
                establishment_id=est,
                number=1,
                client_id=client_id,
                appointment_id="appt-1",
                total=Decimal("45.50"),
                user_id="u-desk",
                idempotency_key=new_id(),
                request_hash="0" * 64,
                created_at=now,
            )
        )
        await conn.execute(
            t.receipt_lines.insert().values(
                id=new_id(),
                organization_id=org,
                receipt_id=ids["receipt"],
                position=0,
                kind="SERVICE",
                item_id="svc-1",
                description="Haircut",
                quantity=1,
                unit_price=Decimal("45.50"),
                total=Decimal("45.50"),
            )
        )
        for position, (method, amount) in enumerate((("DEPOSIT", "10.00"), ("CARD", "35.50"))):
            await conn.execute(
                t.receipt_payments.insert().values(
                    id=new_id(),
                    organization_id=org,
                    receipt_id=ids["receipt"],
                    position=position,
                    method=method,
                    amount=Decimal(amount),
                    deposit_id=ids["deposit"] if method == "DEPOSIT" else None,
                )
            )
        await conn.execute(
            t.gift_cards.insert().values(
                id=ids["card"],
                organization_id=org,
                establishment_id=est,
                code="GIFT-ABCD-1234",
                kind="DIGITAL",
                initial_amount=Decimal("50.00"),
                balance=Decimal("50.00"),
                client_id=client_id,
                user_id="u-desk",
                created_at=now,
            )
        )
        await conn.execute(
            t.gift_card_transactions.insert().values(
                id=new_id(),
                organization_id=org,
                gift_card_id=ids["card"],
                establishment_id=est,
                kind="ISSUE",
                amount=Decimal("50.00"),
                created_at=now,
            )
        )
        await conn.execute(
            t.subscriptions.insert().values(
                id=ids["subscription"],
                organization_id=org,
                establishment_id=est,
                client_id=client_id,
                name="10 blow-dries",
                visits=10,
                visits_left=9,
                price=Decimal("200.00"),
                valid_until=date.today() + timedelta(days=365),
                user_id="u-desk",
                created_at=now,
            )
        )
    return ids


@pytest.fixture
async def payments(
    database_url: str, nats_server: NatsServer
) -> AsyncIterator[tuple[Stub, Database]]:
    async with running(nats_server.url, {"payments": database_url}, {"payments": PAYMENTS}) as s:
        db = Database(database_url)
        try:
            yield Stub(s.channel("payments")), db
        finally:
            await db.dispose()


async def _export(stub: Stub, md: Metadata, client_id: str) -> Any:
    reply = await stub.ExportClientData(
        privacy_pb2.ExportClientDataRequest(client_id=client_id), metadata=md, timeout=5
    )
    assert reply.service == "payments"
    return orjson.loads(reply.json)


async def test_B11_payments_exports_then_records_the_erasure(
    payments: tuple[Stub, Database], nats_server: NatsServer
) -> None:
    stub, db = payments
    org, est, client_id = _id(), _id(), _id()
    ids = await _seed(db, org, est, client_id)
    md = _owner(org, est)

    data = await _export(stub, md, client_id)
    assert set(data) == {"receipts", "deposits", "giftCards", "subscriptions"}
    (receipt,) = data["receipts"]
    assert (receipt["id"], receipt["total"], receipt["number"]) == (ids["receipt"], "45.50", 1)
    assert [(line["description"], line["total"]) for line in receipt["lines"]] == [
        ("Haircut", "45.50")
    ]
    assert [(p["method"], p["amount"]) for p in receipt["payments"]] == [
        ("DEPOSIT", "10.00"),
        ("CARD", "35.50"),
    ]
    assert [(d["id"], d["amount"], d["status"]) for d in data["deposits"]] == [
        (ids["deposit"], "10.00", "APPLIED")
    ]
    (card,) = data["giftCards"]
    assert (card["id"], card["balance"], card["code"]) == (ids["card"], "50.00", "…1234")
    assert [m["kind"] for m in card["transactions"]] == ["ISSUE"]
    (sub,) = data["subscriptions"]
    assert (sub["name"], sub["visitsLeft"], sub["price"]) == ("10 blow-dries", 9, "200.00")

    # R01 and unknown clients: {} alike; owners only.
    assert await _export(stub, _owner(_id(), est), client_id) == {}
    assert await _export(stub, md, _id()) == {}
    for role in (Role.MANAGER, Role.STAFF):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _export(stub, metadata(org, est, role=role), client_id)
        error = from_rpc_error(caught.value)
        assert error is not None and error.code is ErrorCode.FORBIDDEN

    await _publish_erased(nats_server.url, org, est, client_id)

    async def erased() -> Any:
        after = await _export(stub, md, client_id)
        assert "erasure" in after
        return after

    after = await _eventually(erased)
    assert {k: v for k, v in after.items() if k != "erasure"} == data  # the books stay
    await _publish_erased(nats_server.url, org, est, client_id)  # a redelivery
    await asyncio.sleep(0.3)
    assert await _export(stub, md, client_id) == after  # the first erasure time stays
    assert "erasure" not in await _export(stub, _owner(_id(), est), client_id)


async def test_B11_payments_migrations_match_the_tables(database_url: str) -> None:
    db = Database(database_url)
    try:
        await migrations.upgrade(db, PAYMENTS.migrations)
        async with db.read() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), t.metadata)
            )
    finally:
        await db.dispose()
    assert diff == []
