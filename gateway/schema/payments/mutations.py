"""The till's mutations. Each acts in the session establishment (R07, R28): none takes an
establishment argument, and each answer shows the establishment it changed."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.schema.base import AUTHENTICATED, UserError, user_errors
from gateway.schema.payments.inputs import (
    AssignTerminalInput,
    CheckoutInput,
    CheckoutPaymentInput,
    ConnectPaymentProviderInput,
    IssueGiftCardInput,
    SellSubscriptionInput,
)
from gateway.schema.payments.types import (
    GiftCard,
    GiftCardKind,
    PaymentMethod,
    PaymentProviderConnection,
    PaymentTerminal,
    PrepaidSubscription,
    Receipt,
)
from salon.payments.v1 import payments_pb2
from services.common.errors import DomainError, invalid
from services.common.money import format_amount, parse_amount

# Edge limits (the service checks its own): a clear INVALID before any call.
MAX_KEY = 100
MAX_CODE = 64
MAX_TEXT = 200
MAX_LINES = 100
MAX_PAYMENTS = 20


def _amount(value: str, field: str, *, allow_zero: bool = True) -> str:
    """An amount checked at the edge (Money scalar text): two decimals, not negative."""
    return format_amount(parse_amount(value, field, allow_zero=allow_zero))


def _text(value: str, field: str, *, limit: int = MAX_TEXT) -> str:
    text = value.strip()
    if not text:
        raise invalid(field, "must not be empty")
    if len(text) > limit:
        raise invalid(field, f"must be at most {limit} characters")
    return text


def _optional_id(value: strawberry.ID | None) -> str:
    return str(value) if value is not None else ""


@strawberry.type
class IssueGiftCardPayload:
    gift_card: GiftCard | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SellSubscriptionPayload:
    subscription: PrepaidSubscription | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CheckoutPayload:
    receipt: Receipt | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AssignTerminalPayload:
    terminal: PaymentTerminal | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ConnectPaymentProviderPayload:
    connection: PaymentProviderConnection | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _payment(number: int, payment: CheckoutPaymentInput) -> payments_pb2.CheckoutPayment:
    where = f"payment {number}"
    try:
        amount = _amount(payment.amount, "payments")
    except DomainError as exc:
        raise invalid("payments", f"{where}: amount {exc.message}") from None
    if payment.method is PaymentMethod.DEPOSIT:
        raise invalid("payments", f"{where}: deposits are applied by the till (applyDeposits)")
    code = (payment.gift_card_code or "").strip()
    if payment.method is PaymentMethod.GIFT_CARD and not code:
        raise invalid("payments", f"{where}: a gift card payment needs giftCardCode")
    if len(code) > MAX_CODE:
        raise invalid("payments", f"{where}: giftCardCode is too long")
    if payment.method is PaymentMethod.SUBSCRIPTION and not payment.subscription_id:
        raise invalid("payments", f"{where}: a subscription payment needs subscriptionId")
    return payments_pb2.CheckoutPayment(
        method=payment.method.to_proto(),
        amount=amount,
        gift_card_code=code,
        subscription_id=_optional_id(payment.subscription_id),
    )


def _checkout_request(input: CheckoutInput) -> payments_pb2.CheckoutRequest:
    key = _text(input.idempotency_key, "idempotencyKey", limit=MAX_KEY)
    if not input.lines:
        raise invalid("lines", "a checkout needs at least one line")
    if len(input.lines) > MAX_LINES:
        raise invalid("lines", f"at most {MAX_LINES} lines")
    if len(input.payments) > MAX_PAYMENTS:
        raise invalid("payments", f"at most {MAX_PAYMENTS} payments")
    lines = []
    for number, line in enumerate(input.lines, start=1):
        if (line.service_id is None) == (line.product_id is None):
            raise invalid("lines", f"line {number}: give either serviceId or productId")
        if line.quantity < 1:
            raise invalid("lines", f"line {number}: quantity must be at least 1")
        lines.append(
            payments_pb2.CheckoutLine(
                service_id=_optional_id(line.service_id),
                product_id=_optional_id(line.product_id),
                quantity=line.quantity,
            )
        )
    return payments_pb2.CheckoutRequest(
        client_id=_optional_id(input.client_id),
        appointment_id=_optional_id(input.appointment_id),
        lines=lines,
        payments=[_payment(n, p) for n, p in enumerate(input.payments, start=1)],
        apply_deposits=input.apply_deposits is not False,
        idempotency_key=key,
    )


@strawberry.type
class PaymentsMutation:
    @strawberry.mutation(
        permission_classes=AUTHENTICATED,
        description="R28: in the session establishment. The same idempotencyKey again "
        "answers the same receipt (charged once); with another request it is CONFLICT.",
    )
    async def checkout(self, info: Info[Context, None], input: CheckoutInput) -> CheckoutPayload:
        ctx = info.context
        try:
            request = _checkout_request(input)
            reply = await ctx.call("payments", ctx.state.backends.payments.Checkout, request)
        except DomainError as exc:
            return CheckoutPayload(errors=user_errors(exc))
        return CheckoutPayload(receipt=Receipt.of(reply))

    @strawberry.mutation(
        permission_classes=AUTHENTICATED,
        description="Sold in the session establishment, redeemable in every establishment "
        "of the organization; NUMBERED only there (R14).",
    )
    async def issue_gift_card(
        self, info: Info[Context, None], input: IssueGiftCardInput
    ) -> IssueGiftCardPayload:
        ctx = info.context
        try:
            amount = _amount(input.amount, "amount", allow_zero=False)
            code = (input.code or "").strip()
            if len(code) > MAX_CODE:
                raise invalid("code", f"must be at most {MAX_CODE} characters")
            key = (input.idempotency_key or "").strip()
            if len(key) > MAX_KEY:
                raise invalid("idempotencyKey", f"must be at most {MAX_KEY} characters")
            reply = await ctx.call(
                "payments",
                ctx.state.backends.payments.IssueGiftCard,
                payments_pb2.IssueGiftCardRequest(
                    amount=amount,
                    kind=(input.kind or GiftCardKind.GENERAL).to_proto(),
                    client_id=_optional_id(input.client_id),
                    code=code,
                    idempotency_key=key,
                ),
            )
        except DomainError as exc:
            return IssueGiftCardPayload(errors=user_errors(exc))
        return IssueGiftCardPayload(gift_card=GiftCard.of(reply))

    @strawberry.mutation(
        permission_classes=AUTHENTICATED,
        description="Sold in the session establishment, usable only there (R24).",
    )
    async def sell_subscription(
        self, info: Info[Context, None], input: SellSubscriptionInput
    ) -> SellSubscriptionPayload:
        ctx = info.context
        try:
            price = _amount(input.price, "price")
            name = _text(input.name, "name")
            if input.visits < 1:
                raise invalid("visits", "must be at least 1")
            reply = await ctx.call(
                "payments",
                ctx.state.backends.payments.SellSubscription,
                payments_pb2.SellSubscriptionRequest(
                    client_id=str(input.client_id),
                    name=name,
                    visits=input.visits,
                    price=price,
                    valid_until=input.valid_until.isoformat() if input.valid_until else "",
                ),
            )
        except DomainError as exc:
            return SellSubscriptionPayload(errors=user_errors(exc))
        return SellSubscriptionPayload(subscription=PrepaidSubscription.of(reply))

    @strawberry.mutation(
        permission_classes=AUTHENTICATED,
        description="To the session establishment; the same serial may be assigned to "
        "several establishments (R31).",
    )
    async def assign_payment_terminal(
        self, info: Info[Context, None], input: AssignTerminalInput
    ) -> AssignTerminalPayload:
        ctx = info.context
        try:
            reply = await ctx.call(
                "payments",
                ctx.state.backends.payments.AssignTerminal,
                payments_pb2.AssignTerminalRequest(
                    serial=_text(input.serial, "serial", limit=MAX_CODE),
                    name=_text(input.name, "name"),
                ),
            )
        except DomainError as exc:
            return AssignTerminalPayload(errors=user_errors(exc))
        return AssignTerminalPayload(terminal=PaymentTerminal.of(reply))

    @strawberry.mutation(
        permission_classes=AUTHENTICATED,
        description="The session establishment's online-payment account (R32). The key is "
        "checked with the provider, stored encrypted and never returned.",
    )
    async def connect_payment_provider(
        self, info: Info[Context, None], input: ConnectPaymentProviderInput
    ) -> ConnectPaymentProviderPayload:
        ctx = info.context
        try:
            reply = await ctx.call(
                "payments",
                ctx.state.backends.payments.ConnectProvider,
                payments_pb2.ConnectProviderRequest(
                    provider=_text(input.provider, "provider", limit=MAX_CODE).lower(),
                    account_id=_text(input.account_id, "accountId"),
                    # Never logged, never echoed: the service keeps it encrypted.
                    api_key=_text(input.api_key, "apiKey", limit=MAX_TEXT),
                ),
            )
        except DomainError as exc:
            return ConnectPaymentProviderPayload(errors=user_errors(exc))
        return ConnectPaymentProviderPayload(connection=PaymentProviderConnection.of(reply))
