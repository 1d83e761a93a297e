from __future__ import annotations

from datetime import date

import strawberry

from gateway.schema.base import Money
from gateway.schema.payments.types import GiftCardKind, PaymentMethod


@strawberry.input(
    description="Sold in the session establishment (R14). Without a code one is generated; "
    "a code is unique in the organization."
)
class IssueGiftCardInput:
    amount: Money
    kind: GiftCardKind | None = GiftCardKind.GENERAL
    client_id: strawberry.ID | None = None
    code: str | None = None
    idempotency_key: str | None = strawberry.field(
        default=None, description="The same key twice issues one card."
    )


@strawberry.input(description="Sold in the session establishment, usable only there (R24).")
class SellSubscriptionInput:
    client_id: strawberry.ID
    name: str
    visits: int
    price: Money
    valid_until: date | None = None


@strawberry.input(description="Exactly one of serviceId and productId.")
class CheckoutLineInput:
    service_id: strawberry.ID | None = None
    product_id: strawberry.ID | None = None
    quantity: int = 1


@strawberry.input(
    description="GIFT_CARD needs giftCardCode, SUBSCRIPTION needs subscriptionId; DEPOSIT is "
    "not accepted (deposits are applied by the till, R17)."
)
class CheckoutPaymentInput:
    method: PaymentMethod
    amount: Money
    gift_card_code: str | None = None
    subscription_id: strawberry.ID | None = None


@strawberry.input(
    description="A checkout in the session establishment (R28): lines priced from its "
    "catalogue, products taken from its stock (R20)."
)
class CheckoutInput:
    client_id: strawberry.ID | None = None
    appointment_id: strawberry.ID | None = strawberry.field(
        default=None, description="The appointment paid: it is marked completed."
    )
    lines: list[CheckoutLineInput]
    payments: list[CheckoutPaymentInput]
    apply_deposits: bool | None = strawberry.field(
        default=True,
        description="Apply the client's paid deposits, whatever establishment they were "
        "paid for (R17).",
    )
    idempotency_key: str = strawberry.field(
        description="The same key twice = the same receipt, charged once."
    )


@strawberry.input(description="To the session establishment; a serial may serve several (R31).")
class AssignTerminalInput:
    serial: str
    name: str


@strawberry.input(
    description="The session establishment's account (R32); one account may be connected "
    "to several. The API key is checked with the provider and never shown again."
)
class ConnectPaymentProviderInput:
    provider: str = "mollie"
    account_id: str
    api_key: str
