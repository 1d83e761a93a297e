"""Stock on real databases: SQLite files, and PostgreSQL when TEST_DATABASE_URL is set (CI
sets it). The races run each change in its own transaction, all at once: on PostgreSQL they
really interleave (one connection each), on SQLite the writer serializes them."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from services.common import migrations
from services.common.db import Database
from services.common.errors import DomainError, ErrorCode
from services.inventory.domain.model import MAX_LEVEL, Reason, StockChange, Transfer
from services.inventory.service import SPEC
from services.inventory.store import repository
from services.inventory.store.tables import stock_idempotency, stock_movements


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=20)
    await migrations.upgrade(database, SPEC.migrations)
    yield database
    await database.dispose()


def _id() -> str:
    return secrets.token_hex(16)


async def _change(
    db: Database, org: str, est: str, product: str, delta: int, reason: Reason = Reason.CORRECTION
) -> StockChange:
    async with db.write(organization_id=org) as session:
        return await repository.change_stock(session, org, est, product, delta, reason, "user")


async def _transfer(
    db: Database, org: str, source: str, target: str, product: str, quantity: int
) -> Transfer:
    async with db.write(organization_id=org) as session:
        return await repository.transfer(session, org, source, target, product, quantity, "u")


async def _level(db: Database, org: str, est: str, product: str) -> int:
    async with db.read(organization_id=org) as session:
        [level] = await repository.get_levels(session, org, est, [product])
    return level.quantity


async def _total(db: Database, org: str, est: str, product: str) -> int:
    async with db.read(organization_id=org) as session:
        return await repository.movement_total(session, org, est, product)


def _outcomes(results: list[Any]) -> tuple[list[Any], list[BaseException]]:
    done = [r for r in results if not isinstance(r, BaseException)]
    failed = [r for r in results if isinstance(r, BaseException)]
    return done, failed


def _all_out_of_stock(failed: list[BaseException], field: str) -> bool:
    return all(
        isinstance(e, DomainError) and e.code is ErrorCode.OUT_OF_STOCK and e.field == field
        for e in failed
    )


async def test_migrations_run_twice_without_harm(db: Database) -> None:
    await migrations.upgrade(db, SPEC.migrations)


async def test_R20_stock_is_per_establishment(db: Database) -> None:
    org, a, b, shampoo = _id(), _id(), _id(), _id()
    await _change(db, org, a, shampoo, 5, Reason.DELIVERY)
    await _change(db, org, b, shampoo, 20, Reason.DELIVERY)
    change = await _change(db, org, b, shampoo, 10, Reason.DELIVERY)
    assert change.level.establishment_id == b and change.level.quantity == 30
    assert change.movement.delta == 10 and change.movement.reason is Reason.DELIVERY
    assert await _level(db, org, a, shampoo) == 5
    assert await _level(db, org, b, shampoo) == 30
    async with db.read(organization_id=org) as session:
        levels = await repository.get_levels(session, org, a, [shampoo, "never-stocked"])
    assert [(lv.product_id, lv.quantity) for lv in levels] == [(shampoo, 5), ("never-stocked", 0)]


async def test_R01_another_organization_reads_and_changes_only_its_own_stock(db: Database) -> None:
    org_a, org_b, est, product = _id(), _id(), _id(), _id()
    await _change(db, org_a, est, product, 5, Reason.DELIVERY)
    # The same establishment and product ids under another organization are another level.
    assert await _level(db, org_b, est, product) == 0
    async with db.read(organization_id=org_b) as session:
        assert await repository.list_movements(session, org_b, est, product, 100) == []
    with pytest.raises(DomainError) as caught:
        await _change(db, org_b, est, product, -1, Reason.SALE)
    assert caught.value.code is ErrorCode.OUT_OF_STOCK
    assert await _level(db, org_a, est, product) == 5


async def test_R20_a_change_below_zero_writes_nothing(db: Database) -> None:
    org, est, product = _id(), _id(), _id()
    await _change(db, org, est, product, 2, Reason.DELIVERY)
    with pytest.raises(DomainError) as caught:
        await _change(db, org, est, product, -3, Reason.SALE)
    assert caught.value.code is ErrorCode.OUT_OF_STOCK and caught.value.field == "delta"
    assert await _level(db, org, est, product) == 2
    async with db.read(organization_id=org) as session:
        movements = await repository.list_movements(session, org, est, product, 100)
    assert [m.delta for m in movements] == [2]
    # A product never stocked cannot be sold either, and gets no level row from trying.
    with pytest.raises(DomainError):
        await _change(db, org, est, "other", -1, Reason.SALE)
    assert await _total(db, org, est, "other") == 0


async def test_a_level_never_passes_the_highest_level(db: Database) -> None:
    org, est, product = _id(), _id(), _id()
    await _change(db, org, est, product, MAX_LEVEL - 1, Reason.DELIVERY)
    await _change(db, org, est, product, 1, Reason.DELIVERY)
    with pytest.raises(DomainError) as caught:
        await _change(db, org, est, product, 1, Reason.DELIVERY)
    assert caught.value.code is ErrorCode.INVALID and caught.value.field == "delta"
    assert await _level(db, org, est, product) == MAX_LEVEL


async def test_movements_newest_first_and_limited(db: Database) -> None:
    org, est, product = _id(), _id(), _id()
    for delta in (1, 2, 3, 4):
        await _change(db, org, est, product, delta, Reason.DELIVERY)
    async with db.read(organization_id=org) as session:
        movements = await repository.list_movements(session, org, est, product, 3)
    assert [m.delta for m in movements] == [4, 3, 2]
    assert all(m.user_id == "user" and m.at.tzinfo is not None for m in movements)


async def test_R20_thirty_concurrent_sales_of_the_last_five_units_sell_exactly_five(
    db: Database,
) -> None:
    org, est, product = _id(), _id(), _id()
    await _change(db, org, est, product, 5, Reason.DELIVERY)

    results = await asyncio.gather(
        *(_change(db, org, est, product, -1, Reason.SALE) for _ in range(30)),
        return_exceptions=True,
    )

    done, failed = _outcomes(results)
    assert len(done) == 5 and len(failed) == 25
    assert _all_out_of_stock(failed, "delta")
    assert sorted(c.level.quantity for c in done) == [0, 1, 2, 3, 4]
    assert await _level(db, org, est, product) == 0
    async with db.read(organization_id=org) as session:
        sales = (
            await session.execute(
                select(func.count(), func.sum(stock_movements.c.delta)).where(
                    stock_movements.c.organization_id == org,
                    stock_movements.c.establishment_id == est,
                    stock_movements.c.product_id == product,
                    stock_movements.c.reason == Reason.SALE.value,
                )
            )
        ).one()
    assert tuple(sales) == (5, -5)
    assert await _total(db, org, est, product) == 0


async def test_B02_a_transfer_moves_both_sides_or_neither(db: Database) -> None:
    org, a, b, product = _id(), _id(), _id(), _id()
    await _change(db, org, a, product, 5, Reason.DELIVERY)
    done = await _transfer(db, org, a, b, product, 3)
    assert (done.sent.level.quantity, done.received.level.quantity) == (2, 3)
    assert (done.sent.movement.delta, done.received.movement.delta) == (-3, 3)
    assert done.sent.movement.reason is Reason.TRANSFER_OUT
    assert done.received.movement.reason is Reason.TRANSFER_IN
    assert done.sent.movement.transfer_id == done.received.movement.transfer_id == done.id
    with pytest.raises(DomainError) as caught:
        await _transfer(db, org, a, b, product, 3)
    assert caught.value.code is ErrorCode.OUT_OF_STOCK and caught.value.field == "quantity"
    assert await _level(db, org, a, product) == 2
    assert await _level(db, org, b, product) == 3
    assert await _total(db, org, a, product) == 2
    assert await _total(db, org, b, product) == 3


async def test_B02_concurrent_transfers_both_ways_never_go_negative_and_always_add_up(
    db: Database,
) -> None:
    org, a, b, product = _id(), _id(), _id(), _id()
    await _change(db, org, a, product, 10, Reason.DELIVERY)
    await _change(db, org, b, product, 5, Reason.DELIVERY)

    # Both directions at once: on PostgreSQL an A->B and a B->A transfer lock the same two
    # rows, so this also shows they cannot deadlock.
    calls = [_transfer(db, org, a, b, product, 2) for _ in range(15)]
    calls += [_transfer(db, org, b, a, product, 3) for _ in range(15)]
    results = await asyncio.gather(*calls, return_exceptions=True)

    done, failed = _outcomes(results)
    assert _all_out_of_stock(failed, "quantity")
    assert done, "some transfers must get through"
    a_to_b = sum(1 for t in done if t.sent.level.establishment_id == a)
    b_to_a = len(done) - a_to_b
    level_a, level_b = await _level(db, org, a, product), await _level(db, org, b, product)
    assert level_a >= 0 and level_b >= 0
    assert level_a + level_b == 15
    assert level_a == 10 - 2 * a_to_b + 3 * b_to_a
    assert level_a == await _total(db, org, a, product)
    assert level_b == await _total(db, org, b, product)
    async with db.read(organization_id=org) as session:
        pairs = (
            await session.execute(
                select(
                    stock_movements.c.transfer_id, func.count(), func.sum(stock_movements.c.delta)
                )
                .where(
                    stock_movements.c.organization_id == org,
                    stock_movements.c.transfer_id.is_not(None),
                )
                .group_by(stock_movements.c.transfer_id)
            )
        ).all()
    assert len(pairs) == len(done)
    assert all(count == 2 and total == 0 for _tid, count, total in pairs)


async def _adjust_once(
    db: Database, org: str, est: str, product: str, key: str, request_hash: str
) -> bytes:
    """What AdjustStock does with a key, in one transaction: take the key, or answer the
    stored response of the request that took it."""
    async with db.write(organization_id=org) as session:
        stored = await repository.claim_idempotency_key(session, org, est, key, request_hash)
        if stored is not None:
            return stored
        change = await repository.change_stock(
            session, org, est, product, 4, Reason.DELIVERY, "user"
        )
        response = f"{change.movement.id}:{change.level.quantity}".encode()
        await repository.store_idempotent_response(session, org, est, key, response)
        return response


async def test_concurrent_requests_with_one_idempotency_key_apply_once(db: Database) -> None:
    org, est, product, key = _id(), _id(), _id(), "delivery-2026-11-03"

    responses = await asyncio.gather(
        *(_adjust_once(db, org, est, product, key, "h1") for _ in range(20))
    )

    assert len(set(responses)) == 1  # every caller gets the first one's answer
    assert await _level(db, org, est, product) == 4
    async with db.read(organization_id=org) as session:
        movements = await repository.list_movements(session, org, est, product, 100)
    assert len(movements) == 1
    assert responses[0] == f"{movements[0].id}:4".encode()


async def test_an_idempotency_key_is_per_establishment_and_bound_to_its_request(
    db: Database,
) -> None:
    org, a, b, product, key = _id(), _id(), _id(), _id(), "k"
    await _adjust_once(db, org, a, product, key, "h1")
    await _adjust_once(db, org, b, product, key, "h1")  # another establishment: applies
    assert await _level(db, org, a, product) == 4
    assert await _level(db, org, b, product) == 4
    with pytest.raises(DomainError) as caught:
        await _adjust_once(db, org, a, product, key, "h2")
    assert caught.value.code is ErrorCode.CONFLICT and caught.value.field == "idempotencyKey"
    assert await _level(db, org, a, product) == 4
    # A change that fails releases its key: the same key may be used again.
    with pytest.raises(DomainError):
        async with db.write(organization_id=org) as session:
            assert await repository.claim_idempotency_key(session, org, a, "k2", "h") is None
            await repository.change_stock(session, org, a, product, -99, Reason.SALE, "u")
    async with db.read(organization_id=org) as session:
        keys = (
            await session.execute(
                select(stock_idempotency.c.key).where(
                    stock_idempotency.c.organization_id == org,
                    stock_idempotency.c.establishment_id == a,
                )
            )
        ).scalars()
        assert list(keys) == ["k"]
