"""The checkout (R28, R17, R14, R24, B08): what a receipt is, which requests are allowed,
how one is planned, and the saga that writes it across services.

A checkout is made in the scope's session establishment. It runs in three parts:

1. **Checks that need no write** (:func:`check_checkout`, then :meth:`CheckoutSaga._plan`):
   the request itself; the lines priced from the establishment's catalogue; the appointment
   paid (booking); the gift cards, subscriptions and deposits as the database has them now
   (:func:`plan_checkout`). Everything that can be refused on a read is refused here,
   before any stock is touched.
2. **The attempt** (one row per idempotency key and establishment): claimed PENDING with a
   fresh reservation id in its own short transaction. A repeat of a finished checkout
   answers its receipt; the same key with another request is a CONFLICT; a twin in flight
   is waited for.
3. **The saga**: reserve the products' stock in inventory, then ONE write transaction that
   takes the receipt number, writes the receipt, debits gift cards and subscriptions,
   applies deposits, records settlements and events, and marks the attempt DONE (only if
   it is still this checkout's PENDING attempt). Whatever fails after the reservation is
   compensated: the attempt is fenced (PENDING -> RELEASING, so that no late write can
   complete it), the reservation released, the attempt marked FAILED. When the release
   fails, the attempt stays RELEASING and the recovery worker releases it later; a crash
   leaves it PENDING, and the recovery worker takes it once it is stale.

Every collaborator is behind a small interface (:class:`Catalog`, :class:`Appointments`,
:class:`Stock`, :class:`Till`), so the failure of each step can be tested on its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from services.common.db import new_id
from services.common.errors import DomainError, ErrorCode, invalid, not_found
from services.common.money import format_amount, parse_amount
from services.common.scope import Scope
from services.payments.domain.cards import (
    GiftCard,
    Subscription,
    check_idempotency_key,
    check_optional_id,
    normalize_code,
)
from services.payments.domain.model import Deposit

log = logging.getLogger("salon.payments.checkout")

MAX_LINES = 100
MAX_PAYMENTS = 20
MAX_QUANTITY = 999
NUMBER_WIDTH = 6


class LineKind(StrEnum):
    SERVICE = "SERVICE"
    PRODUCT = "PRODUCT"


class PaymentMethod(StrEnum):
    CASH = "CASH"
    CARD = "CARD"
    GIFT_CARD = "GIFT_CARD"
    SUBSCRIPTION = "SUBSCRIPTION"
    # Never in a request: the till applies deposits itself (R17).
    DEPOSIT = "DEPOSIT"
    ONLINE = "ONLINE"


class AttemptState(StrEnum):
    # The stock may be reserved, the receipt is not written.
    PENDING = "PENDING"
    DONE = "DONE"
    # Fenced by a compensation or the recovery worker: no write completes it any more;
    # its reservation is being (or still has to be) released.
    RELEASING = "RELEASING"
    # Released: the key may be used again.
    FAILED = "FAILED"


class CheckoutInterrupted(Exception):
    """The checkout could not finish and may be retried with the same key: a twin request
    is still in flight, or the recovery worker took this attempt over (UNAVAILABLE)."""


# -- requests ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LineRequest:
    kind: LineKind
    item_id: str
    quantity: int


@dataclass(frozen=True)
class PaymentRequest:
    method: PaymentMethod
    amount: Decimal
    gift_card_code: str = ""
    subscription_id: str = ""


@dataclass(frozen=True)
class CheckoutRequest:
    client_id: str
    appointment_id: str
    lines: tuple[LineRequest, ...]
    payments: tuple[PaymentRequest, ...]
    apply_deposits: bool
    idempotency_key: str

    def request_hash(self) -> str:
        """A stable hash of everything but the key: the same request hashes the same
        whatever the spelling of its amounts ("10" and "10.00") or codes (case)."""
        body = {
            "client": self.client_id,
            "appointment": self.appointment_id,
            "lines": [[ln.kind.value, ln.item_id, ln.quantity] for ln in self.lines],
            "payments": [
                [p.method.value, format_amount(p.amount), p.gift_card_code, p.subscription_id]
                for p in self.payments
            ],
            "deposits": self.apply_deposits,
        }
        text = json.dumps(body, separators=(",", ":"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def _line(index: int, service_id: str, product_id: str, quantity: int) -> LineRequest:
    where = f"lines[{index}]"
    if bool(service_id) == bool(product_id):
        raise invalid(f"{where}.serviceId", "give exactly one of serviceId and productId")
    kind, item, name = (
        (LineKind.SERVICE, service_id, "serviceId")
        if service_id
        else (LineKind.PRODUCT, product_id, "productId")
    )
    check_optional_id(item, f"{where}.{name}")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise invalid(f"{where}.quantity", f"must be between 1 and {MAX_QUANTITY}")
    return LineRequest(kind, item, quantity)


def _payment(
    index: int, method: str, amount: str, gift_card_code: str, subscription_id: str
) -> PaymentRequest:
    where = f"payments[{index}]"
    if method not in PaymentMethod.__members__:
        raise invalid(f"{where}.method", "must be a payment method")
    kind = PaymentMethod(method)
    if kind is PaymentMethod.DEPOSIT:
        raise invalid(f"{where}.method", "deposits are applied by the till (applyDeposits)")
    value = parse_amount(amount, f"{where}.amount", allow_zero=False)
    code, subscription = "", ""
    if kind is PaymentMethod.GIFT_CARD:
        code = normalize_code(gift_card_code)
        if not code:
            raise invalid(f"{where}.giftCardCode", "a gift card payment needs the card's code")
        if len(code) > 64:
            raise invalid(f"{where}.giftCardCode", "is not a gift card code")
    elif gift_card_code:
        raise invalid(f"{where}.giftCardCode", "only for a GIFT_CARD payment")
    if kind is PaymentMethod.SUBSCRIPTION:
        if not subscription_id:
            raise invalid(f"{where}.subscriptionId", "a subscription payment needs its id")
        subscription = check_optional_id(subscription_id, f"{where}.subscriptionId")
    elif subscription_id:
        raise invalid(f"{where}.subscriptionId", "only for a SUBSCRIPTION payment")
    return PaymentRequest(kind, value, code, subscription)


def check_checkout(
    *,
    client_id: str,
    appointment_id: str,
    lines: Sequence[tuple[str, str, int]],
    payments: Sequence[tuple[str, str, str, str]],
    apply_deposits: bool,
    idempotency_key: str,
) -> CheckoutRequest:
    """The request, checked whole before anything is asked or written.

    `lines`: (service_id, product_id, quantity); `payments`: (method name without prefix,
    amount, gift card code, subscription id). INVALID naming the field otherwise."""
    key = check_idempotency_key(idempotency_key)
    if not lines:
        raise invalid("lines", "a receipt needs at least one line")
    if len(lines) > MAX_LINES:
        raise invalid("lines", f"at most {MAX_LINES} lines")
    if len(payments) > MAX_PAYMENTS:
        raise invalid("payments", f"at most {MAX_PAYMENTS} payments")
    return CheckoutRequest(
        client_id=check_optional_id(client_id, "clientId"),
        appointment_id=check_optional_id(appointment_id, "appointmentId"),
        lines=tuple(_line(i, *line) for i, line in enumerate(lines)),
        payments=tuple(_payment(i, *payment) for i, payment in enumerate(payments)),
        apply_deposits=apply_deposits,
        idempotency_key=key,
    )


# -- what the collaborators answer --------------------------------------------------------


@dataclass(frozen=True)
class CatalogItem:
    kind: LineKind
    id: str
    name: str
    # The session establishment's price (R12).
    price: Decimal


@dataclass(frozen=True)
class AppointmentInfo:
    id: str
    establishment_id: str
    client_id: str
    # The booking enum name without prefix: BOOKED, CANCELLED, COMPLETED, NO_SHOW.
    status: str


@dataclass(frozen=True)
class TillState:
    """What this service's database says before the write: the cards and subscriptions the
    payments name (organization-wide; missing ones are left out), the deposits that may be
    applied (the appointment's first, then the client's oldest first) and the
    establishment's local date."""

    gift_cards: Mapping[str, GiftCard]
    subscriptions: Mapping[str, Subscription]
    deposits: Sequence[Deposit]
    today: date


# -- receipts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptLine:
    kind: LineKind
    item_id: str
    description: str
    quantity: int
    unit_price: Decimal
    total: Decimal


@dataclass(frozen=True)
class Payment:
    method: PaymentMethod
    amount: Decimal
    gift_card_id: str = ""
    subscription_id: str = ""
    deposit_id: str = ""


@dataclass(frozen=True)
class Receipt:
    id: str
    number: int
    organization_id: str
    establishment_id: str
    client_id: str
    appointment_id: str
    total: Decimal
    user_id: str
    reservation_id: str
    created_at: datetime
    lines: tuple[ReceiptLine, ...]
    payments: tuple[Payment, ...]
    deposits_applied: tuple[Deposit, ...] = ()

    @property
    def number_text(self) -> str:
        """Six digits at least: "000001"."""
        return str(self.number).zfill(NUMBER_WIDTH)


@dataclass(frozen=True)
class Attempt:
    id: str
    organization_id: str
    establishment_id: str
    idempotency_key: str
    request_hash: str
    state: AttemptState
    reservation_id: str
    receipt_id: str
    user_id: str
    updated_at: datetime


@dataclass(frozen=True)
class PlannedPayment:
    payment: Payment
    gift_card: GiftCard | None = None
    subscription: Subscription | None = None
    deposit: Deposit | None = None


@dataclass(frozen=True)
class CheckoutPlan:
    """Everything the write transaction needs; it re-checks what may change meanwhile
    (balances, visits, deposits) with conditional updates."""

    organization_id: str
    establishment_id: str
    user_id: str
    idempotency_key: str
    request_hash: str
    client_id: str
    appointment_id: str
    lines: tuple[ReceiptLine, ...]
    # The request's payments in order, then one DEPOSIT payment per deposit applied.
    payments: tuple[PlannedPayment, ...]
    total: Decimal
    today: date
    deposits: tuple[Deposit, ...] = field(default=())

    @property
    def product_lines(self) -> list[tuple[str, int]]:
        """(product id, quantity) to reserve, one per product."""
        quantities: Counter[str] = Counter()
        for line in self.lines:
            if line.kind is LineKind.PRODUCT:
                quantities[line.item_id] += line.quantity
        return list(quantities.items())


# -- planning (pure) --------------------------------------------------------------------


def price_lines(
    lines: Sequence[LineRequest], items: Sequence[CatalogItem]
) -> tuple[ReceiptLine, ...]:
    """Each line at the establishment's price; an item the catalogue did not return
    (unknown, of another organization, deleted) is NOT_FOUND naming the line."""
    found = {(item.kind, item.id): item for item in items}
    priced = []
    for index, line in enumerate(lines):
        item = found.get((line.kind, line.item_id))
        if item is None:
            name = "serviceId" if line.kind is LineKind.SERVICE else "productId"
            raise not_found(line.kind.value.lower(), f"lines[{index}].{name}")
        priced.append(
            ReceiptLine(
                kind=line.kind,
                item_id=line.item_id,
                description=item.name[:200],
                quantity=line.quantity,
                unit_price=item.price,
                total=item.price * line.quantity,
            )
        )
    return tuple(priced)


def receipt_client(request: CheckoutRequest, appointment: AppointmentInfo | None) -> str:
    """The appointment paid must be BOOKED in the organization; its client is the
    receipt's unless the request names another (INVALID)."""
    if not request.appointment_id:
        return request.client_id
    if appointment is None or appointment.id != request.appointment_id:
        raise not_found("appointment", "appointmentId")
    if appointment.status != "BOOKED":
        raise DomainError(
            ErrorCode.CONFLICT,
            f"the appointment is {appointment.status.lower().replace('_', ' ')}",
            "appointmentId",
        )
    if request.client_id and request.client_id != appointment.client_id:
        raise invalid("clientId", "the appointment is another client's")
    return appointment.client_id


def select_deposits(candidates: Sequence[Deposit], total: Decimal) -> tuple[Deposit, ...]:
    """R17: the PAID deposits, in the order given (the appointment's own first, then the
    client's oldest first), each applied whole when it still fits in the total; one that
    would take the deposits over the total is left for a later receipt."""
    chosen: list[Deposit] = []
    applied = Decimal("0.00")
    seen: set[str] = set()
    for deposit in candidates:
        if deposit.id in seen or deposit.status.value != "PAID":
            continue
        seen.add(deposit.id)
        if applied + deposit.amount <= total:
            chosen.append(deposit)
            applied += deposit.amount
    return tuple(chosen)


def plan_checkout(
    scope: Scope,
    request: CheckoutRequest,
    lines: tuple[ReceiptLine, ...],
    client_id: str,
    state: TillState,
) -> CheckoutPlan:
    """The receipt to write, or the first reason it cannot be: gift cards (R14),
    subscriptions (R24), deposits (R17) and the sum of the payments (PAYMENT_MISMATCH)."""
    est = scope.establishment_id
    total = sum((line.total for line in lines), Decimal("0.00"))
    planned: list[PlannedPayment] = []
    per_subscription: Counter[str] = Counter()
    for index, p in enumerate(request.payments):
        where = f"payments[{index}]"
        if p.method is PaymentMethod.GIFT_CARD:
            card = state.gift_cards.get(p.gift_card_code)
            if card is None:
                raise not_found("gift card", f"{where}.giftCardCode")
            if not card.redeemable_in(est):
                raise DomainError(
                    ErrorCode.WRONG_ESTABLISHMENT,
                    "this numbered gift card is redeemable only where it was issued",
                    f"{where}.giftCardCode",
                )
            taken = sum(
                (q.payment.amount for q in planned if q.gift_card and q.gift_card.id == card.id),
                p.amount,
            )
            if taken > card.balance:
                raise DomainError(
                    ErrorCode.INSUFFICIENT_BALANCE,
                    f"the gift card's balance is {format_amount(card.balance)}",
                    f"{where}.amount",
                )
            planned.append(
                PlannedPayment(Payment(p.method, p.amount, gift_card_id=card.id), gift_card=card)
            )
        elif p.method is PaymentMethod.SUBSCRIPTION:
            sub = state.subscriptions.get(p.subscription_id)
            if sub is None:
                raise not_found("subscription", f"{where}.subscriptionId")
            if sub.establishment_id != est:
                raise DomainError(
                    ErrorCode.WRONG_ESTABLISHMENT,
                    "this subscription is usable only where it was sold",
                    f"{where}.subscriptionId",
                )
            if sub.expired_on(state.today):
                raise DomainError(
                    ErrorCode.EXPIRED, "this subscription has expired", f"{where}.subscriptionId"
                )
            per_subscription[sub.id] += 1
            if per_subscription[sub.id] > sub.visits_left:
                raise DomainError(
                    ErrorCode.USED_UP,
                    "this subscription has no visits left",
                    f"{where}.subscriptionId",
                )
            planned.append(
                PlannedPayment(
                    Payment(p.method, p.amount, subscription_id=sub.id), subscription=sub
                )
            )
        else:
            planned.append(PlannedPayment(Payment(p.method, p.amount)))
    deposits = select_deposits(state.deposits, total) if request.apply_deposits else ()
    for deposit in deposits:
        planned.append(
            PlannedPayment(
                Payment(PaymentMethod.DEPOSIT, deposit.amount, deposit_id=deposit.id),
                deposit=deposit,
            )
        )
    paid = sum((q.payment.amount for q in planned), Decimal("0.00"))
    if paid != total:
        applied = sum((d.amount for d in deposits), Decimal("0.00"))
        raise DomainError(
            ErrorCode.PAYMENT_MISMATCH,
            f"the payments ({format_amount(paid - applied)}) and deposits applied "
            f"({format_amount(applied)}) must add up to the total ({format_amount(total)})",
            "payments",
        )
    return CheckoutPlan(
        organization_id=scope.organization_id,
        establishment_id=est,
        user_id=scope.user_id,
        idempotency_key=request.idempotency_key,
        request_hash=request.request_hash(),
        client_id=client_id,
        appointment_id=request.appointment_id,
        lines=lines,
        payments=tuple(planned),
        total=total,
        today=state.today,
        deposits=deposits,
    )


# -- the collaborators ------------------------------------------------------------------


class Catalog(Protocol):
    async def items(
        self, establishment_id: str, service_ids: Sequence[str], product_ids: Sequence[str]
    ) -> list[CatalogItem]:
        """The services and products found in the establishment's catalogue (not deleted),
        at its prices; unknown and foreign ids are left out."""


class Appointments(Protocol):
    async def appointment(self, appointment_id: str) -> AppointmentInfo | None:
        """The appointment in the organization, or None."""


class Stock(Protocol):
    async def reserve(self, reservation_id: str, lines: Sequence[tuple[str, int]]) -> None:
        """Take the products out of the session establishment's stock, all or none
        (OUT_OF_STOCK)."""

    async def release(self, reservation_id: str) -> None:
        """Put a reservation's stock back; releasing an unknown or released id is fine."""


class Till(Protocol):
    """This service's database, each method its own transaction."""

    async def attempt(
        self, organization_id: str, establishment_id: str, key: str
    ) -> Attempt | None: ...

    async def claim(
        self,
        organization_id: str,
        establishment_id: str,
        key: str,
        request_hash: str,
        reservation_id: str,
        user_id: str,
    ) -> Attempt:
        """Insert the attempt PENDING with this reservation id, or take over a FAILED one
        of the same request; otherwise the attempt as it is (another request's)."""

    async def state(self, scope: Scope, request: CheckoutRequest, client_id: str) -> TillState: ...

    async def receipt(self, organization_id: str, receipt_id: str) -> Receipt: ...

    async def write(self, plan: CheckoutPlan, reservation_id: str, scope: Scope) -> Receipt:
        """The one write transaction (see the module docstring); CheckoutInterrupted when
        the attempt is no longer this checkout's PENDING one."""

    async def fence(
        self, organization_id: str, establishment_id: str, key: str, reservation_id: str
    ) -> bool:
        """PENDING -> RELEASING for this reservation; False when it is not (any more)."""

    async def failed(
        self, organization_id: str, establishment_id: str, key: str, reservation_id: str
    ) -> bool:
        """RELEASING -> FAILED for this reservation, once its stock is back."""


# -- the saga ---------------------------------------------------------------------------


class CheckoutSaga:
    def __init__(
        self,
        catalog: Catalog,
        appointments: Appointments,
        stock: Stock,
        till: Till,
        *,
        wait_seconds: float = 4.0,
        poll_seconds: float = 0.05,
    ) -> None:
        self.catalog = catalog
        self.appointments = appointments
        self.stock = stock
        self.till = till
        # How long a repeat waits for its twin in flight (well within an RPC's deadline).
        self.wait_seconds = wait_seconds
        self.poll_seconds = poll_seconds

    async def checkout(self, scope: Scope, request: CheckoutRequest) -> Receipt:
        org, est, key = scope.organization_id, scope.establishment_id, request.idempotency_key
        digest = request.request_hash()
        known = await self.till.attempt(org, est, key)
        if known is not None:
            _same_request(known, digest)
            done = await self._outcome(known)
            if done is not None:
                return done
        plan = await self._plan(scope, request)
        for _ in range(3):
            reservation_id = new_id()
            attempt = await self.till.claim(org, est, key, digest, reservation_id, scope.user_id)
            _same_request(attempt, digest)
            if attempt.reservation_id == reservation_id and attempt.state is AttemptState.PENDING:
                return await self._run(scope, plan, reservation_id)
            done = await self._outcome(attempt)
            if done is not None:
                return done
        raise CheckoutInterrupted("this checkout keeps failing elsewhere; try again")

    async def _outcome(self, attempt: Attempt) -> Receipt | None:
        """A finished attempt's receipt; None when it failed (the key may be used again);
        an attempt in flight is waited for, a little."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_seconds
        current: Attempt | None = attempt
        while current is not None:
            if current.state is AttemptState.DONE:
                return await self.till.receipt(current.organization_id, current.receipt_id)
            if current.state is AttemptState.FAILED:
                return None
            if loop.time() >= deadline:
                raise CheckoutInterrupted(
                    "a checkout with this idempotency key is still in progress; try again"
                )
            await asyncio.sleep(self.poll_seconds)
            current = await self.till.attempt(
                attempt.organization_id, attempt.establishment_id, attempt.idempotency_key
            )
        return None

    async def _plan(self, scope: Scope, request: CheckoutRequest) -> CheckoutPlan:
        services = [ln.item_id for ln in request.lines if ln.kind is LineKind.SERVICE]
        products = [ln.item_id for ln in request.lines if ln.kind is LineKind.PRODUCT]
        items_call = self.catalog.items(
            scope.establishment_id, list(dict.fromkeys(services)), list(dict.fromkeys(products))
        )
        if request.appointment_id:
            items, appointment = await asyncio.gather(
                items_call, self.appointments.appointment(request.appointment_id)
            )
        else:
            items, appointment = await items_call, None
        lines = price_lines(request.lines, items)
        client_id = receipt_client(request, appointment)
        state = await self.till.state(scope, request, client_id)
        return plan_checkout(scope, request, lines, client_id, state)

    async def _run(self, scope: Scope, plan: CheckoutPlan, reservation_id: str) -> Receipt:
        products = plan.product_lines
        try:
            if products:
                await self.stock.reserve(reservation_id, products)
            return await self.till.write(plan, reservation_id, scope)
        except BaseException:
            await self.compensate(scope, plan.idempotency_key, reservation_id, bool(products))
            raise

    async def compensate(self, scope: Scope, key: str, reservation_id: str, reserved: bool) -> None:
        """Undo what the attempt may have reserved; never raises. What cannot be done now
        (the database or inventory down) is left to the recovery worker."""
        org, est = scope.organization_id, scope.establishment_id
        try:
            if not await self.till.fence(org, est, key, reservation_id):
                # Done after all, or already taken over by the recovery worker.
                return
        except Exception as exc:
            log.warning("checkout %s: not fenced (%s); the recovery worker will", key, exc)
            return
        if reserved:
            try:
                await self.stock.release(reservation_id)
            except Exception as exc:
                log.warning(
                    "checkout %s: reservation %s not released (%s); the recovery worker will",
                    key,
                    reservation_id,
                    exc,
                )
                return
        try:
            await self.till.failed(org, est, key, reservation_id)
        except Exception as exc:
            log.warning("checkout %s: not marked failed (%s)", key, exc)


def _same_request(attempt: Attempt, digest: str) -> None:
    if attempt.request_hash != digest:
        raise DomainError(
            ErrorCode.CONFLICT,
            "this idempotency key was used for another checkout",
            "idempotencyKey",
        )
