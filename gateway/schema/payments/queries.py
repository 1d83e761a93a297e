from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.errors import Invalid, NotFound
from gateway.schema.base import AUTHENTICATED, establishment_for_query, selects
from gateway.schema.payments.types import (
    GiftCard,
    PaymentProviderConnection,
    PaymentTerminal,
    Receipt,
    prefetch_receipts,
)
from salon.payments.v1 import payments_pb2
from services.common.errors import DomainError, ErrorCode
from services.common.scope import Right

MAX_CODE = 64


def top_level(exc: DomainError) -> Exception:
    """A query's DomainError as the top-level error the contract names."""
    if exc.code is ErrorCode.NOT_FOUND:
        return NotFound(exc.message)
    return Invalid(f"{exc.field}: {exc.message}" if exc.field else exc.message)


@strawberry.type
class PaymentsQuery:
    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="The till history of one day, the establishment's local date (default: "
        "the session's); another establishment needs SWITCH_REPORTS (R06, R28).",
    )
    async def receipts(
        self, info: Info[Context, None], date: date, establishment_id: strawberry.ID | None = None
    ) -> list[Receipt]:
        ctx = info.context
        est = await establishment_for_query(info, establishment_id, Right.SWITCH_REPORTS)
        try:
            reply = await ctx.call(
                "payments",
                ctx.state.backends.payments.ListReceipts,
                payments_pb2.ListReceiptsRequest(date=date.isoformat(), establishment_id=est),
            )
        except DomainError as exc:
            raise top_level(exc) from None
        receipts = [Receipt.of(r) for r in reply.receipts]
        if any(selects(info, name) for name in ("establishment", "client", "appointment")):
            await prefetch_receipts(info, receipts)
        return receipts

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="null for an unknown code and for another organization's alike (R01).",
    )
    async def gift_card(self, info: Info[Context, None], code: str) -> GiftCard | None:
        ctx = info.context
        code = code.strip()
        if not code or len(code) > MAX_CODE:
            return None
        try:
            reply = await ctx.call(
                "payments",
                ctx.state.backends.payments.GetGiftCardByCode,
                payments_pb2.GetGiftCardByCodeRequest(code=code),
            )
        except DomainError as exc:
            if exc.code is ErrorCode.NOT_FOUND:
                return None
            raise top_level(exc) from None
        return GiftCard.of(reply)

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="The terminals of the session establishment (R31).",
    )
    async def payment_terminals(self, info: Info[Context, None]) -> list[PaymentTerminal]:
        ctx = info.context
        reply = await ctx.call(
            "payments",
            ctx.state.backends.payments.ListTerminals,
            payments_pb2.ListTerminalsRequest(),
        )
        return [PaymentTerminal.of(t) for t in reply.terminals]

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="The session establishment's connection, null when it has none (R32).",
    )
    async def payment_provider(self, info: Info[Context, None]) -> PaymentProviderConnection | None:
        ctx = info.context
        reply = await ctx.call(
            "payments",
            ctx.state.backends.payments.GetProviderConnection,
            payments_pb2.GetProviderConnectionRequest(),
        )
        return PaymentProviderConnection.of(reply) if reply.connected else None
