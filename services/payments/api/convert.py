"""Domain objects to protobuf messages (and the enums back), for the RPCs and the events."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from salon.payments.v1 import payments_pb2
from services.common.money import format_amount
from services.payments.domain import model
from services.payments.domain.cards import GiftCard, Subscription
from services.payments.domain.checkout import Receipt


def ts(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def status_to_proto(status: model.DepositStatus) -> payments_pb2.DepositStatus.ValueType:
    return payments_pb2.DepositStatus.Value(f"DEPOSIT_STATUS_{status.value}")


def deposit_to_proto(deposit: model.Deposit) -> payments_pb2.Deposit:
    return payments_pb2.Deposit(
        id=deposit.id,
        appointment_id=deposit.appointment_id,
        client_id=deposit.client_id,
        establishment_id=deposit.establishment_id,
        amount=format_amount(deposit.amount),
        status=status_to_proto(deposit.status),
        created_at=ts(deposit.created_at),
        receipt_id=deposit.receipt_id,
    )


def deposits_to_proto(deposits: Iterable[model.Deposit]) -> payments_pb2.GetDepositsResponse:
    return payments_pb2.GetDepositsResponse(deposits=[deposit_to_proto(d) for d in deposits])


def enum_name(enum: object, value: int, prefix: str) -> str:
    """The name without its prefix ("CASH"); "UNSPECIFIED" for a number the proto lacks."""
    try:
        name: str = enum.Name(value)  # type: ignore[attr-defined]
    except ValueError:
        return "UNSPECIFIED"
    return name.removeprefix(prefix)


def payment_method_name(value: int) -> str:
    return enum_name(payments_pb2.PaymentMethod, value, "PAYMENT_METHOD_")


def gift_card_kind_name(value: int) -> str:
    return enum_name(payments_pb2.GiftCardKind, value, "GIFT_CARD_KIND_")


def receipt_to_proto(receipt: Receipt) -> payments_pb2.Receipt:
    return payments_pb2.Receipt(
        id=receipt.id,
        number=receipt.number_text,
        establishment_id=receipt.establishment_id,
        client_id=receipt.client_id,
        total=format_amount(receipt.total),
        created_at=ts(receipt.created_at),
        appointment_id=receipt.appointment_id,
        lines=[
            payments_pb2.ReceiptLine(
                kind=payments_pb2.LineKind.Value(f"LINE_KIND_{line.kind.value}"),
                item_id=line.item_id,
                description=line.description,
                quantity=line.quantity,
                unit_price=format_amount(line.unit_price),
                total=format_amount(line.total),
            )
            for line in receipt.lines
        ],
        payments=[
            payments_pb2.Payment(
                method=payments_pb2.PaymentMethod.Value(f"PAYMENT_METHOD_{p.method.value}"),
                amount=format_amount(p.amount),
                gift_card_id=p.gift_card_id,
                subscription_id=p.subscription_id,
                deposit_id=p.deposit_id,
            )
            for p in receipt.payments
        ],
        deposits_applied=[deposit_to_proto(d) for d in receipt.deposits_applied],
        user_id=receipt.user_id,
        reservation_id=receipt.reservation_id,
    )


def receipts_to_proto(receipts: Iterable[Receipt]) -> payments_pb2.GetReceiptsResponse:
    return payments_pb2.GetReceiptsResponse(receipts=[receipt_to_proto(r) for r in receipts])


def gift_card_to_proto(card: GiftCard) -> payments_pb2.GiftCard:
    return payments_pb2.GiftCard(
        id=card.id,
        code=card.code,
        kind=payments_pb2.GiftCardKind.Value(f"GIFT_CARD_KIND_{card.kind.value}"),
        balance=format_amount(card.balance),
        initial_amount=format_amount(card.initial_amount),
        establishment_id=card.establishment_id,
        client_id=card.client_id,
        created_at=ts(card.created_at),
    )


def gift_cards_to_proto(cards: Iterable[GiftCard]) -> payments_pb2.GetGiftCardsResponse:
    return payments_pb2.GetGiftCardsResponse(gift_cards=[gift_card_to_proto(c) for c in cards])


def subscription_to_proto(subscription: Subscription) -> payments_pb2.PrepaidSubscription:
    return payments_pb2.PrepaidSubscription(
        id=subscription.id,
        name=subscription.name,
        establishment_id=subscription.establishment_id,
        client_id=subscription.client_id,
        visits=subscription.visits,
        visits_left=subscription.visits_left,
        price=format_amount(subscription.price),
        valid_until=subscription.valid_until.isoformat() if subscription.valid_until else "",
        created_at=ts(subscription.created_at),
    )
