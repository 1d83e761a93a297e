"""What the till's service tests share: a shop of real services (the catalogue and
inventory on their own SQLite files, payments on the database under test, a real NATS),
an organization with establishments A and B, a service priced differently in each, a
product with stock in each, and small helpers around the RPCs."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import grpc
import nats
import pytest
from sqlalchemy import func, select

from salon.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from salon.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from salon.payments.v1 import payments_pb2, payments_pb2_grpc
from salon.tenancy.v1 import events_pb2 as tenancy_events
from services.catalog.service import SPEC as CATALOG
from services.common.db import Database, new_id, utcnow
from services.common.errors import DomainError, from_rpc_error
from services.common.events import Event
from services.common.runtime import ServiceSpec
from services.common.scope import Right, Role
from services.common.tenancy_replica import ESTABLISHMENT_CREATED
from services.inventory.service import SPEC as INVENTORY
from services.payments.service import SPEC as PAYMENTS
from tests.support.services import Metadata, Services, metadata, running

T = TypeVar("T")

Line = tuple[str, str, int]  # service id, product id, quantity
Pay = tuple[int, str, str, str]  # method, amount, gift card code, subscription id

CASH = payments_pb2.PAYMENT_METHOD_CASH
CARD = payments_pb2.PAYMENT_METHOD_CARD
GIFT_CARD = payments_pb2.PAYMENT_METHOD_GIFT_CARD
SUBSCRIPTION = payments_pb2.PAYMENT_METHOD_SUBSCRIPTION
DEPOSIT = payments_pb2.PAYMENT_METHOD_DEPOSIT


def new_key() -> str:
    return secrets.token_hex(16)


@dataclass
class Shop:
    services: Services
    payments_db: Database
    nats_url: str

    @property
    def payments(self) -> payments_pb2_grpc.PaymentsServiceStub:
        return payments_pb2_grpc.PaymentsServiceStub(self.services.channel("payments"))

    @property
    def catalog(self) -> catalog_pb2_grpc.CatalogServiceStub:
        return catalog_pb2_grpc.CatalogServiceStub(self.services.channel("catalog"))

    @property
    def inventory(self) -> inventory_pb2_grpc.InventoryServiceStub:
        return inventory_pb2_grpc.InventoryServiceStub(self.services.channel("inventory"))

    async def count(self, table: Any, org: str) -> int:
        async with self.payments_db.read(organization_id=org) as conn:
            return int(
                (
                    await conn.execute(
                        select(func.count())
                        .select_from(table)
                        .where(table.c.organization_id == org)
                    )
                ).scalar_one()
            )


@asynccontextmanager
async def open_shop(
    database_url: str,
    nats_url: str,
    tmp_path: Path,
    *,
    before: dict[str, ServiceSpec] | None = None,
    payments_extra: dict[str, Any] | None = None,
) -> AsyncIterator[Shop]:
    """The catalogue, inventory (and `before`, e.g. clients and booking), then payments."""
    specs = {"catalog": CATALOG, "inventory": INVENTORY, **(before or {}), "payments": PAYMENTS}
    databases = {
        name: f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}"
        for name in specs
        if name != "payments"
    }
    databases["payments"] = database_url
    db = Database(database_url)
    try:
        async with running(
            nats_url, databases, specs, {"payments": payments_extra or {}}
        ) as services:
            yield Shop(services, db, nats_url)
    finally:
        await db.dispose()


def md(
    org: str,
    est: str,
    *rights: Right,
    role: Role = Role.STAFF,
    user: str = "u-till",
    establishments: Iterable[str] = (),
) -> Metadata:
    return metadata(
        org,
        est,
        user_id=user,
        role=role,
        rights=rights,
        verified_establishments=establishments,
    )


async def error(call: Awaitable[Any]) -> DomainError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    found = from_rpc_error(caught.value)
    assert found is not None, caught.value
    return found


async def eventually(check: Callable[[], Awaitable[T]], timeout: float = 15.0) -> T:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await check()
        except (AssertionError, grpc.aio.AioRpcError):
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)


async def publish_establishment(nats_url: str, org: str, est: str) -> None:
    """What the gateway publishes when an establishment is created."""
    event = Event(
        id=new_id(),
        type=ESTABLISHMENT_CREATED.name,
        source="/salon/tenancy",
        time=utcnow(),
        organization_id=org,
        establishment_id=est,
        actor_id=None,
        subject=ESTABLISHMENT_CREATED.subject(org, est),
        data=tenancy_events.EstablishmentCreated(
            organization_id=org, establishment_id=est, name="Branch", timezone="Europe/Brussels"
        ).SerializeToString(),
    )
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish(event.subject, event.data, headers=event.headers())
    finally:
        await nc.close()


@dataclass
class Salon:
    """An organization with establishments A and B: the service `cut` (40.00 in A, 45.00
    in B), the service `cheap` (10.00 everywhere) and the product `shampoo` (12.50) with
    10 in stock in each."""

    org: str
    a: str
    b: str
    cut: str
    cheap: str
    shampoo: str

    def in_a(self, *rights: Right, role: Role = Role.STAFF, user: str = "u-till") -> Metadata:
        return md(self.org, self.a, *rights, role=role, user=user)

    def in_b(self, *rights: Right, role: Role = Role.STAFF, user: str = "u-till") -> Metadata:
        return md(self.org, self.b, *rights, role=role, user=user)


async def salon(shop: Shop) -> Salon:
    org, a, b = new_key(), new_key(), new_key()
    for est in (a, b):
        await publish_establishment(shop.nats_url, org, est)
    for est in (a, b):
        # Known to the catalogue once it answers for it from another establishment.
        await eventually(
            lambda est=est: shop.catalog.ListServices(  # type: ignore[misc]
                catalog_pb2.ListServicesRequest(establishment_id=est),
                metadata=md(org, new_key(), role=Role.OWNER),
                timeout=5,
            )
        )
    owner_a = md(org, a, role=Role.OWNER)
    cut = await shop.catalog.CreateService(
        catalog_pb2.CreateServiceRequest(
            name="Cut", category="Hair", price="40", duration_minutes=30
        ),
        metadata=owner_a,
        timeout=5,
    )
    cheap = await shop.catalog.CreateService(
        catalog_pb2.CreateServiceRequest(
            name="Fringe", category="Hair", price="10", duration_minutes=10
        ),
        metadata=owner_a,
        timeout=5,
    )
    assert set(cut.establishment_ids) == {a, b}
    await shop.catalog.UpdateService(
        catalog_pb2.UpdateServiceRequest(id=cut.service.id, price="45"),
        metadata=md(org, b, role=Role.OWNER),
        timeout=5,
    )
    shampoo = await shop.catalog.CreateProduct(
        catalog_pb2.CreateProductRequest(name="Shampoo", brand="Salon", price="12.50"),
        metadata=owner_a,
        timeout=5,
    )
    for est in (a, b):
        await shop.inventory.AdjustStock(
            inventory_pb2.AdjustStockRequest(
                product_id=shampoo.id,
                delta=10,
                reason=inventory_pb2.STOCK_REASON_DELIVERY,
                idempotency_key=new_key(),
            ),
            metadata=md(org, est, role=Role.MANAGER),
            timeout=5,
        )
    return Salon(org, a, b, cut.service.id, cheap.service.id, shampoo.id)


def checkout_request(
    lines: Sequence[Line],
    payments: Sequence[Pay],
    key: str = "",
    *,
    client: str = "",
    appointment: str = "",
    deposits: bool = False,
) -> payments_pb2.CheckoutRequest:
    return payments_pb2.CheckoutRequest(
        client_id=client,
        appointment_id=appointment,
        lines=[
            payments_pb2.CheckoutLine(service_id=s, product_id=p, quantity=q) for s, p, q in lines
        ],
        payments=[
            payments_pb2.CheckoutPayment(
                method=m, amount=amount, gift_card_code=code, subscription_id=sub
            )
            for m, amount, code, sub in payments
        ],
        apply_deposits=deposits,
        idempotency_key=key or new_key(),
    )


async def checkout(
    shop: Shop,
    meta: Metadata,
    lines: Sequence[Line],
    payments: Sequence[Pay],
    key: str = "",
    **extra: Any,
) -> payments_pb2.Receipt:
    return await shop.payments.Checkout(
        checkout_request(lines, payments, key, **extra), metadata=meta, timeout=10
    )


async def stock(shop: Shop, meta: Metadata, product: str) -> int:
    reply = await shop.inventory.GetStock(
        inventory_pb2.GetStockRequest(product_ids=[product]), metadata=meta, timeout=5
    )
    return sum(level.quantity for level in reply.levels if level.product_id == product)


async def till_history(
    shop: Shop, meta: Metadata, day: str, establishment: str = ""
) -> list[payments_pb2.Receipt]:
    reply = await shop.payments.ListReceipts(
        payments_pb2.ListReceiptsRequest(date=day, establishment_id=establishment),
        metadata=meta,
        timeout=5,
    )
    return list(reply.receipts)


async def issue(
    shop: Shop,
    meta: Metadata,
    amount: str,
    kind: int = payments_pb2.GIFT_CARD_KIND_GENERAL,
    *,
    client: str = "",
    code: str = "",
    key: str = "",
) -> payments_pb2.GiftCard:
    return await shop.payments.IssueGiftCard(
        payments_pb2.IssueGiftCardRequest(
            amount=amount, kind=kind, client_id=client, code=code, idempotency_key=key
        ),
        metadata=meta,
        timeout=5,
    )


async def card_by_code(shop: Shop, meta: Metadata, code: str) -> payments_pb2.GiftCard:
    return await shop.payments.GetGiftCardByCode(
        payments_pb2.GetGiftCardByCodeRequest(code=code), metadata=meta, timeout=5
    )


async def sell(
    shop: Shop,
    meta: Metadata,
    client: str,
    visits: int = 5,
    price: str = "150",
    valid_until: str = "",
    name: str = "Five cuts",
) -> payments_pb2.PrepaidSubscription:
    return await shop.payments.SellSubscription(
        payments_pb2.SellSubscriptionRequest(
            client_id=client, name=name, visits=visits, price=price, valid_until=valid_until
        ),
        metadata=meta,
        timeout=5,
    )


async def subscriptions_of(
    shop: Shop, meta: Metadata, client: str
) -> list[payments_pb2.PrepaidSubscription]:
    reply = await shop.payments.ListClientSubscriptions(
        payments_pb2.ListClientSubscriptionsRequest(client_id=client), metadata=meta, timeout=5
    )
    return list(reply.subscriptions)


class Events:
    """Every event of one organization published while the block runs."""

    def __init__(self, nats_url: str, org: str) -> None:
        self.nats_url, self.org = nats_url, org
        self.received: list[Event] = []

    async def __aenter__(self) -> Events:
        self.nc = await nats.connect(self.nats_url)

        async def collect(msg: Any) -> None:
            self.received.append(Event.from_message(msg.subject, msg.headers, msg.data))

        self.sub = await self.nc.subscribe(f"salon.{self.org}.>", cb=collect)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.sub.unsubscribe()
        await self.nc.close()

    async def wait_for(self, count: int, kind: str, timeout: float = 10.0) -> list[Event]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = [e for e in self.received if e.type == kind]
            if len(found) >= count or asyncio.get_running_loop().time() > deadline:
                return found
            await asyncio.sleep(0.05)
