"""Service, Product and Menu with the values of one establishment (R11-R13, R25, B10)."""

from __future__ import annotations

from collections.abc import Awaitable

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.schema.base import Money
from gateway.schema.tenancy.types import Establishment, load_establishment
from salon.catalog.v1 import catalog_pb2

# The proto's snake_case names of overridable settings, as the schema spells them.
SETTING_NAMES = {
    "price": "price",
    "duration_minutes": "durationMinutes",
    "description": "description",
    "bookable_online": "bookableOnline",
}


@strawberry.type(description="A shared service with the values of one establishment (R12).")
class Service:
    id: strawberry.ID
    name: str
    category: str | None
    price: Money
    duration_minutes: int
    description: str | None
    bookable_online: bool
    customized_fields: list[str] = strawberry.field(
        description="Settings this establishment overrides; the others are the "
        "organization's values (B10). resetServiceSettings brings them back."
    )
    deleted: bool = strawberry.field(description="Deleted, restorable for 30 days (B05).")
    establishment_id: strawberry.Private[str]

    @classmethod
    def of(cls, msg: catalog_pb2.Service) -> Service:
        return cls(
            id=strawberry.ID(msg.id),
            name=msg.name,
            category=msg.category or None,
            price=msg.price,
            duration_minutes=msg.duration_minutes,
            description=msg.description or None,
            bookable_online=msg.bookable_online,
            customized_fields=[SETTING_NAMES.get(f, f) for f in msg.customized_fields],
            deleted=msg.HasField("deleted_at"),
            establishment_id=msg.establishment_id,
        )

    @strawberry.field(description="Whose values these are.")
    async def establishment(self, info: Info[Context, None]) -> Establishment:
        est = await load_establishment(info, self.establishment_id)
        assert est is not None
        return est


@strawberry.type(description="A shared product with the price and stock of one establishment.")
class Product:
    id: strawberry.ID
    name: str
    brand: str | None
    barcode: str | None
    price: Money
    price_customized: bool = strawberry.field(
        description="This establishment's price differs from the organization's."
    )
    establishment_id: strawberry.Private[str]
    prefetched_stock: strawberry.Private[int | None] = None

    @classmethod
    def of(cls, msg: catalog_pb2.Product, stock: int | None = None) -> Product:
        return cls(
            id=strawberry.ID(msg.id),
            name=msg.name,
            brand=msg.brand or None,
            barcode=msg.barcode or None,
            price=msg.price,
            price_customized=msg.price_customized,
            establishment_id=msg.establishment_id,
            prefetched_stock=stock,
        )

    @strawberry.field(description="Stock in this establishment (R20).", graphql_type=int)
    def stock(self, info: Info[Context, None]) -> int | Awaitable[int]:
        # Sync when the list prefetched it: one GetStock call per list, whatever its length.
        if self.prefetched_stock is not None:
            return self.prefetched_stock
        return info.context.loaders.stock_by_key.load((self.establishment_id, str(self.id)))

    @strawberry.field
    async def establishment(self, info: Info[Context, None]) -> Establishment:
        est = await load_establishment(info, self.establishment_id)
        assert est is not None
        return est


async def prefetch_stock(info: Info[Context, None], products: list[Product]) -> None:
    levels = await info.context.loaders.stock_by_key.load_many(
        [(p.establishment_id, str(p.id)) for p in products]
    )
    for product, level in zip(products, levels, strict=True):
        product.prefetched_stock = level


@strawberry.type(
    description="A named group of services with its own price, per establishment (R25)."
)
class Menu:
    id: strawberry.ID
    name: str
    price: Money
    service_ids: strawberry.Private[list[str]]
    establishment_id: strawberry.Private[str]

    @classmethod
    def of(cls, msg: catalog_pb2.Menu) -> Menu:
        return cls(
            id=strawberry.ID(msg.id),
            name=msg.name,
            price=msg.price,
            service_ids=list(msg.service_ids),
            establishment_id=msg.establishment_id,
        )

    @strawberry.field(description="With the values of the menu's establishment.")
    async def services(self, info: Info[Context, None]) -> list[Service]:
        rows = await info.context.loaders.service_by_key.load_many(
            [(self.establishment_id, sid) for sid in self.service_ids]
        )
        return [Service.of(r) for r in rows if r is not None]

    @strawberry.field
    async def establishment(self, info: Info[Context, None]) -> Establishment:
        est = await load_establishment(info, self.establishment_id)
        assert est is not None
        return est
