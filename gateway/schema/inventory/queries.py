from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.schema.base import AUTHENTICATED, establishment_for_query
from gateway.schema.inventory.types import StockMovement
from salon.inventory.v1 import inventory_pb2
from services.common.scope import Right


@strawberry.type
class InventoryQuery:
    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="Newest first; another establishment needs MANAGE_OTHER_PRODUCTS (R05).",
    )
    async def stock_movements(
        self,
        info: Info[Context, None],
        product_id: strawberry.ID,
        establishment_id: strawberry.ID | None = None,
    ) -> list[StockMovement]:
        ctx = info.context
        est = await establishment_for_query(info, establishment_id, Right.MANAGE_OTHER_PRODUCTS)
        reply = await ctx.call(
            "inventory",
            ctx.state.backends.inventory.ListMovements,
            inventory_pb2.ListMovementsRequest(product_id=str(product_id), establishment_id=est),
        )
        return [StockMovement.of(m) for m in reply.movements]
