"""Stock movements (R20, B02)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.schema.catalog.types import Product
from gateway.schema.tenancy.types import Establishment, load_establishment
from salon.inventory.v1 import inventory_pb2


@strawberry.enum
class StockReason(Enum):
    DELIVERY = "DELIVERY"
    CORRECTION = "CORRECTION"
    SALE = "SALE"
    TRANSFER_IN = "TRANSFER_IN"
    TRANSFER_OUT = "TRANSFER_OUT"

    def to_proto(self) -> inventory_pb2.StockReason.ValueType:
        return inventory_pb2.StockReason.Value(f"STOCK_REASON_{self.value}")

    @classmethod
    def of(cls, value: int) -> StockReason:
        return cls(inventory_pb2.StockReason.Name(value).removeprefix("STOCK_REASON_"))  # type: ignore[arg-type]


@strawberry.type(description="Every change of stock, with its reason, user and time (R20).")
class StockMovement:
    id: strawberry.ID
    delta: int
    reason: StockReason
    at: datetime
    transfer_id: strawberry.ID | None = strawberry.field(
        description="Both movements of a transfer share it (B02)."
    )
    product_id: strawberry.Private[str]
    establishment_id: strawberry.Private[str]

    @classmethod
    def of(cls, msg: inventory_pb2.StockMovement) -> StockMovement:
        return cls(
            id=strawberry.ID(msg.id),
            delta=msg.delta,
            reason=StockReason.of(msg.reason),
            at=msg.at.ToDatetime(tzinfo=UTC),
            transfer_id=strawberry.ID(msg.transfer_id) if msg.transfer_id else None,
            product_id=msg.product_id,
            establishment_id=msg.establishment_id,
        )

    @strawberry.field
    async def product(self, info: Info[Context, None]) -> Product:
        msg = await info.context.loaders.product_by_key.load(
            (self.establishment_id, self.product_id)
        )
        assert msg is not None
        return Product.of(msg)

    @strawberry.field
    async def establishment(self, info: Info[Context, None]) -> Establishment:
        est = await load_establishment(info, self.establishment_id)
        assert est is not None
        return est
