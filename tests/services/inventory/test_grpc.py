"""The inventory service over real gRPC on loopback, asking the real catalogue service
whether a product exists: stock per establishment (R20), the right to change another
establishment's stock (R05), transfers (B02), idempotency keys, isolation between
organizations (R01), events published and establishments learnt from tenancy events."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import nats
import pytest

from launcher.nats_server import NatsServer
from salon.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from salon.inventory.v1 import events_pb2, inventory_pb2, inventory_pb2_grpc
from salon.tenancy.v1 import events_pb2 as tenancy_events_pb2
from services.catalog.service import SPEC as CATALOG
from services.common.db import new_id, utcnow
from services.common.errors import DomainError, ErrorCode, from_rpc_error
from services.common.events import Event
from services.common.runtime import ServiceProcess
from services.common.scope import Right, Role, Scope, ScopeSigner
from services.common.settings import ServiceSettings
from services.common.tenancy_replica import ESTABLISHMENT_CREATED
from services.inventory.service import SPEC as INVENTORY

SECRET = "k" * 40  # 32+ characters, as production mode demands
SIGNER = ScopeSigner([SECRET.encode()])

DELIVERY = inventory_pb2.STOCK_REASON_DELIVERY
SALE = inventory_pb2.STOCK_REASON_SALE
CORRECTION = inventory_pb2.STOCK_REASON_CORRECTION
TRANSFER_IN = inventory_pb2.STOCK_REASON_TRANSFER_IN
TRANSFER_OUT = inventory_pb2.STOCK_REASON_TRANSFER_OUT


def _settings(database_url: str, nats_url: str, **extra: Any) -> ServiceSettings:
    return ServiceSettings(
        database_url=database_url,
        nats_url=nats_url,
        scope_secret=SECRET,
        grpc_port=0,
        shutdown_grace_seconds=1,
        **extra,
    )


@dataclass
class Stack:
    inventory: inventory_pb2_grpc.InventoryServiceStub
    catalog: catalog_pb2_grpc.CatalogServiceStub
    nats_url: str


@pytest.fixture
async def stack(database_url: str, nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[Stack]:
    """The catalogue on its own SQLite file, the inventory on the database under test."""
    catalog = ServiceProcess(
        CATALOG, _settings(f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}", nats_server.url)
    )
    catalog_port = await catalog.start()
    inventory = ServiceProcess(
        INVENTORY,
        _settings(database_url, nats_server.url, catalog_addr=f"127.0.0.1:{catalog_port}"),
    )
    port = await inventory.start()
    inventory_channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    catalog_channel = grpc.aio.insecure_channel(f"127.0.0.1:{catalog_port}")
    try:
        yield Stack(
            inventory_pb2_grpc.InventoryServiceStub(inventory_channel),
            catalog_pb2_grpc.CatalogServiceStub(catalog_channel),
            nats_server.url,
        )
    finally:
        await inventory_channel.close()
        await catalog_channel.close()
        await inventory.stop()
        await catalog.stop()


def _id() -> str:
    return secrets.token_hex(16)


def _md(
    org: str, est: str, *rights: Right, role: Role = Role.STAFF, user: str = "u1"
) -> tuple[tuple[str, bytes], ...]:
    return SIGNER.metadata(Scope(org, est, user, role, frozenset(rights)))


async def _error(call: Awaitable[Any]) -> DomainError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error = from_rpc_error(caught.value)
    assert error is not None, caught.value
    return error


async def _product(stack: Stack, org: str, est: str, name: str = "Shampoo") -> str:
    product = await stack.catalog.CreateProduct(
        catalog_pb2.CreateProductRequest(name=name, brand="Salon", price="12.50"),
        metadata=_md(org, est, role=Role.OWNER),
        timeout=5,
    )
    return product.id


async def _adjust(
    stack: Stack,
    md: tuple[tuple[str, bytes], ...],
    product_id: str,
    delta: int,
    reason: int = DELIVERY,
    establishment_id: str = "",
    key: str = "",
) -> inventory_pb2.StockChange:
    return await stack.inventory.AdjustStock(
        inventory_pb2.AdjustStockRequest(
            product_id=product_id,
            delta=delta,
            reason=reason,  # type: ignore[arg-type]
            establishment_id=establishment_id,
            idempotency_key=key,
        ),
        metadata=md,
        timeout=5,
    )


async def _transfer(
    stack: Stack,
    md: tuple[tuple[str, bytes], ...],
    product_id: str,
    to: str,
    quantity: int,
    key: str = "",
) -> inventory_pb2.TransferStockResponse:
    return await stack.inventory.TransferStock(
        inventory_pb2.TransferStockRequest(
            product_id=product_id, to_establishment_id=to, quantity=quantity, idempotency_key=key
        ),
        metadata=md,
        timeout=5,
    )


async def _stock(
    stack: Stack, org: str, est: str, *product_ids: str, role: Role = Role.STAFF
) -> list[int]:
    """The levels, read while working in `est` itself."""
    reply = await stack.inventory.GetStock(
        inventory_pb2.GetStockRequest(product_ids=list(product_ids)),
        metadata=_md(org, est, role=role),
        timeout=5,
    )
    assert [lv.product_id for lv in reply.levels] == list(product_ids)
    assert all(lv.establishment_id == est for lv in reply.levels)
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


async def test_calls_without_a_valid_scope_are_unauthenticated(stack: Stack) -> None:
    forged = ScopeSigner([b"not the secret" * 3]).metadata(Scope("o", "e", "u", Role.OWNER))
    for metadata in [None, forged]:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stack.inventory.GetStock(
                inventory_pb2.GetStockRequest(product_ids=["p"]), metadata=metadata, timeout=5
            )
        assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_R20_delivery_in_B_is_booked_in_B_only(stack: Stack) -> None:
    org, a, b = _id(), _id(), _id()
    shampoo = await _product(stack, org, a)
    await _adjust(stack, _md(org, a), shampoo, 5)
    await _adjust(stack, _md(org, b), shampoo, 20)

    # Working in A, with the right to manage B's products, a delivery of 10 to B.
    change = await _adjust(
        stack, _md(org, a, Right.MANAGE_OTHER_PRODUCTS), shampoo, 10, establishment_id=b
    )

    assert (change.level.establishment_id, change.level.quantity) == (b, 30)
    assert (change.movement.establishment_id, change.movement.delta) == (b, 10)
    assert change.movement.reason == DELIVERY and change.movement.user_id == "u1"
    assert await _stock(stack, org, a, shampoo) == [5]
    assert await _stock(stack, org, b, shampoo) == [30]
    assert [m.delta for m in await _movements(stack, org, a, shampoo)] == [5]
    assert [m.delta for m in await _movements(stack, org, b, shampoo)] == [10, 20]


async def test_R20_a_sale_lowers_the_selling_establishment_and_never_below_zero(
    stack: Stack,
) -> None:
    org, a, b = _id(), _id(), _id()
    shampoo = await _product(stack, org, a)
    await _adjust(stack, _md(org, a), shampoo, 5)
    await _adjust(stack, _md(org, b), shampoo, 20)

    sold = await _adjust(stack, _md(org, a), shampoo, -2, SALE)
    error = await _error(_adjust(stack, _md(org, a), shampoo, -4, SALE))

    assert sold.level.quantity == 3
    assert (error.code, error.field) == (ErrorCode.OUT_OF_STOCK, "delta")
    assert await _stock(stack, org, a, shampoo) == [3]
    assert await _stock(stack, org, b, shampoo) == [20]
    assert [m.delta for m in await _movements(stack, org, a, shampoo)] == [-2, 5]


async def test_R05_another_establishment_needs_MANAGE_OTHER_PRODUCTS(stack: Stack) -> None:
    org, a, b = _id(), _id(), _id()
    shampoo = await _product(stack, org, a)
    await _adjust(stack, _md(org, b), shampoo, 20)
    staff_in_a = _md(org, a)

    # Checked by the service itself, whatever a gateway did before.
    refused = [
        await _error(_adjust(stack, staff_in_a, shampoo, 10, establishment_id=b)),
        await _error(
            stack.inventory.GetStock(
                inventory_pb2.GetStockRequest(product_ids=[shampoo], establishment_id=b),
                metadata=staff_in_a,
                timeout=5,
            )
        ),
        await _error(
            stack.inventory.ListMovements(
                inventory_pb2.ListMovementsRequest(product_id=shampoo, establishment_id=b),
                metadata=staff_in_a,
                timeout=5,
            )
        ),
    ]
    assert {(e.code, e.field) for e in refused} == {(ErrorCode.FORBIDDEN, "establishmentId")}
    assert await _stock(stack, org, b, shampoo) == [20]
    assert len(await _movements(stack, org, b, shampoo)) == 1

    with_right = await _adjust(
        stack, _md(org, a, Right.MANAGE_OTHER_PRODUCTS), shampoo, -1, CORRECTION, b
    )
    by_owner = await _adjust(stack, _md(org, a, role=Role.OWNER), shampoo, 2, DELIVERY, b)
    assert (with_right.level.quantity, by_owner.level.quantity) == (19, 21)
    read = await stack.inventory.GetStock(
        inventory_pb2.GetStockRequest(product_ids=[shampoo], establishment_id=b),
        metadata=_md(org, a, Right.MANAGE_OTHER_PRODUCTS),
        timeout=5,
    )
    assert [(lv.establishment_id, lv.quantity) for lv in read.levels] == [(b, 21)]
    assert await _stock(stack, org, a, shampoo) == [0]


async def test_R01_another_organization_sees_nothing_and_its_establishments_are_not_found(
    stack: Stack,
) -> None:
    org, other_org, a, theirs = _id(), _id(), _id(), _id()
    shampoo = await _product(stack, org, a)
    their_gel = await _product(stack, other_org, theirs, "Gel")
    await _adjust(stack, _md(org, a), shampoo, 5)
    await _adjust(stack, _md(other_org, theirs), their_gel, 7)
    owner_in_a = _md(org, a, Right.MANAGE_OTHER_PRODUCTS, role=Role.OWNER)

    # Their establishment is known to the service, but not as one of ours: NOT_FOUND,
    # never FORBIDDEN, whatever the rights.
    errors = [
        await _error(_adjust(stack, owner_in_a, shampoo, 1, establishment_id=theirs)),
        await _error(
            stack.inventory.GetStock(
                inventory_pb2.GetStockRequest(product_ids=[their_gel], establishment_id=theirs),
                metadata=owner_in_a,
                timeout=5,
            )
        ),
        await _error(
            stack.inventory.ListMovements(
                inventory_pb2.ListMovementsRequest(product_id=their_gel, establishment_id=theirs),
                metadata=owner_in_a,
                timeout=5,
            )
        ),
    ]
    assert {(e.code, e.field) for e in errors} == {(ErrorCode.NOT_FOUND, "establishmentId")}
    error = await _error(_transfer(stack, owner_in_a, shampoo, theirs, 1))
    assert (error.code, error.field) == (ErrorCode.NOT_FOUND, "toEstablishmentId")
    # Their product is not ours to stock.
    error = await _error(_adjust(stack, owner_in_a, their_gel, 1))
    assert (error.code, error.field) == (ErrorCode.NOT_FOUND, "productId")
    # Our product in their session: 0, no movement; they cannot sell it.
    assert await _stock(stack, other_org, theirs, shampoo, their_gel) == [0, 7]
    assert await _movements(stack, other_org, theirs, shampoo) == []
    error = await _error(_adjust(stack, _md(other_org, theirs), shampoo, -1, SALE))
    assert (error.code, error.field) == (ErrorCode.NOT_FOUND, "productId")
    assert await _stock(stack, org, a, shampoo) == [5]


async def test_B02_a_transfer_moves_both_sides_without_any_right(stack: Stack) -> None:
    org, a, b = _id(), _id(), _id()
    shampoo = await _product(stack, org, a)
    await _adjust(stack, _md(org, a), shampoo, 5)
    await _adjust(stack, _md(org, b), shampoo, 20)

    moved = await _transfer(stack, _md(org, a), shampoo, b, 3)

    sent = getattr(moved, "from")
    assert (sent.establishment_id, sent.quantity) == (a, 2)
    assert (moved.to.establishment_id, moved.to.quantity) == (b, 23)
    assert await _stock(stack, org, a, shampoo) == [2]
    assert await _stock(stack, org, b, shampoo) == [23]
    [out, _delivery_a] = await _movements(stack, org, a, shampoo)
    [into, _delivery_b] = await _movements(stack, org, b, shampoo)
    assert (out.delta, out.reason, out.transfer_id) == (-3, TRANSFER_OUT, moved.transfer_id)
    assert (into.delta, into.reason, into.transfer_id) == (3, TRANSFER_IN, moved.transfer_id)


async def test_B02_a_transfer_of_more_than_in_stock_changes_nothing(stack: Stack) -> None:
    org, a, b = _id(), _id(), _id()
    shampoo = await _product(stack, org, a)
    await _adjust(stack, _md(org, a), shampoo, 5)
    await _adjust(stack, _md(org, b), shampoo, 20)

    error = await _error(_transfer(stack, _md(org, a), shampoo, b, 6))

    assert (error.code, error.field) == (ErrorCode.OUT_OF_STOCK, "quantity")
    assert await _stock(stack, org, a, shampoo) == [5]
    assert await _stock(stack, org, b, shampoo) == [20]
    assert len(await _movements(stack, org, a, shampoo)) == 1
    assert len(await _movements(stack, org, b, shampoo)) == 1


async def test_B02_a_transfer_goes_to_another_known_establishment(stack: Stack) -> None:
    org, a = _id(), _id()
    shampoo = await _product(stack, org, a)
    await _adjust(stack, _md(org, a), shampoo, 5)
    md = _md(org, a, role=Role.OWNER)

    cases = [
        (_transfer(stack, md, shampoo, a, 1), ErrorCode.INVALID, "toEstablishmentId"),
        (_transfer(stack, md, shampoo, "", 1), ErrorCode.INVALID, "toEstablishmentId"),
        (_transfer(stack, md, shampoo, _id(), 1), ErrorCode.NOT_FOUND, "toEstablishmentId"),
        (_transfer(stack, md, shampoo, _id(), 0), ErrorCode.INVALID, "quantity"),
        (_transfer(stack, md, shampoo, _id(), 100_001), ErrorCode.INVALID, "quantity"),
    ]
    for call, code, field in cases:
        error = await _error(call)
        assert (error.code, error.field) == (code, field)
    assert await _stock(stack, org, a, shampoo) == [5]


async def test_an_unknown_product_is_not_found_and_nothing_is_written(stack: Stack) -> None:
    org, a, b = _id(), _id(), _id()
    await _adjust(stack, _md(org, b), await _product(stack, org, b), 1)  # B is known
    unknown = new_id()

    errors = [
        await _error(_adjust(stack, _md(org, a), unknown, 5)),
        await _error(_transfer(stack, _md(org, a), unknown, b, 1)),
    ]

    assert {(e.code, e.field) for e in errors} == {(ErrorCode.NOT_FOUND, "productId")}
    assert await _stock(stack, org, a, unknown) == [0]
    assert await _movements(stack, org, a, unknown) == []
    # The batch read asks no catalogue: any id reads as 0, even one no id could be.
    assert await _stock(stack, org, a, "x" * 300) == [0]


async def test_bad_reason_delta_key_and_bounds_are_invalid(stack: Stack) -> None:
    org, a = _id(), _id()
    shampoo = await _product(stack, org, a)
    md = _md(org, a)
    cases = [
        (_adjust(stack, md, shampoo, 1, inventory_pb2.STOCK_REASON_UNSPECIFIED), "reason"),
        (_adjust(stack, md, shampoo, 1, TRANSFER_IN), "reason"),
        (_adjust(stack, md, shampoo, -1, TRANSFER_OUT), "reason"),
        (_adjust(stack, md, shampoo, 0, CORRECTION), "delta"),
        (_adjust(stack, md, shampoo, 100_001), "delta"),
        (_adjust(stack, md, shampoo, -100_001, SALE), "delta"),
        (_adjust(stack, md, shampoo, -1, DELIVERY), "delta"),
        (_adjust(stack, md, shampoo, 1, SALE), "delta"),
        (_adjust(stack, md, "", 1), "productId"),
        (_adjust(stack, md, shampoo, 1, key="k" * 101), "idempotencyKey"),
        (
            stack.inventory.GetStock(
                inventory_pb2.GetStockRequest(product_ids=[str(i) for i in range(1001)]),
                metadata=md,
                timeout=5,
            ),
            "productIds",
        ),
        (
            stack.inventory.ListMovements(
                inventory_pb2.ListMovementsRequest(product_id=shampoo, limit=501),
                metadata=md,
                timeout=5,
            ),
            "limit",
        ),
    ]
    for call, field in cases:
        error = await _error(call)
        assert (error.code, error.field) == (ErrorCode.INVALID, field)
    assert await _stock(stack, org, a, shampoo) == [0]
    assert await _movements(stack, org, a, shampoo) == []


async def test_a_retried_change_with_its_idempotency_key_counts_once(stack: Stack) -> None:
    org, a, b = _id(), _id(), _id()
    shampoo = await _product(stack, org, a)
    await _adjust(stack, _md(org, b), shampoo, 20)
    md = _md(org, a)

    first = await _adjust(stack, md, shampoo, 5, key="delivery-17")
    retried = await _adjust(stack, md, shampoo, 5, key="delivery-17")
    # The session establishment named explicitly is the same request.
    explicit = await _adjust(stack, md, shampoo, 5, establishment_id=a, key="delivery-17")
    conflict = await _error(_adjust(stack, md, shampoo, 6, key="delivery-17"))
    # The key is per establishment: the same key in B is another change.
    in_b = await _adjust(stack, _md(org, b), shampoo, 5, key="delivery-17")

    assert retried == first and explicit == first
    assert (conflict.code, conflict.field) == (ErrorCode.CONFLICT, "idempotencyKey")
    assert in_b.level.quantity == 25
    assert await _stock(stack, org, a, shampoo) == [5]
    assert len(await _movements(stack, org, a, shampoo)) == 1

    moved = await _transfer(stack, md, shampoo, b, 2, key="transfer-1")
    moved_again = await _transfer(stack, md, shampoo, b, 2, key="transfer-1")
    assert moved_again == moved
    assert await _stock(stack, org, a, shampoo) == [3]
    assert await _stock(stack, org, b, shampoo) == [27]
    conflict = await _error(_adjust(stack, md, shampoo, 2, key="transfer-1"))
    assert (conflict.code, conflict.field) == (ErrorCode.CONFLICT, "idempotencyKey")


async def test_concurrent_retries_with_one_idempotency_key_apply_once(stack: Stack) -> None:
    org, a = _id(), _id()
    shampoo = await _product(stack, org, a)
    md = _md(org, a)

    answers = await asyncio.gather(*(_adjust(stack, md, shampoo, 5, key="once") for _ in range(15)))

    assert all(answer == answers[0] for answer in answers)
    assert await _stock(stack, org, a, shampoo) == [5]
    assert len(await _movements(stack, org, a, shampoo)) == 1


async def test_R20_concurrent_sales_over_grpc_never_oversell(stack: Stack) -> None:
    org, a = _id(), _id()
    shampoo = await _product(stack, org, a)
    await _adjust(stack, _md(org, a), shampoo, 3)

    results = await asyncio.gather(
        *(_adjust(stack, _md(org, a), shampoo, -1, SALE) for _ in range(12)),
        return_exceptions=True,
    )

    sold = [r for r in results if isinstance(r, inventory_pb2.StockChange)]
    refused = [from_rpc_error(r) for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(sold) == 3 and len(refused) == 9
    assert all(e is not None and e.code is ErrorCode.OUT_OF_STOCK for e in refused)
    assert await _stock(stack, org, a, shampoo) == [0]


async def test_each_change_is_published_as_an_event(stack: Stack) -> None:
    org, a, b = _id(), _id(), _id()
    shampoo = await _product(stack, org, a)
    await _adjust(stack, _md(org, b), shampoo, 1)
    nc = await nats.connect(stack.nats_url)
    received: list[Event] = []

    async def collect(msg: Any) -> None:
        received.append(Event.from_message(msg.subject, msg.headers, msg.data))

    sub = await nc.subscribe(f"salon.{org}.{a}.inventory.>", cb=collect)
    try:
        await _adjust(stack, _md(org, a), shampoo, 5, key="k")
        await _adjust(stack, _md(org, a), shampoo, 5, key="k")  # a retry publishes nothing
        moved = await _transfer(stack, _md(org, a), shampoo, b, 2)
        for _ in range(100):
            if len(received) >= 2:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
    finally:
        await sub.unsubscribe()
        await nc.close()

    assert [(e.type, e.subject) for e in received] == [
        ("salon.inventory.stock.adjusted.v1", f"salon.{org}.{a}.inventory.stock.adjusted"),
        ("salon.inventory.stock.transferred.v1", f"salon.{org}.{a}.inventory.stock.transferred"),
    ]
    adjusted = received[0].parse(events_pb2.StockAdjusted)
    assert (adjusted.level.quantity, adjusted.movement.delta) == (5, 5)
    transferred = received[1].parse(events_pb2.StockTransferred)
    into = getattr(transferred, "in")
    assert transferred.transfer_id == moved.transfer_id
    assert (transferred.out.establishment_id, transferred.out.delta) == (a, -2)
    assert (into.establishment_id, into.delta) == (b, 2)


async def test_establishments_are_learnt_from_tenancy_events(stack: Stack) -> None:
    """A transfer to an establishment nobody has worked in yet: the gateway's
    establishment-created event makes it known."""
    org, a, c = _id(), _id(), _id()
    shampoo = await _product(stack, org, a)
    await _adjust(stack, _md(org, a), shampoo, 5)
    error = await _error(_transfer(stack, _md(org, a), shampoo, c, 1))
    assert (error.code, error.field) == (ErrorCode.NOT_FOUND, "toEstablishmentId")

    event = Event(
        id=new_id(),
        type=ESTABLISHMENT_CREATED.name,
        source="/salon/gateway",
        time=utcnow(),
        organization_id=org,
        establishment_id=c,
        actor_id=None,
        subject=ESTABLISHMENT_CREATED.subject(org, c),
        data=tenancy_events_pb2.EstablishmentCreated(
            organization_id=org, establishment_id=c, name="C", timezone="Europe/Brussels"
        ).SerializeToString(),
    )
    nc = await nats.connect(stack.nats_url)
    try:
        await nc.jetstream().publish(event.subject, event.data, headers=event.headers())
    finally:
        await nc.close()

    for _ in range(100):
        try:
            moved = await _transfer(stack, _md(org, a), shampoo, c, 1)
            break
        except grpc.aio.AioRpcError:
            await asyncio.sleep(0.05)
    else:
        pytest.fail("the establishment-created event was not applied")
    assert (moved.to.establishment_id, moved.to.quantity) == (c, 1)
    assert await _stock(stack, org, c, shampoo) == [1]
