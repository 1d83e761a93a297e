"""The checkout saga with each step made to fail in turn (R28, R14, R24, R17), on the real
database (SQLite, and PostgreSQL with TEST_DATABASE_URL) behind DbTill, and fakes for the
catalogue, booking and inventory that record every Reserve/Release.

After every failure: no receipt, no receipt number taken, no balance or visit taken, no
deposit applied, and every reservation made has been released (now, or by the recovery
worker later)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import grpc
import pytest
from sqlalchemy import func, select, update

from services.common import migrations
from services.common.db import Database
from services.common.errors import DomainError, ErrorCode
from services.common.rpc import PeerError
from services.common.runtime import ServiceContext
from services.common.scope import Role, Scope, ScopeSigner, current_scope, scope_context
from services.common.settings import ServiceSettings
from services.payments.api.till import DbTill
from services.payments.domain import cards as cards_domain
from services.payments.domain.checkout import (
    AppointmentInfo,
    AttemptState,
    CatalogItem,
    CheckoutInterrupted,
    CheckoutPlan,
    CheckoutSaga,
    LineKind,
    Receipt,
    check_checkout,
)
from services.payments.service import SPEC
from services.payments.settings import PaymentsSettings
from services.payments.store import cards_repository, repository, till_repository
from services.payments.store.tables import (
    checkout_attempts,
    gift_cards,
    outbox,
    processed_events,
    receipt_counters,
    receipts,
    settlements,
    subscriptions,
)
from services.payments.workers.recovery import CheckoutRecovery

Hook = Callable[[], Awaitable[None]]


def _id() -> str:
    return secrets.token_hex(16)


# -- fakes ------------------------------------------------------------------------------------


@dataclass
class FakeCatalog:
    items_by_id: dict[str, CatalogItem] = field(default_factory=dict)
    down: bool = False

    async def items(
        self, establishment_id: str, service_ids: Sequence[str], product_ids: Sequence[str]
    ) -> list[CatalogItem]:
        if self.down:
            raise PeerError("catalog", grpc.StatusCode.UNAVAILABLE, "down")
        wanted = {(LineKind.SERVICE, i) for i in service_ids} | {
            (LineKind.PRODUCT, i) for i in product_ids
        }
        return [i for i in self.items_by_id.values() if (i.kind, i.id) in wanted]


@dataclass
class FakeAppointments:
    found: dict[str, AppointmentInfo] = field(default_factory=dict)

    async def appointment(self, appointment_id: str) -> AppointmentInfo | None:
        return self.found.get(appointment_id)


@dataclass
class FakeStock:
    """Inventory: every call recorded, with the scope it came with; `on_reserve` runs
    while the reservation is "in flight" (to change the world behind the checkout)."""

    levels: dict[str, int] = field(default_factory=dict)
    held: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    on_reserve: Hook | None = None
    refuse: DomainError | None = None
    release_fails: int = 0

    async def reserve(self, reservation_id: str, lines: Sequence[tuple[str, int]]) -> None:
        self.calls.append(("reserve", reservation_id, current_scope().establishment_id))
        if self.refuse is not None:
            raise self.refuse
        for product, quantity in lines:
            self.levels[product] -= quantity
        self.held[reservation_id] = list(lines)
        if self.on_reserve is not None:
            await self.on_reserve()

    async def release(self, reservation_id: str) -> None:
        self.calls.append(("release", reservation_id, current_scope().establishment_id))
        if self.release_fails:
            self.release_fails -= 1
            raise PeerError("inventory", grpc.StatusCode.UNAVAILABLE, "down")
        for product, quantity in self.held.pop(reservation_id, []):
            self.levels[product] += quantity

    def reserved(self) -> list[str]:
        return [rid for kind, rid, _ in self.calls if kind == "reserve"]

    def released(self) -> list[str]:
        return [rid for kind, rid, _ in self.calls if kind == "release"]


class FailingTill(DbTill):
    """The real write, made to raise inside its transaction after every statement ran."""

    async def write(self, plan: CheckoutPlan, reservation_id: str, scope: Scope) -> Receipt:
        async with self.db.write(organization_id=scope.organization_id) as conn:
            await till_repository.write_checkout(conn, plan, reservation_id, True)
            raise RuntimeError("the database went away")


# -- set-up -----------------------------------------------------------------------------------


@dataclass
class World:
    db: Database
    saga: CheckoutSaga
    catalog: FakeCatalog
    stock: FakeStock
    till: DbTill
    org: str
    a: str
    b: str
    client: str
    card_code: str = ""
    subscription_id: str = ""
    deposit_id: str = ""

    def scope(self, est: str = "") -> Scope:
        return Scope(self.org, est or self.a, "user-1", Role.STAFF)

    async def checkout(self, **changes: Any) -> Receipt:
        values: dict[str, Any] = {
            "client_id": self.client,
            "appointment_id": "",
            "lines": [("svc", "", 1), ("", "prod", 2)],
            "payments": [
                ("GIFT_CARD", "20", self.card_code, ""),
                ("SUBSCRIPTION", "10", "", self.subscription_id),
                ("CASH", "20", "", ""),
            ],
            "apply_deposits": True,
            "idempotency_key": "key-1",
        }
        values.update(changes)
        scope = self.scope()
        with scope_context(scope):
            return await self.saga.checkout(scope, check_checkout(**values))


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    db = Database(database_url, pool_size=20)
    await migrations.upgrade(db, SPEC.migrations)
    catalog = FakeCatalog(
        {
            "svc": CatalogItem(LineKind.SERVICE, "svc", "Cut", Decimal("40.00")),
            "prod": CatalogItem(LineKind.PRODUCT, "prod", "Shampoo", Decimal("12.50")),
        }
    )
    stock = FakeStock(levels={"prod": 10})
    till = DbTill(db)
    org, a, b, client = _id(), _id(), _id(), _id()
    w = World(
        db,
        CheckoutSaga(catalog, FakeAppointments(), stock, till, wait_seconds=2),
        catalog,
        stock,
        till,
        org,
        a,
        b,
        client,
    )
    # A card sold in B (50), a subscription of A (2 visits), a deposit paid in B (15): the
    # default checkout in A (40 + 2 x 12.50 = 65) uses all three and 20 cash.
    async with db.write(organization_id=org) as conn:
        card, _ = await cards_repository.issue_gift_card(
            conn,
            org,
            b,
            "u",
            cards_domain.check_gift_card("50", "GENERAL", client, "", ""),
        )
        sub = await cards_repository.sell_subscription(
            conn,
            org,
            a,
            "u",
            cards_domain.check_subscription(
                client, "Ten cuts", 2, "300", "", cards_domain.local_today(cards_domain.zone(None))
            ),
        )
        deposit, _ = await repository.record_deposit(conn, org, b, _id(), client, Decimal("15"))
    w.card_code, w.subscription_id, w.deposit_id = card.code, sub.id, deposit.id
    yield w
    await db.dispose()


async def _count(db: Database, table: Any, org: str) -> int:
    async with db.read(organization_id=org) as conn:
        return int(
            (
                await conn.execute(
                    select(func.count()).select_from(table).where(table.c.organization_id == org)
                )
            ).scalar_one()
        )


async def _attempt_state(w: World, key: str = "key-1") -> AttemptState | None:
    attempt = await w.till.attempt(w.org, w.a, key)
    return attempt.state if attempt else None


async def _untouched(w: World, balance: str = "50.00", visits: int = 2) -> None:
    """Nothing of the failed checkout is left: no receipt or number, the card, the visits
    and the deposit as they were, the stock back."""
    assert await _count(w.db, receipts, w.org) == 0
    assert await _count(w.db, settlements, w.org) == 0
    async with w.db.read(organization_id=w.org) as conn:
        counter = (
            await conn.execute(
                select(receipt_counters.c.last_number).where(
                    receipt_counters.c.organization_id == w.org
                )
            )
        ).scalar_one_or_none()
        card = await cards_repository.gift_card_by_code(conn, w.org, w.card_code)
        [sub] = await cards_repository.client_subscriptions(conn, w.org, w.a, [w.client])
        [deposit] = await repository.list_client_deposits(conn, w.org, w.b, [w.client])
    assert counter in (None, 0)
    assert card.balance == Decimal(balance)
    assert sub.visits_left == visits
    assert (deposit.status.value, deposit.receipt_id) == ("PAID", "")
    assert w.stock.levels == {"prod": 10} and w.stock.held == {}
    assert set(w.stock.released()) == set(w.stock.reserved())


async def _recovery(w: World, stock: FakeStock | None = None) -> CheckoutRecovery:
    settings = ServiceSettings(database_url=w.db.url, scope_secret="k" * 40)
    ctx = ServiceContext(
        "payments",
        settings,
        w.db,
        outbox,
        processed_events,
        signer=ScopeSigner([b"k" * 40]),
    )
    return CheckoutRecovery(
        ctx, PaymentsSettings(checkout_recovery_seconds=0.001), stock or w.stock
    )


# -- the path that works ----------------------------------------------------------------------


async def test_R28_the_saga_reserves_writes_once_and_answers_a_repeat_from_the_receipt(
    world: World,
) -> None:
    w = world
    receipt = await w.checkout()

    assert (receipt.number_text, receipt.total, receipt.client_id) == (
        "000001",
        Decimal("65.00"),
        w.client,
    )
    assert [p.method.value for p in receipt.payments] == [
        "GIFT_CARD",
        "SUBSCRIPTION",
        "CASH",
        "DEPOSIT",
    ]
    assert [d.id for d in receipt.deposits_applied] == [w.deposit_id]
    assert w.stock.reserved() == [receipt.reservation_id] and w.stock.released() == []
    assert w.stock.levels == {"prod": 8}
    assert await _attempt_state(w) is AttemptState.DONE
    # B08: the card was sold in B and redeemed in A: B owes A 20.
    async with w.db.read(organization_id=w.org) as conn:
        [owed] = await cards_repository.settlement_report(
            conn,
            w.org,
            receipt.created_at - timedelta(minutes=1),
            receipt.created_at + timedelta(minutes=1),
        )
    assert (owed.from_establishment_id, owed.to_establishment_id, owed.amount) == (
        w.b,
        w.a,
        Decimal("20.00"),
    )

    again = await w.checkout()

    assert again == receipt
    assert w.stock.reserved() == [receipt.reservation_id]
    assert await _count(w.db, receipts, w.org) == 1


async def test_the_same_key_with_another_request_is_a_conflict_and_writes_nothing(
    world: World,
) -> None:
    w = world
    await w.checkout()
    before = list(w.stock.calls)
    with pytest.raises(DomainError) as caught:
        await w.checkout(lines=[("svc", "", 1)], payments=[("CASH", "25", "", "")])
    assert (caught.value.code, caught.value.field) == (ErrorCode.CONFLICT, "idempotencyKey")
    assert w.stock.calls == before
    assert await _count(w.db, receipts, w.org) == 1


# -- the failure matrix -----------------------------------------------------------------------


async def test_the_catalogue_down_fails_before_anything_is_reserved_or_claimed(
    world: World,
) -> None:
    w = world
    w.catalog.down = True
    with pytest.raises(PeerError):
        await w.checkout()
    assert w.stock.calls == []
    assert await _attempt_state(w) is None
    await _untouched(w)


async def test_an_unknown_item_is_not_found_before_anything_is_reserved(world: World) -> None:
    w = world
    with pytest.raises(DomainError) as caught:
        await w.checkout(lines=[("svc", "", 1), ("", "gone", 1)])
    assert (caught.value.code, caught.value.field) == (ErrorCode.NOT_FOUND, "lines[1].productId")
    assert w.stock.calls == [] and await _attempt_state(w) is None
    await _untouched(w)


async def test_a_refused_reservation_is_passed_on_and_the_key_may_be_used_again(
    world: World,
) -> None:
    w = world
    w.stock.refuse = DomainError(ErrorCode.OUT_OF_STOCK, "not enough Shampoo", "productId")
    with pytest.raises(DomainError) as caught:
        await w.checkout()
    assert caught.value.code is ErrorCode.OUT_OF_STOCK
    assert await _attempt_state(w) is AttemptState.FAILED
    # Released even though refused: a reservation that might have gone through is undone.
    assert w.stock.released() == w.stock.reserved()
    await _untouched(w)

    w.stock.refuse = None
    receipt = await w.checkout()
    assert receipt.number == 1 and await _attempt_state(w) is AttemptState.DONE


async def test_R14_a_gift_card_spent_meanwhile_fails_the_write_and_releases_the_stock(
    world: World,
) -> None:
    w = world

    async def spend_elsewhere() -> None:
        async with w.db.write(organization_id=w.org) as conn:
            await conn.execute(
                update(gift_cards)
                .where(gift_cards.c.code == w.card_code)
                .values(balance=Decimal("5.00"))
            )

    w.stock.on_reserve = spend_elsewhere
    with pytest.raises(DomainError) as caught:
        await w.checkout()
    assert (caught.value.code, caught.value.field) == (
        ErrorCode.INSUFFICIENT_BALANCE,
        "payments[0].amount",
    )
    assert await _attempt_state(w) is AttemptState.FAILED
    await _untouched(w, balance="5.00")


async def test_R24_a_subscription_used_up_meanwhile_fails_the_write_and_releases_the_stock(
    world: World,
) -> None:
    w = world

    async def use_elsewhere() -> None:
        async with w.db.write(organization_id=w.org) as conn:
            await conn.execute(
                update(subscriptions)
                .where(subscriptions.c.id == w.subscription_id)
                .values(visits_left=0)
            )

    w.stock.on_reserve = use_elsewhere
    with pytest.raises(DomainError) as caught:
        await w.checkout()
    assert (caught.value.code, caught.value.field) == (
        ErrorCode.USED_UP,
        "payments[1].subscriptionId",
    )
    await _untouched(w, visits=0)


async def test_R17_a_deposit_applied_meanwhile_fails_the_write(world: World) -> None:
    w = world

    async def apply_elsewhere() -> None:
        from services.payments.store.tables import deposits

        async with w.db.write(organization_id=w.org) as conn:
            await conn.execute(
                update(deposits).where(deposits.c.id == w.deposit_id).values(status="REFUNDED")
            )

    w.stock.on_reserve = apply_elsewhere
    with pytest.raises(DomainError) as caught:
        await w.checkout()
    assert (caught.value.code, caught.value.field) == (ErrorCode.CONFLICT, "applyDeposits")
    assert await _count(w.db, receipts, w.org) == 0
    assert w.stock.levels == {"prod": 10} and w.stock.released() == w.stock.reserved()


async def test_R28_a_write_that_raises_rolls_everything_back_and_gives_the_number_back(
    world: World,
) -> None:
    w = world
    w.saga.till = FailingTill(w.db)
    with pytest.raises(RuntimeError):
        await w.checkout()
    assert await _attempt_state(w) is AttemptState.FAILED
    await _untouched(w)

    w.saga.till = w.till
    receipt = await w.checkout()
    assert receipt.number == 1


async def test_a_release_that_fails_is_left_to_the_recovery_worker(world: World) -> None:
    w = world
    w.saga.till = FailingTill(w.db)
    w.stock.release_fails = 1
    with pytest.raises(RuntimeError):
        await w.checkout()
    # Fenced, not released: no later write can complete it, the worker will release it.
    assert await _attempt_state(w) is AttemptState.RELEASING
    assert w.stock.levels == {"prod": 8}
    # A repeat waits for it, then asks to try again later.
    w.saga.till = w.till
    w.saga.wait_seconds = 0.2
    with pytest.raises(CheckoutInterrupted):
        await w.checkout()

    recovered = await (await _recovery(w)).recover_once()

    assert recovered == 1
    assert await _attempt_state(w) is AttemptState.FAILED
    # The worker asked inventory as the attempt's establishment.
    assert w.stock.calls[-1] == ("release", w.stock.reserved()[0], w.a)
    await _untouched(w)
    # And the key works again.
    assert (await w.checkout()).number == 1


async def test_the_recovery_worker_releases_a_checkout_that_crashed_after_reserving(
    world: World,
) -> None:
    """A crash between the reservation and the write: the attempt stays PENDING with its
    stock held; once stale, the worker fences it, releases it and marks it FAILED."""
    w = world
    crashed = asyncio.Event()

    async def crash() -> None:
        crashed.set()
        await asyncio.sleep(3600)

    w.stock.on_reserve = crash
    task = asyncio.create_task(w.checkout())
    await crashed.wait()
    # The process dies: nothing of the checkout runs any more, no compensation either.
    w.saga.compensate = _no_compensation  # type: ignore[method-assign]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _attempt_state(w) is AttemptState.PENDING
    assert w.stock.levels == {"prod": 8}

    worker = await _recovery(w)
    assert await worker.recover_once() == 1
    assert await worker.recover_once() == 0

    assert await _attempt_state(w) is AttemptState.FAILED
    await _untouched(w)


async def _no_compensation(*_args: Any) -> None:
    return None


async def test_a_checkout_recovered_while_it_was_slow_writes_nothing(world: World) -> None:
    """The worker takes over an attempt whose checkout is still running: the checkout's
    DONE mark then matches nothing and its whole write rolls back."""
    w = world

    async def recovered_meanwhile() -> None:
        await asyncio.sleep(0.01)  # older than the worker's (tiny) limit
        await (await _recovery(w)).recover_once()

    w.stock.on_reserve = recovered_meanwhile
    with pytest.raises(CheckoutInterrupted):
        await w.checkout()
    assert await _attempt_state(w) is AttemptState.FAILED
    await _untouched(w)


async def test_ten_identical_checkouts_at_once_write_one_receipt_and_reserve_once(
    world: World,
) -> None:
    w = world
    results = await asyncio.gather(*(w.checkout() for _ in range(10)))
    assert len({r.id for r in results}) == 1
    assert len(w.stock.reserved()) == 1 and w.stock.levels == {"prod": 8}
    assert await _count(w.db, receipts, w.org) == 1
    assert await _count(w.db, checkout_attempts, w.org) == 1
    async with w.db.read(organization_id=w.org) as conn:
        card = await cards_repository.gift_card_by_code(conn, w.org, w.card_code)
    assert card.balance == Decimal("30.00")
