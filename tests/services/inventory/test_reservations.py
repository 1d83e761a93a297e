"""The till's stock reservations (R20, R28), over real gRPC on loopback with the real
catalogue (do the products exist) and a real NATS server, the inventory on SQLite and
(with TEST_DATABASE_URL) PostgreSQL: every line or none, retries answered once, releases
that put back exactly, tombstones for unknown ids, the race for the last unit, the commit
by a published payments.receipt.created event, and isolation between organizations (R01).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import grpc
import nats
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from launcher.nats_server import NatsServer
from salon.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from salon.inventory.v1 import events_pb2, inventory_pb2, inventory_pb2_grpc
from salon.payments.v1 import events_pb2 as payments_events
from salon.payments.v1 import payments_pb2
from services.catalog.service import SPEC as CATALOG
from services.common import migrations
from services.common.db import Database, new_id, utcnow
from services.common.errors import DomainError, ErrorCode, from_rpc_error
from services.common.events import Event, EventType
from services.common.scope import Role
from services.inventory.domain import model
from services.inventory.events.consumers import PAYMENTS_DURABLE
from services.inventory.service import SPEC as INVENTORY
from services.inventory.store.tables import metadata as inventory_metadata
from services.inventory.store.tables import processed_events, stock_reservations
from tests.support.services import Metadata, Services, metadata, running

T = TypeVar("T")

HELD = inventory_pb2.RESERVATION_STATUS_HELD
RELEASED = inventory_pb2.RESERVATION_STATUS_RELEASED
COMMITTED = inventory_pb2.RESERVATION_STATUS_COMMITTED
SALE = inventory_pb2.STOCK_REASON_SALE
DELIVERY = inventory_pb2.STOCK_REASON_DELIVERY
RECEIPT_CREATED = EventType("payments", "receipt", "created")


@dataclass
class Stack:
    inventory: inventory_pb2_grpc.InventoryServiceStub
    catalog: catalog_pb2_grpc.CatalogServiceStub
    db: Database
    nats_url: str


@pytest.fixture
async def stack(database_url: str, nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[Stack]:
    """The catalogue on its own SQLite file, the inventory on the database under test."""
    databases = {
        "catalog": f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}",
        "inventory": database_url,
    }
    async with running(
        nats_server.url, databases, {"catalog": CATALOG, "inventory": INVENTORY}
    ) as services:
        db = Database(database_url)
        try:
            yield _stack(services, db, nats_server.url)
        finally:
            await db.dispose()


def _stack(services: Services, db: Database, nats_url: str) -> Stack:
    return Stack(
        inventory_pb2_grpc.InventoryServiceStub(services.channel("inventory")),
        catalog_pb2_grpc.CatalogServiceStub(services.channel("catalog")),
        db,
        nats_url,
    )


# -- helpers ------------------------------------------------------------------------------


def _id() -> str:
    return secrets.token_hex(16)


def _md(org: str, est: str, user: str = "u-till") -> Metadata:
    return metadata(org, est, user_id=user)


async def _error(call: Awaitable[Any]) -> DomainError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error = from_rpc_error(caught.value)
    assert error is not None, caught.value
    return error


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


async def _product(stack: Stack, org: str, est: str, name: str = "Shampoo") -> str:
    product = await stack.catalog.CreateProduct(
        catalog_pb2.CreateProductRequest(name=name, brand="Salon", price="12.50"),
        metadata=metadata(org, est, role=Role.OWNER),
        timeout=5,
    )
    return product.id


async def _deliver(stack: Stack, org: str, est: str, product_id: str, quantity: int) -> None:
    await stack.inventory.AdjustStock(
        inventory_pb2.AdjustStockRequest(product_id=product_id, delta=quantity, reason=DELIVERY),
        metadata=_md(org, est),
        timeout=5,
    )


async def _reserve(
    stack: Stack, org: str, est: str, reservation_id: str, *lines: tuple[str, int]
) -> inventory_pb2.ReserveStockResponse:
    return await stack.inventory.ReserveStock(
        inventory_pb2.ReserveStockRequest(
            reservation_id=reservation_id,
            lines=[inventory_pb2.ReserveLine(product_id=p, quantity=q) for p, q in lines],
        ),
        metadata=_md(org, est),
        timeout=10,
    )


async def _release(
    stack: Stack, org: str, est: str, reservation_id: str
) -> inventory_pb2.ReleaseStockResponse:
    return await stack.inventory.ReleaseStock(
        inventory_pb2.ReleaseStockRequest(reservation_id=reservation_id),
        metadata=_md(org, est),
        timeout=10,
    )


async def _stock(stack: Stack, org: str, est: str, *product_ids: str) -> list[int]:
    reply = await stack.inventory.GetStock(
        inventory_pb2.GetStockRequest(product_ids=list(product_ids)),
        metadata=_md(org, est),
        timeout=5,
    )
    return [lv.quantity for lv in reply.levels]


async def _movements(
    stack: Stack, org: str, est: str, product_id: str
) -> list[inventory_pb2.StockMovement]:
    reply = await stack.inventory.ListMovements(
        inventory_pb2.ListMovementsRequest(product_id=product_id),
        metadata=_md(org, est),
        timeout=5,
    )
    return list(reply.movements)


def _levels(answer: inventory_pb2.ReserveStockResponse) -> list[tuple[str, str, int]]:
    return [(lv.product_id, lv.establishment_id, lv.quantity) for lv in answer.levels]


def _receipt_event(org: str, est: str, reservation_id: str, receipt_id: str = "") -> Event:
    """What the payments service publishes once a checkout's receipt is written."""
    receipt = payments_pb2.Receipt(
        id=receipt_id or new_id(),
        number="000001",
        establishment_id=est,
        client_id=new_id(),
        total="25.00",
        reservation_id=reservation_id,
    )
    return Event(
        id=new_id(),
        type=RECEIPT_CREATED.name,
        source="/salon/payments",
        time=utcnow(),
        organization_id=org,
        establishment_id=est,
        actor_id="u-till",
        subject=RECEIPT_CREATED.subject(org, est),
        data=payments_events.ReceiptCreated(receipt=receipt).SerializeToString(),
    )


async def _publish(nats_url: str, *events: Event) -> None:
    """Into the stream, as the payments service's outbox relay does."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for event in events:
            await js.publish(event.subject, event.data, headers=event.headers())
    finally:
        await nc.close()


async def _status(stack: Stack, org: str, est: str, reservation_id: str) -> str | None:
    async with stack.db.read(organization_id=org) as session:
        return (
            await session.execute(
                select(stock_reservations.c.status).where(
                    stock_reservations.c.organization_id == org,
                    stock_reservations.c.establishment_id == est,
                    stock_reservations.c.id == reservation_id,
                )
            )
        ).scalar_one_or_none()


class Collector:
    """The events the inventory publishes on a subject filter, as a partner would see them."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def collect(self, msg: Any) -> None:
        self.events.append(Event.from_message(msg.subject, msg.headers, msg.data))

    async def wait_for(self, count: int) -> list[Event]:
        async def enough() -> list[Event]:
            assert len(self.events) >= count
            return self.events

        return await _eventually(enough)


# -- the schema ---------------------------------------------------------------------------


async def test_the_migrations_build_exactly_the_tables_of_the_code(database_url: str) -> None:
    db = Database(database_url)
    try:
        await migrations.upgrade(db, INVENTORY.migrations)
        async with db.read() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), inventory_metadata)
            )
    finally:
        await db.dispose()
    assert diff == []


# -- the rules, without a database --------------------------------------------------------


def test_lines_are_merged_per_product_in_the_order_first_asked() -> None:
    assert model.check_reservation_lines([("b", 1), ("a", 2), ("b", 3)]) == {"b": 4, "a": 2}
    assert list(model.check_reservation_lines([("b", 1), ("a", 2), ("b", 3)])) == ["b", "a"]
    # The till's bounds are per line: two full lines of one product are 1998 units.
    assert model.check_reservation_lines([("a", 999), ("a", 999)]) == {"a": 1998}
    with pytest.raises(DomainError) as caught:
        model.check_reservation_lines([("a", 999), ("a", 1000)])
    assert (caught.value.code, caught.value.field) == (ErrorCode.INVALID, "lines")


def test_a_stored_reservation_answers_only_the_same_lines_and_never_once_released() -> None:
    held = model.Reservation("r", "e", model.ReservationStatus.HELD, {"a": 2, "b": 1}, b"")
    model.check_same_reservation(held, {"b": 1, "a": 2})
    with pytest.raises(DomainError) as other:
        model.check_same_reservation(held, {"a": 2})
    released = model.Reservation("r", "e", model.ReservationStatus.RELEASED, {}, b"")
    with pytest.raises(DomainError) as gone:
        model.check_same_reservation(released, {})
    assert (other.value.code, other.value.field) == (ErrorCode.CONFLICT, "reservationId")
    assert (gone.value.code, gone.value.field) == (
        ErrorCode.RESERVATION_RELEASED,
        "reservationId",
    )


# -- reserving ----------------------------------------------------------------------------


async def test_R20_a_reservation_takes_stock_and_shows_SALE_movements_with_its_id(
    stack: Stack,
) -> None:
    org, a, b = _id(), _id(), _id()
    shampoo, wax = await _product(stack, org, a), await _product(stack, org, a, "Wax")
    await _deliver(stack, org, a, shampoo, 5)
    await _deliver(stack, org, a, wax, 3)
    await _deliver(stack, org, b, shampoo, 20)
    collector = Collector()
    nc = await nats.connect(stack.nats_url)
    sub = await nc.subscribe(f"salon.{org}.{a}.inventory.stock.reserved", cb=collector.collect)
    try:
        rid = new_id()
        # Two lines of the shampoo are one product: merged.
        answer = await _reserve(stack, org, a, rid, (wax, 1), (shampoo, 2), (shampoo, 1))
        [event] = await collector.wait_for(1)
    finally:
        await sub.unsubscribe()
        await nc.close()

    assert (answer.reservation_id, answer.status) == (rid, HELD)
    assert _levels(answer) == [(wax, a, 2), (shampoo, a, 2)]
    assert await _stock(stack, org, a, shampoo, wax) == [2, 2]
    assert await _stock(stack, org, b, shampoo) == [20]  # R20: the selling establishment only
    [sale, _delivery] = await _movements(stack, org, a, shampoo)
    assert (sale.delta, sale.reason, sale.reservation_id, sale.user_id) == (
        -3,
        SALE,
        rid,
        "u-till",
    )
    assert [m.reservation_id for m in await _movements(stack, org, a, wax)] == [rid, ""]
    reserved = event.parse(events_pb2.StockReserved)
    assert event.type == "salon.inventory.stock.reserved.v1"
    assert reserved.reservation_id == rid
    assert sorted((m.product_id, m.delta, m.reservation_id) for m in reserved.movements) == sorted(
        [(shampoo, -3, rid), (wax, -1, rid)]
    )
    assert {(lv.product_id, lv.quantity) for lv in reserved.levels} == {(shampoo, 2), (wax, 2)}


async def test_R20_a_reservation_is_all_or_nothing_when_one_line_is_short(stack: Stack) -> None:
    org, a = _id(), _id()
    shampoo, wax = await _product(stack, org, a), await _product(stack, org, a, "Wax")
    await _deliver(stack, org, a, shampoo, 5)
    await _deliver(stack, org, a, wax, 1)
    rid = new_id()

    error = await _error(_reserve(stack, org, a, rid, (shampoo, 2), (wax, 2)))

    assert (error.code, error.field) == (ErrorCode.OUT_OF_STOCK, wax)
    assert wax in error.message
    assert await _stock(stack, org, a, shampoo, wax) == [5, 1]
    assert [m.delta for m in await _movements(stack, org, a, shampoo)] == [5]
    assert [m.delta for m in await _movements(stack, org, a, wax)] == [1]
    assert await _status(stack, org, a, rid) is None  # nothing held
    # Never stocked here at all: short as well, and nothing written.
    never = await _product(stack, org, a, "Never stocked")
    error = await _error(_reserve(stack, org, a, new_id(), (shampoo, 1), (never, 1)))
    assert (error.code, error.field) == (ErrorCode.OUT_OF_STOCK, never)
    assert await _stock(stack, org, a, shampoo, never) == [5, 0]
    # The same id once the stock is there: a failed attempt held nothing, so it may retry.
    await _deliver(stack, org, a, wax, 1)
    answer = await _reserve(stack, org, a, rid, (shampoo, 2), (wax, 2))
    assert answer.status == HELD
    assert await _stock(stack, org, a, shampoo, wax) == [3, 0]


async def test_bad_reservations_are_invalid_or_not_found_and_write_nothing(stack: Stack) -> None:
    org, a = _id(), _id()
    shampoo = await _product(stack, org, a)
    await _deliver(stack, org, a, shampoo, 5)
    rid = new_id()
    invalid = [
        await _error(_reserve(stack, org, a, "", (shampoo, 1))),
        await _error(_reserve(stack, org, a, "x" * 65, (shampoo, 1))),
        await _error(_reserve(stack, org, a, "has space", (shampoo, 1))),
        await _error(_reserve(stack, org, a, rid)),
        await _error(_reserve(stack, org, a, rid, *[(shampoo, 1)] * 101)),
        await _error(_reserve(stack, org, a, rid, ("", 1))),
        await _error(_reserve(stack, org, a, rid, (shampoo, 0))),
        await _error(_reserve(stack, org, a, rid, (shampoo, -1))),
        await _error(_reserve(stack, org, a, rid, (shampoo, 1000))),
        await _error(_release(stack, org, a, "")),
    ]
    assert [(e.code, e.field) for e in invalid] == [
        (ErrorCode.INVALID, "reservationId"),
        (ErrorCode.INVALID, "reservationId"),
        (ErrorCode.INVALID, "reservationId"),
        *[(ErrorCode.INVALID, "lines")] * 6,
        (ErrorCode.INVALID, "reservationId"),
    ]
    unknown = new_id()
    error = await _error(_reserve(stack, org, a, rid, (shampoo, 1), (unknown, 1)))
    assert (error.code, error.field) == (ErrorCode.NOT_FOUND, unknown)
    # Another organization's product is unknown here (R01).
    foreign = await _product(stack, _id(), a)
    error = await _error(_reserve(stack, org, a, rid, (foreign, 1)))
    assert (error.code, error.field) == (ErrorCode.NOT_FOUND, foreign)
    assert await _stock(stack, org, a, shampoo) == [5]
    assert len(await _movements(stack, org, a, shampoo)) == 1
    assert await _status(stack, org, a, rid) is None


async def test_a_retried_reservation_answers_the_same_and_takes_once(stack: Stack) -> None:
    org, a = _id(), _id()
    shampoo, wax = await _product(stack, org, a), await _product(stack, org, a, "Wax")
    await _deliver(stack, org, a, shampoo, 5)
    await _deliver(stack, org, a, wax, 5)
    rid = new_id()

    first = await _reserve(stack, org, a, rid, (shampoo, 2), (wax, 1))
    await _deliver(stack, org, a, shampoo, 10)  # the levels move on meanwhile
    again = await _reserve(stack, org, a, rid, (wax, 1), (shampoo, 1), (shampoo, 1))
    # Retries at once: still one reservation, taken once.
    racing = await asyncio.gather(
        *[_reserve(stack, org, a, rid, (shampoo, 2), (wax, 1)) for _ in range(5)]
    )

    assert again == first
    assert all(r == first for r in racing)
    assert await _stock(stack, org, a, shampoo, wax) == [13, 4]
    assert [m.delta for m in await _movements(stack, org, a, shampoo)] == [10, -2, 5]
    # The same id for other products or quantities is another attempt's: refused.
    other = await _error(_reserve(stack, org, a, rid, (shampoo, 3), (wax, 1)))
    assert (other.code, other.field) == (ErrorCode.CONFLICT, "reservationId")
    assert await _stock(stack, org, a, shampoo, wax) == [13, 4]


async def test_concurrent_first_attempts_with_one_id_take_once(stack: Stack) -> None:
    org, a = _id(), _id()
    shampoo = await _product(stack, org, a)
    await _deliver(stack, org, a, shampoo, 10)
    rid = new_id()

    answers = await asyncio.gather(*[_reserve(stack, org, a, rid, (shampoo, 3)) for _ in range(8)])

    assert all(answer == answers[0] for answer in answers)
    assert _levels(answers[0]) == [(shampoo, a, 7)]
    assert await _stock(stack, org, a, shampoo) == [7]
    assert [m.delta for m in await _movements(stack, org, a, shampoo)] == [-3, 10]


# -- releasing ----------------------------------------------------------------------------


async def test_R20_a_release_puts_back_exactly_and_drops_the_movements(stack: Stack) -> None:
    org, a = _id(), _id()
    shampoo, wax = await _product(stack, org, a), await _product(stack, org, a, "Wax")
    await _deliver(stack, org, a, shampoo, 5)
    await _deliver(stack, org, a, wax, 3)
    kept = new_id()
    await _reserve(stack, org, a, kept, (shampoo, 1))
    rid = new_id()
    await _reserve(stack, org, a, rid, (shampoo, 3), (wax, 3))
    await _deliver(stack, org, a, wax, 2)  # a delivery meanwhile stays
    collector = Collector()
    nc = await nats.connect(stack.nats_url)
    sub = await nc.subscribe(f"salon.{org}.{a}.inventory.stock.released", cb=collector.collect)
    try:
        released = await _release(stack, org, a, rid)
        [event] = await collector.wait_for(1)
    finally:
        await sub.unsubscribe()
        await nc.close()

    assert (released.reservation_id, released.status, released.released) == (rid, RELEASED, True)
    assert await _stock(stack, org, a, shampoo, wax) == [4, 5]
    assert [(m.delta, m.reservation_id) for m in await _movements(stack, org, a, shampoo)] == [
        (-1, kept),
        (5, ""),
    ]
    assert [m.delta for m in await _movements(stack, org, a, wax)] == [2, 3]
    body = event.parse(events_pb2.StockReleased)
    assert body.reservation_id == rid
    assert {(lv.product_id, lv.establishment_id, lv.quantity) for lv in body.levels} == {
        (shampoo, a, 4),
        (wax, a, 5),
    }
    # Released for good: the same id again is refused, whatever its lines.
    error = await _error(_reserve(stack, org, a, rid, (shampoo, 3), (wax, 3)))
    assert (error.code, error.field) == (ErrorCode.RESERVATION_RELEASED, "reservationId")
    assert await _stock(stack, org, a, shampoo, wax) == [4, 5]


async def test_releasing_twice_puts_back_once(stack: Stack) -> None:
    org, a = _id(), _id()
    shampoo = await _product(stack, org, a)
    await _deliver(stack, org, a, shampoo, 5)
    rid = new_id()
    await _reserve(stack, org, a, rid, (shampoo, 2))

    first = await _release(stack, org, a, rid)
    second = await _release(stack, org, a, rid)
    racing = await asyncio.gather(*[_release(stack, org, a, rid) for _ in range(5)])

    assert (first.status, first.released) == (RELEASED, True)
    assert (second.status, second.released) == (RELEASED, False)
    assert all((r.status, r.released) == (RELEASED, False) for r in racing)
    assert await _stock(stack, org, a, shampoo) == [5]
    assert [m.delta for m in await _movements(stack, org, a, shampoo)] == [5]


async def test_concurrent_releases_of_a_held_reservation_put_back_once(stack: Stack) -> None:
    org, a = _id(), _id()
    shampoo = await _product(stack, org, a)
    await _deliver(stack, org, a, shampoo, 5)
    rid = new_id()
    await _reserve(stack, org, a, rid, (shampoo, 4))

    outcomes = await asyncio.gather(*[_release(stack, org, a, rid) for _ in range(6)])

    assert sorted(o.released for o in outcomes) == [False] * 5 + [True]
    assert {o.status for o in outcomes} == {RELEASED}
    assert await _stock(stack, org, a, shampoo) == [5]


async def test_an_unknown_id_released_is_remembered_and_a_late_reservation_refused(
    stack: Stack,
) -> None:
    org, a = _id(), _id()
    shampoo = await _product(stack, org, a)
    await _deliver(stack, org, a, shampoo, 5)
    rid = new_id()

    # The till gave up on a ReserveStock whose answer never came, and compensates first.
    released = await _release(stack, org, a, rid)
    late = await _error(_reserve(stack, org, a, rid, (shampoo, 1)))

    assert (released.reservation_id, released.status, released.released) == (
        rid,
        RELEASED,
        False,
    )
    assert (late.code, late.field) == (ErrorCode.RESERVATION_RELEASED, "reservationId")
    assert await _stock(stack, org, a, shampoo) == [5]
    assert await _status(stack, org, a, rid) == "RELEASED"
    assert (await _release(stack, org, a, rid)).released is False


async def test_R20_two_reservations_racing_for_the_last_unit_exactly_one_wins(
    stack: Stack,
) -> None:
    org, a = _id(), _id()
    shampoo, wax = await _product(stack, org, a), await _product(stack, org, a, "Wax")
    await _deliver(stack, org, a, shampoo, 1)
    await _deliver(stack, org, a, wax, 10)
    # The lines in either order: the levels are locked in one order whatever the request's.
    first, second = new_id(), new_id()

    results = await asyncio.gather(
        _reserve(stack, org, a, first, (shampoo, 1), (wax, 1)),
        _reserve(stack, org, a, second, (wax, 1), (shampoo, 1)),
        return_exceptions=True,
    )

    won = [r for r in results if isinstance(r, inventory_pb2.ReserveStockResponse)]
    lost = [from_rpc_error(r) for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(won) == 1 and len(lost) == 1, results
    assert lost[0] is not None
    assert (lost[0].code, lost[0].field) == (ErrorCode.OUT_OF_STOCK, shampoo)
    assert await _stock(stack, org, a, shampoo, wax) == [0, 9]
    winner = won[0].reservation_id
    loser = second if winner == first else first
    assert await _status(stack, org, a, winner) == "HELD"
    assert await _status(stack, org, a, loser) is None
    assert [m.reservation_id for m in await _movements(stack, org, a, wax)] == [winner, ""]


async def test_R20_twelve_checkouts_racing_for_five_units_sell_five(stack: Stack) -> None:
    org, a = _id(), _id()
    shampoo = await _product(stack, org, a)
    await _deliver(stack, org, a, shampoo, 5)

    results = await asyncio.gather(
        *[_reserve(stack, org, a, new_id(), (shampoo, 1)) for _ in range(12)],
        return_exceptions=True,
    )

    won = [r for r in results if isinstance(r, inventory_pb2.ReserveStockResponse)]
    lost = [from_rpc_error(r) for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert (len(won), len(lost)) == (5, 7), results
    assert all(e is not None and e.code is ErrorCode.OUT_OF_STOCK for e in lost)
    assert sorted(lv.quantity for r in won for lv in r.levels) == [0, 1, 2, 3, 4]
    assert await _stock(stack, org, a, shampoo) == [0]


# -- committing (payments.receipt.created) ------------------------------------------------


async def test_R28_a_published_receipt_commits_the_reservation_and_release_is_refused(
    stack: Stack,
) -> None:
    org, a = _id(), _id()
    shampoo = await _product(stack, org, a)
    await _deliver(stack, org, a, shampoo, 5)
    rid = new_id()
    held = await _reserve(stack, org, a, rid, (shampoo, 2))
    receipt = _receipt_event(org, a, rid)

    await _publish(stack.nats_url, receipt)

    async def committed() -> inventory_pb2.ReserveStockResponse:
        # A retry of the checkout's step reads the status as it is now, and takes nothing.
        answer = await _reserve(stack, org, a, rid, (shampoo, 2))
        assert answer.status == COMMITTED
        return answer

    answer = await _eventually(committed)
    assert _levels(answer) == _levels(held)
    refused = await _error(_release(stack, org, a, rid))
    assert (refused.code, refused.field) == (ErrorCode.CONFLICT, "reservationId")
    # The receipt's stock stays sold.
    assert await _stock(stack, org, a, shampoo) == [3]
    assert [m.delta for m in await _movements(stack, org, a, shampoo)] == [-2, 5]
    # The same receipt event again (redelivered): nothing changes.
    await _publish(stack.nats_url, _receipt_event(org, a, rid, receipt_id=new_id()))
    marker = new_id()
    await _reserve(stack, org, a, marker, (shampoo, 1))
    await _publish(stack.nats_url, _receipt_event(org, a, marker))
    await _eventually(_committed_check(stack, org, a, marker))
    assert await _status(stack, org, a, rid) == "COMMITTED"
    assert await _stock(stack, org, a, shampoo) == [2]


def _committed_check(stack: Stack, org: str, est: str, rid: str) -> Callable[[], Awaitable[None]]:
    async def check() -> None:
        assert await _status(stack, org, est, rid) == "COMMITTED"

    return check


async def test_a_receipt_of_a_released_reservation_leaves_it_released(stack: Stack) -> None:
    org, a, b = _id(), _id(), _id()
    shampoo = await _product(stack, org, a)
    await _deliver(stack, org, a, shampoo, 5)
    await _deliver(stack, org, b, shampoo, 5)
    released, elsewhere = new_id(), new_id()
    await _reserve(stack, org, a, released, (shampoo, 2))
    await _release(stack, org, a, released)
    await _reserve(stack, org, b, elsewhere, (shampoo, 1))
    anomalies = [
        _receipt_event(org, a, released),
        # The receipt's establishment is A: B's reservation of that id is not A's.
        _receipt_event(org, a, elsewhere),
        # No products on the receipt.
        _receipt_event(org, a, ""),
    ]

    await _publish(stack.nats_url, *anomalies)
    # The consumer takes the stream in order: once a later receipt is applied, these were.
    marker = new_id()
    await _reserve(stack, org, a, marker, (shampoo, 1))
    await _publish(stack.nats_url, _receipt_event(org, a, marker))
    await _eventually(_committed_check(stack, org, a, marker))

    assert await _status(stack, org, a, released) == "RELEASED"
    assert await _status(stack, org, b, elsewhere) == "HELD"
    assert await _status(stack, org, a, elsewhere) is None
    assert await _stock(stack, org, a, shampoo) == [4]
    assert await _stock(stack, org, b, shampoo) == [4]
    # Handled once each (logged), not retried until given up.
    async with stack.db.read() as session:
        handled = (
            await session.execute(
                select(processed_events.c.event_id).where(
                    processed_events.c.consumer == PAYMENTS_DURABLE,
                    processed_events.c.event_id.in_([e.id for e in anomalies]),
                )
            )
        ).scalars()
        assert set(handled) == {e.id for e in anomalies}


# -- isolation ----------------------------------------------------------------------------


async def test_R01_another_organization_never_sees_nor_touches_a_reservation(
    stack: Stack,
) -> None:
    org, other, a = _id(), _id(), _id()
    shampoo = await _product(stack, org, a)
    theirs = await _product(stack, other, a, "Their shampoo")
    await _deliver(stack, org, a, shampoo, 5)
    await _deliver(stack, other, a, theirs, 5)
    rid = new_id()
    await _reserve(stack, org, a, rid, (shampoo, 2))

    # The same reservation id, in another organization (even with the same establishment
    # id): unknown there. Releasing it leaves a tombstone there, and nothing here changes.
    released = await _release(stack, other, a, rid)
    refused = await _error(_reserve(stack, other, a, rid, (theirs, 1)))
    # A receipt of the other organization naming the id commits nothing here.
    await _publish(stack.nats_url, _receipt_event(other, a, rid))
    marker = new_id()
    await _reserve(stack, org, a, marker, (shampoo, 1))
    await _publish(stack.nats_url, _receipt_event(org, a, marker))
    await _eventually(_committed_check(stack, org, a, marker))

    assert (released.status, released.released) == (RELEASED, False)
    assert refused.code is ErrorCode.RESERVATION_RELEASED
    assert await _status(stack, org, a, rid) == "HELD"
    assert await _stock(stack, org, a, shampoo) == [2]
    assert await _stock(stack, other, a, theirs) == [5]
    # Their product is not ours either, and ours is not theirs.
    error = await _error(_reserve(stack, other, a, new_id(), (shampoo, 1)))
    assert (error.code, error.field) == (ErrorCode.NOT_FOUND, shampoo)
    # Still ours to release.
    mine = await _release(stack, org, a, rid)
    assert (mine.status, mine.released) == (RELEASED, True)
    assert await _stock(stack, org, a, shampoo) == [4]


async def test_R20_a_reservation_of_another_establishment_is_unknown_here(stack: Stack) -> None:
    org, a, b = _id(), _id(), _id()
    shampoo = await _product(stack, org, a)
    await _deliver(stack, org, a, shampoo, 5)
    await _deliver(stack, org, b, shampoo, 5)
    rid = new_id()
    await _reserve(stack, org, a, rid, (shampoo, 2))

    from_b = await _release(stack, org, b, rid)

    assert (from_b.status, from_b.released) == (RELEASED, False)
    assert await _status(stack, org, a, rid) == "HELD"
    assert await _stock(stack, org, a, shampoo) == [3]
    assert await _stock(stack, org, b, shampoo) == [5]
