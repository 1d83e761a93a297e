"""B07 in the payments service over a real process (gRPC, NATS, SQLite and, with
TEST_DATABASE_URL, PostgreSQL): ClientMerged re-points the merged client's receipts,
deposits, gift cards and subscriptions to the kept client, once, amounts untouched; a later
write with the merged id (a deposit recorded from an event told before the merge, a gift
card or a subscription sold with a stale id) lands on the kept client."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import orjson
import pytest
from sqlalchemy import select

from launcher.nats_server import NatsServer
from salon.common.v1 import privacy_pb2
from salon.payments.v1 import payments_pb2_grpc
from services.common.db import Database, new_id
from services.common.scope import Role
from services.payments.domain.cards import GiftCardKind, GiftCardRequest, SubscriptionRequest
from services.payments.service import SPEC as PAYMENTS
from services.payments.store import cards_repository, repository
from services.payments.store import tables as t
from tests.services.payments.test_privacy import _seed
from tests.support.merge import publish_merged
from tests.support.services import Metadata, metadata, running

T = TypeVar("T")
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
    return orjson.loads(reply.json)


async def _holders(db: Database, org: str) -> dict[str, dict[str, str | None]]:
    out: dict[str, dict[str, str | None]] = {}
    async with db.read(organization_id=org) as conn:
        for table in (t.receipts, t.deposits, t.gift_cards, t.subscriptions):
            rows = await conn.execute(
                select(table.c.id, table.c.client_id).where(table.c.organization_id == org)
            )
            out[table.name] = {i: c for i, c in rows}
    return out


async def test_B07_payments_repoints_receipts_deposits_cards_and_subscriptions_once(
    payments: tuple[Stub, Database], nats_server: NatsServer
) -> None:
    stub, db = payments
    org, est = _id(), _id()
    kept, merged = _id(), _id()
    ids = await _seed(db, org, est, merged)
    md = _owner(org, est)
    before = await _export(stub, md, merged)
    assert set(before) == {"receipts", "deposits", "giftCards", "subscriptions"}
    assert await _export(stub, md, kept) == {}
    # The same ids merged in another organization: nothing of it here.
    await publish_merged(nats_server.url, _id(), est, kept, merged)
    event_id = await publish_merged(nats_server.url, org, est, kept, merged)

    async def repointed() -> dict[str, Any]:
        after = await _export(stub, md, kept)
        assert set(after) == {"receipts", "deposits", "giftCards", "subscriptions"}
        return after

    after = await _eventually(repointed)
    assert after == before  # everything, amounts and balances as they were
    assert await _export(stub, md, merged) == {}
    holders = await _holders(db, org)
    assert holders == {
        "receipts": {ids["receipt"]: kept},
        "deposits": {ids["deposit"]: kept},
        "gift_cards": {ids["card"]: kept},
        "subscriptions": {ids["subscription"]: kept},
    }

    # Redelivered (same event id) or repeated (a new one): harmless.
    await publish_merged(nats_server.url, org, est, kept, merged, event_id=event_id)
    await publish_merged(nats_server.url, org, est, kept, merged)
    await asyncio.sleep(0.5)
    assert await _holders(db, org) == holders

    # Writes that arrive later with the merged id land on the kept client.
    async with db.write(organization_id=org) as conn:
        deposit, created = await repository.record_deposit(
            conn, org, est, "appt-late", merged, Decimal("15.00")
        )
        assert created and deposit.client_id == kept
        # The same deposit asked again with the merged id is a retry, not a conflict.
        again, created = await repository.record_deposit(
            conn, org, est, "appt-late", merged, Decimal("15.00")
        )
        assert not created and again.id == deposit.id
        card, issued = await cards_repository.issue_gift_card(
            conn,
            org,
            est,
            "u-desk",
            GiftCardRequest(
                amount=Decimal("25.00"),
                kind=GiftCardKind.DIGITAL,
                client_id=merged,
                code="",
                idempotency_key=new_id(),
            ),
        )
        assert issued and card.client_id == kept
        subscription = await cards_repository.sell_subscription(
            conn,
            org,
            est,
            "u-desk",
            SubscriptionRequest(
                client_id=merged, name="5 cuts", visits=5, price=Decimal("100"), valid_until=None
            ),
        )
        assert subscription.client_id == kept
    holders = await _holders(db, org)
    assert merged not in {c for table in holders.values() for c in table.values()}


async def test_B07_payments_a_kept_client_merged_later_takes_every_merged_id(
    payments: tuple[Stub, Database], nats_server: NatsServer
) -> None:
    _stub, db = payments
    org, est = _id(), _id()
    first, second, third = _id(), _id(), _id()
    ids = await _seed(db, org, est, first)
    await publish_merged(nats_server.url, org, est, second, first)
    await publish_merged(nats_server.url, org, est, third, second)

    async def chained() -> None:
        assert (await _holders(db, org))["receipts"] == {ids["receipt"]: third}
        async with db.read(organization_id=org) as conn:
            rows = await conn.execute(
                select(t.merged_clients.c.merged_id, t.merged_clients.c.kept_id).where(
                    t.merged_clients.c.organization_id == org
                )
            )
            assert {m: k for m, k in rows} == {first: third, second: third}

    await _eventually(chained)


async def test_B07_payments_a_write_racing_the_merge_ends_on_the_kept_client(
    payments: tuple[Stub, Database], nats_server: NatsServer
) -> None:
    """A deposit written with the merged id while the merge is being handled: the handler
    waits for the write (the client's lock), then re-points it."""
    _stub, db = payments
    org, est = _id(), _id()
    kept, merged = _id(), _id()
    async with db.write(organization_id=org) as conn:
        deposit, _created = await repository.record_deposit(
            conn, org, est, "appt-racing", merged, Decimal("12.00")
        )
        assert deposit.client_id == merged  # no merge known yet
        await publish_merged(nats_server.url, org, est, kept, merged)
        await asyncio.sleep(0.5)  # the handler runs meanwhile, and waits

    async def repointed() -> None:
        assert (await _holders(db, org))["deposits"] == {deposit.id: kept}

    await _eventually(repointed)
