from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.schema.base import AUTHENTICATED, UserError, establishment_for, user_errors
from gateway.schema.catalog.types import Product
from gateway.schema.inventory.inputs import AdjustStockInput, TransferStockInput
from gateway.schema.tenancy.types import Establishment, load_establishments
from salon.inventory.v1 import inventory_pb2
from services.common.errors import DomainError, not_found
from services.common.scope import Right


@strawberry.type
class AdjustStockPayload:
    product: Product | None = None
    establishments: list[Establishment] = strawberry.field(
        default_factory=list, description="The establishment whose stock changed (R07)."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TransferStockPayload:
    from_: Product | None = strawberry.field(default=None, name="from")
    to: Product | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


async def _product(
    info: Info[Context, None], establishment_id: str, product_id: str, stock: int
) -> Product:
    msg = await info.context.loaders.product_by_key.load((establishment_id, product_id))
    if msg is None:
        raise not_found("product", "productId")
    return Product.of(msg, stock=stock)


@strawberry.type
class InventoryMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def adjust_stock(
        self, info: Info[Context, None], input: AdjustStockInput
    ) -> AdjustStockPayload:
        ctx = info.context
        try:
            est = await establishment_for(info, input.establishment_id, Right.MANAGE_OTHER_PRODUCTS)
            change = await ctx.call(
                "inventory",
                ctx.state.backends.inventory.AdjustStock,
                inventory_pb2.AdjustStockRequest(
                    product_id=str(input.product_id),
                    delta=input.delta,
                    reason=input.reason.to_proto(),
                    establishment_id=est,
                    idempotency_key=input.idempotency_key or "",
                ),
            )
            product = await _product(info, est, str(input.product_id), change.level.quantity)
        except DomainError as exc:
            return AdjustStockPayload(errors=user_errors(exc))
        return AdjustStockPayload(
            product=product, establishments=await load_establishments(info, [est])
        )

    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def transfer_stock(
        self, info: Info[Context, None], input: TransferStockInput
    ) -> TransferStockPayload:
        ctx = info.context
        try:
            to = await establishment_for(
                info, input.to_establishment_id, None, field="toEstablishmentId"
            )
            reply = await ctx.call(
                "inventory",
                ctx.state.backends.inventory.TransferStock,
                inventory_pb2.TransferStockRequest(
                    product_id=str(input.product_id),
                    to_establishment_id=to,
                    quantity=input.quantity,
                    idempotency_key=input.idempotency_key or "",
                ),
            )
            product_id = str(input.product_id)
            sender = getattr(reply, "from")  # a Python keyword as a proto field name
            sent = await _product(info, sender.establishment_id, product_id, sender.quantity)
            received = await _product(
                info, reply.to.establishment_id, product_id, reply.to.quantity
            )
        except DomainError as exc:
            return TransferStockPayload(errors=user_errors(exc))
        return TransferStockPayload(from_=sent, to=received)
