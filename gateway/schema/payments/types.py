"""The till: deposits (R17), receipts (R28), gift cards (R14), prepaid subscriptions (R24),
terminals (R31), the payment provider connection (R32), reports (R27, B03) and settlements
between establishments (B08)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.schema.base import Money, selects
from gateway.schema.tenancy.types import Establishment, load_establishment
from salon.payments.v1 import payments_pb2

if TYPE_CHECKING:
    from gateway.schema.booking.types import Appointment
    from gateway.schema.clients.types import Client


def _utc(ts: object) -> datetime:
    return ts.ToDatetime(tzinfo=UTC)  # type: ignore[attr-defined, no-any-return]


async def _establishment(info: Info[Context, None], establishment_id: str) -> Establishment:
    est = await load_establishment(info, establishment_id)
    assert est is not None, "an establishment of the organization"
    return est


@strawberry.enum
class DepositStatus(Enum):
    PAID = "PAID"
    APPLIED = "APPLIED"
    REFUNDED = "REFUNDED"
    PENDING = strawberry.enum_value("PENDING", description="Waiting for the provider (R32).")
    FAILED = strawberry.enum_value(
        "FAILED", description="The provider reported the payment failed, expired or cancelled."
    )

    @classmethod
    def of(cls, value: int) -> DepositStatus:
        return cls(payments_pb2.DepositStatus.Name(value).removeprefix("DEPOSIT_STATUS_"))  # type: ignore[arg-type]


@strawberry.type
class Deposit:
    id: strawberry.ID
    amount: Money
    status: DepositStatus
    checkout_url: str | None = strawberry.field(
        description="Where the client pays it while PENDING (provider connected, R32)."
    )
    appointment_id: strawberry.Private[str]
    establishment_id: strawberry.Private[str]

    @classmethod
    def of(cls, msg: payments_pb2.Deposit) -> Deposit:
        return cls(
            id=strawberry.ID(msg.id),
            amount=Money(msg.amount),
            status=DepositStatus.of(msg.status),
            checkout_url=msg.checkout_url or None,
            appointment_id=msg.appointment_id,
            establishment_id=msg.establishment_id,
        )

    @strawberry.field
    async def appointment(
        self, info: Info[Context, None]
    ) -> Annotated[Appointment, strawberry.lazy("gateway.schema.booking.types")]:
        from gateway.schema.booking.types import Appointment as AppointmentType

        msg = await info.context.loaders.appointment_by_id.load(self.appointment_id)
        assert msg is not None
        return AppointmentType.of(msg)

    @strawberry.field(description="The appointment's establishment (R17).")
    async def establishment(self, info: Info[Context, None]) -> Establishment:
        return await _establishment(info, self.establishment_id)


@strawberry.enum
class PaymentMethod(Enum):
    CASH = "CASH"
    CARD = "CARD"
    GIFT_CARD = "GIFT_CARD"
    SUBSCRIPTION = "SUBSCRIPTION"
    DEPOSIT = strawberry.enum_value(
        "DEPOSIT", description="Only on receipts: deposits are applied by the till (R17)."
    )
    ONLINE = "ONLINE"

    def to_proto(self) -> payments_pb2.PaymentMethod.ValueType:
        return payments_pb2.PaymentMethod.Value(f"PAYMENT_METHOD_{self.value}")

    @classmethod
    def of(cls, value: int) -> PaymentMethod:
        return cls(payments_pb2.PaymentMethod.Name(value).removeprefix("PAYMENT_METHOD_"))  # type: ignore[arg-type]


@strawberry.enum
class GiftCardKind(Enum):
    GENERAL = "GENERAL"
    DIGITAL = "DIGITAL"
    NUMBERED = strawberry.enum_value(
        "NUMBERED", description="Redeemable only in the establishment that issued it (R14)."
    )

    def to_proto(self) -> payments_pb2.GiftCardKind.ValueType:
        return payments_pb2.GiftCardKind.Value(f"GIFT_CARD_KIND_{self.value}")

    @classmethod
    def of(cls, value: int) -> GiftCardKind:
        return cls(payments_pb2.GiftCardKind.Name(value).removeprefix("GIFT_CARD_KIND_"))  # type: ignore[arg-type]


@strawberry.type(
    description="Sold in one establishment, redeemable in every establishment of the "
    "organization; NUMBERED ones only where they were issued (R14)."
)
class GiftCard:
    id: strawberry.ID
    code: str
    kind: GiftCardKind
    balance: Money
    initial_amount: Money
    establishment_id: strawberry.Private[str]

    @classmethod
    def of(cls, msg: payments_pb2.GiftCard) -> GiftCard:
        return cls(
            id=strawberry.ID(msg.id),
            code=msg.code,
            kind=GiftCardKind.of(msg.kind),
            balance=Money(msg.balance),
            initial_amount=Money(msg.initial_amount),
            establishment_id=msg.establishment_id,
        )

    @strawberry.field(description="The establishment that sold it.")
    async def issued_at(self, info: Info[Context, None]) -> Establishment:
        return await _establishment(info, self.establishment_id)


def _date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


@strawberry.type(
    description="A prepaid series of visits, usable only in the establishment that sold it (R24)."
)
class PrepaidSubscription:
    id: strawberry.ID
    name: str
    visits: int
    visits_left: int
    valid_until: date | None
    price: Money
    establishment_id: strawberry.Private[str]

    @classmethod
    def of(cls, msg: payments_pb2.PrepaidSubscription) -> PrepaidSubscription:
        return cls(
            id=strawberry.ID(msg.id),
            name=msg.name,
            visits=msg.visits,
            visits_left=msg.visits_left,
            valid_until=_date(msg.valid_until),
            price=Money(msg.price),
            establishment_id=msg.establishment_id,
        )

    @strawberry.field
    async def establishment(self, info: Info[Context, None]) -> Establishment:
        return await _establishment(info, self.establishment_id)


@strawberry.type
class ReceiptLine:
    description: str
    quantity: int
    unit_price: Money
    total: Money
    service_id: strawberry.ID | None
    product_id: strawberry.ID | None

    @classmethod
    def of(cls, msg: payments_pb2.ReceiptLine) -> ReceiptLine:
        item = strawberry.ID(msg.item_id) if msg.item_id else None
        return cls(
            description=msg.description,
            quantity=msg.quantity,
            unit_price=Money(msg.unit_price),
            total=Money(msg.total),
            service_id=item if msg.kind == payments_pb2.LINE_KIND_SERVICE else None,
            product_id=item if msg.kind == payments_pb2.LINE_KIND_PRODUCT else None,
        )


@strawberry.type
class Payment:
    method: PaymentMethod
    amount: Money

    @classmethod
    def of(cls, msg: payments_pb2.Payment) -> Payment:
        return cls(method=PaymentMethod.of(msg.method), amount=Money(msg.amount))


@strawberry.type(description="A checkout in one establishment (R28).")
class Receipt:
    id: strawberry.ID
    number: str = strawberry.field(description="Sequential per establishment, without gaps.")
    total: Money
    lines: list[ReceiptLine]
    deposits_applied: list[Deposit] = strawberry.field(
        description="Whatever establishment the deposit was paid for (R17)."
    )
    payments: list[Payment] = strawberry.field(
        description="One DEPOSIT payment per deposit applied, then what was paid at the till."
    )
    created_at: datetime
    establishment_id: strawberry.Private[str]
    client_id: strawberry.Private[str]
    appointment_id: strawberry.Private[str]
    # Filled by a list resolver that fetched the relations of a whole day at once, so the
    # fields below resolve without an await each (see prefetch_receipts).
    prefetched: strawberry.Private[dict[str, Any] | None] = None

    @classmethod
    def of(cls, msg: payments_pb2.Receipt) -> Receipt:
        return cls(
            id=strawberry.ID(msg.id),
            number=msg.number,
            total=Money(msg.total),
            lines=[ReceiptLine.of(line) for line in msg.lines],
            deposits_applied=[Deposit.of(d) for d in msg.deposits_applied],
            payments=[Payment.of(p) for p in msg.payments],
            created_at=_utc(msg.created_at),
            establishment_id=msg.establishment_id,
            client_id=msg.client_id,
            appointment_id=msg.appointment_id,
        )

    def _pre(self, name: str) -> tuple[bool, Any]:
        if self.prefetched is not None and name in self.prefetched:
            return True, self.prefetched[name]
        return False, None

    @strawberry.field(graphql_type=Establishment)
    def establishment(self, info: Info[Context, None]) -> Establishment | Awaitable[Establishment]:
        found, value = self._pre("establishment")
        return value if found else _establishment(info, self.establishment_id)

    @strawberry.field(
        graphql_type=Annotated["Client", strawberry.lazy("gateway.schema.clients.types")] | None
    )
    def client(self, info: Info[Context, None]) -> Client | Awaitable[Client | None] | None:
        found, value = self._pre("client")
        return value if found else self._client(info)

    async def _client(self, info: Info[Context, None]) -> Client | None:
        from gateway.schema.clients.types import Client as ClientType

        if not self.client_id:
            return None
        msg = await info.context.loaders.client_by_id.load(self.client_id)
        return ClientType.of(msg) if msg is not None else None

    @strawberry.field(
        description="The appointment paid; the checkout completes it.",
        graphql_type=Annotated["Appointment", strawberry.lazy("gateway.schema.booking.types")]
        | None,
    )
    def appointment(
        self, info: Info[Context, None]
    ) -> Appointment | Awaitable[Appointment | None] | None:
        found, value = self._pre("appointment")
        return value if found else self._appointment(info)

    async def _appointment(self, info: Info[Context, None]) -> Appointment | None:
        from gateway.schema.booking.types import Appointment as AppointmentType

        if not self.appointment_id:
            return None
        msg = await info.context.loaders.appointment_by_id.load(self.appointment_id)
        return AppointmentType.of(msg) if msg is not None else None


async def prefetch_receipts(info: Info[Context, None], receipts: list[Receipt]) -> None:
    """The selected relations of a list of receipts, fetched together: one batched call per
    service, in parallel; the fields then resolve synchronously."""
    if not receipts:
        return
    from gateway.schema.booking.types import Appointment as AppointmentType
    from gateway.schema.clients.types import Client as ClientType

    loaders = info.context.loaders
    jobs: dict[str, Awaitable[list[Any]]] = {}
    if selects(info, "establishment"):
        jobs["establishment"] = loaders.establishment_by_id.load_many(
            [r.establishment_id for r in receipts]
        )
    with_client = [r for r in receipts if r.client_id]
    if selects(info, "client") and with_client:
        jobs["client"] = loaders.client_by_id.load_many([r.client_id for r in with_client])
    with_appointment = [r for r in receipts if r.appointment_id]
    if selects(info, "appointment") and with_appointment:
        jobs["appointment"] = loaders.appointment_by_id.load_many(
            [r.appointment_id for r in with_appointment]
        )
    results = dict(zip(jobs, await asyncio.gather(*jobs.values()), strict=True))
    found: dict[str, dict[str, Any]] = {str(r.id): {} for r in receipts}
    for receipt, row in zip(receipts, results.get("establishment", []), strict=False):
        if row is not None:  # a missing one falls back to the loader (and its assertion)
            found[str(receipt.id)]["establishment"] = Establishment.of(row)
    if selects(info, "client"):
        clients = dict(
            zip((r.client_id for r in with_client), results.get("client", []), strict=True)
        )
        for receipt in receipts:
            msg = clients.get(receipt.client_id)
            found[str(receipt.id)]["client"] = ClientType.of(msg) if msg is not None else None
    if selects(info, "appointment"):
        appointments = dict(
            zip(
                (r.appointment_id for r in with_appointment),
                results.get("appointment", []),
                strict=True,
            )
        )
        for receipt in receipts:
            msg = appointments.get(receipt.appointment_id)
            found[str(receipt.id)]["appointment"] = (
                AppointmentType.of(msg) if msg is not None else None
            )
    for receipt in receipts:
        receipt.prefetched = found[str(receipt.id)]


@strawberry.type(description="A card terminal of the session establishment (R31).")
class PaymentTerminal:
    id: strawberry.ID
    serial: str
    name: str
    establishment_id: strawberry.Private[str]

    @classmethod
    def of(cls, msg: payments_pb2.Terminal) -> PaymentTerminal:
        return cls(
            id=strawberry.ID(msg.id),
            serial=msg.serial,
            name=msg.name,
            establishment_id=msg.establishment_id,
        )

    @strawberry.field(description="Where it is assigned (R07).")
    async def establishment(self, info: Info[Context, None]) -> Establishment:
        return await _establishment(info, self.establishment_id)


@strawberry.type(
    description="The online-payment account of the session establishment (R32); the API "
    "key is never shown."
)
class PaymentProviderConnection:
    provider: str
    account_id: str
    connected_at: datetime | None
    establishment_id: strawberry.Private[str]

    @classmethod
    def of(cls, msg: payments_pb2.ProviderConnection) -> PaymentProviderConnection:
        return cls(
            provider=msg.provider,
            account_id=msg.account_id,
            connected_at=_utc(msg.connected_at) if msg.HasField("connected_at") else None,
            establishment_id=msg.establishment_id,
        )

    @strawberry.field(description="Where it is connected (R07).")
    async def establishment(self, info: Info[Context, None]) -> Establishment:
        return await _establishment(info, self.establishment_id)
