from __future__ import annotations

import strawberry

from gateway.schema.inventory.types import StockReason


@strawberry.input(
    description="Another establishment needs MANAGE_OTHER_PRODUCTS (R05). The "
    "same idempotencyKey in the same establishment counts once."
)
class AdjustStockInput:
    product_id: strawberry.ID
    delta: int
    reason: StockReason
    establishment_id: strawberry.ID | None = None
    idempotency_key: str | None = None


@strawberry.input(
    description="From the session establishment to another one of the "
    "organization: both sides or neither (B02)."
)
class TransferStockInput:
    product_id: strawberry.ID
    to_establishment_id: strawberry.ID
    quantity: int
    idempotency_key: str | None = None
