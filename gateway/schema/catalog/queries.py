from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.schema.base import AUTHENTICATED, establishment_for_query, selects
from gateway.schema.catalog.types import Menu, Product, Service, prefetch_stock
from salon.catalog.v1 import catalog_pb2
from services.common.scope import Right


@strawberry.type
class CatalogQuery:
    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="Every service of the organization with the values of the establishment "
        "(default: the session's) (R11, R12).",
    )
    async def services(
        self, info: Info[Context, None], establishment_id: strawberry.ID | None = None
    ) -> list[Service]:
        ctx = info.context
        est = await establishment_for_query(info, establishment_id, None)
        reply = await ctx.call(
            "catalog",
            ctx.state.backends.catalog.ListServices,
            catalog_pb2.ListServicesRequest(establishment_id=est),
        )
        for msg in reply.services:
            ctx.loaders.service_by_key.prime((est, msg.id), msg)
        return [Service.of(msg) for msg in reply.services]

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="Products with the price and stock of the establishment; another "
        "establishment needs MANAGE_OTHER_PRODUCTS (R05, R13, R20).",
    )
    async def products(
        self, info: Info[Context, None], establishment_id: strawberry.ID | None = None
    ) -> list[Product]:
        ctx = info.context
        est = await establishment_for_query(info, establishment_id, Right.MANAGE_OTHER_PRODUCTS)
        reply = await ctx.call(
            "catalog",
            ctx.state.backends.catalog.ListProducts,
            catalog_pb2.ListProductsRequest(establishment_id=est),
        )
        products = [Product.of(msg) for msg in reply.products]
        if products and selects(info, "stock"):
            await prefetch_stock(info, products)
        return products

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="The session establishment's menus only (R25).",
    )
    async def menus(self, info: Info[Context, None]) -> list[Menu]:
        ctx = info.context
        reply = await ctx.call(
            "catalog", ctx.state.backends.catalog.ListMenus, catalog_pb2.ListMenusRequest()
        )
        return [Menu.of(msg) for msg in reply.menus]
