"""Queries of the till (R28): checkout attempts, the checkout's write, receipts.

Concurrency, on both backends:

- One attempt per (organization, establishment, idempotency key): a unique constraint; the
  attempt is inserted with ON CONFLICT DO NOTHING (PostgreSQL makes a concurrent twin wait
  for the winner's commit) and every state change is a conditional UPDATE on the state
  and the reservation id it expects.
- Receipt numbers: ``UPDATE receipt_counters SET last_number = last_number + 1 RETURNING``
  in the checkout's own transaction. The row lock serializes the checkouts of one
  establishment until they commit or roll back, and a rolled back one gives its number back:
  no gaps, no duplicates (and the unique constraint behind it).
- Balances, visits and deposits: conditional UPDATEs (``balance >= :amount``,
  ``visits_left >= :n``, ``status = 'PAID'``) that change nothing and refuse the checkout
  when they match no row. Rows are touched in a fixed order (counter, attempt, cards,
  subscriptions, deposits, each by id) so two checkouts never wait on each other in a cycle.

On SQLite the writer is one connection (BEGIN IMMEDIATE): the same statements simply run
one transaction at a time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.db import insert_ignore, new_id, utcnow
from services.common.errors import DomainError, ErrorCode
from services.payments.domain.cards import GiftCard, Subscription
from services.payments.domain.checkout import (
    Attempt,
    AttemptState,
    CheckoutInterrupted,
    CheckoutPlan,
    LineKind,
    Payment,
    PaymentMethod,
    Receipt,
    ReceiptLine,
)
from services.payments.domain.model import Deposit, DepositStatus
from services.payments.store import merge_repository
from services.payments.store.cards_repository import to_gift_card, to_subscription
from services.payments.store.repository import to_deposit
from services.payments.store.tables import (
    checkout_attempts,
    deposits,
    gift_card_transactions,
    gift_cards,
    receipt_counters,
    receipt_lines,
    receipt_payments,
    receipts,
    settlements,
    subscriptions,
)

# -- attempts ---------------------------------------------------------------------------


def _to_attempt(row: Any) -> Attempt:
    return Attempt(
        id=row.id,
        organization_id=row.organization_id,
        establishment_id=row.establishment_id,
        idempotency_key=row.idempotency_key,
        request_hash=row.request_hash,
        state=AttemptState(row.state),
        reservation_id=row.reservation_id,
        receipt_id=row.receipt_id or "",
        user_id=row.user_id,
        updated_at=row.updated_at,
    )


def _attempt_is(organization_id: str, establishment_id: str, key: str) -> Any:
    return and_(
        checkout_attempts.c.organization_id == organization_id,
        checkout_attempts.c.establishment_id == establishment_id,
        checkout_attempts.c.idempotency_key == key,
    )


async def get_attempt(
    conn: AsyncConnection, organization_id: str, establishment_id: str, key: str
) -> Attempt | None:
    row = (
        await conn.execute(
            select(checkout_attempts).where(_attempt_is(organization_id, establishment_id, key))
        )
    ).first()
    return _to_attempt(row) if row is not None else None


async def claim_attempt(
    conn: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    key: str,
    request_hash: str,
    reservation_id: str,
    user_id: str,
) -> Attempt:
    """The attempt after trying to make it ours (PENDING, this reservation id): a new one,
    or a FAILED one of the same request taken over; any other attempt is returned as is."""
    now = utcnow()
    inserted = await insert_ignore(
        conn,
        checkout_attempts,
        {
            "id": new_id(),
            "organization_id": organization_id,
            "establishment_id": establishment_id,
            "idempotency_key": key,
            "request_hash": request_hash,
            "state": AttemptState.PENDING.value,
            "reservation_id": reservation_id,
            "receipt_id": None,
            "user_id": user_id,
            "created_at": now,
            "updated_at": now,
        },
    )
    if not inserted:
        await conn.execute(
            update(checkout_attempts)
            .where(
                _attempt_is(organization_id, establishment_id, key),
                checkout_attempts.c.state == AttemptState.FAILED.value,
                checkout_attempts.c.request_hash == request_hash,
            )
            .values(
                state=AttemptState.PENDING.value,
                reservation_id=reservation_id,
                user_id=user_id,
                updated_at=now,
            )
        )
    attempt = await get_attempt(conn, organization_id, establishment_id, key)
    assert attempt is not None
    return attempt


async def move_attempt(
    conn: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    key: str,
    reservation_id: str,
    source: AttemptState,
    target: AttemptState,
) -> bool:
    """source -> target when the attempt is in `source` with this reservation id."""
    result = await conn.execute(
        update(checkout_attempts)
        .where(
            _attempt_is(organization_id, establishment_id, key),
            checkout_attempts.c.state == source.value,
            checkout_attempts.c.reservation_id == reservation_id,
        )
        .values(state=target.value, updated_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def stale_attempts(
    conn: AsyncConnection, before: datetime, limit: int = 100
) -> list[Attempt]:
    """Attempts of every organization left PENDING or RELEASING since before `before`: a
    checkout that crashed, or a compensation whose release failed."""
    rows = await conn.execute(
        select(checkout_attempts)
        .where(
            or_(
                checkout_attempts.c.state == AttemptState.PENDING.value,
                checkout_attempts.c.state == AttemptState.RELEASING.value,
            ),
            checkout_attempts.c.updated_at < before,
        )
        .order_by(checkout_attempts.c.updated_at)
        .limit(limit)
    )
    return [_to_attempt(row) for row in rows]


# -- the checkout's write ---------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    """A receipt as written, with the cards, subscriptions and deposits it changed (their
    state after the change), for the events."""

    receipt: Receipt
    # (card after, amount redeemed on this receipt)
    gift_cards: list[tuple[GiftCard, Decimal]]
    subscriptions: list[Subscription]
    deposits: list[Deposit]


async def _next_number(conn: AsyncConnection, organization_id: str, establishment_id: str) -> int:
    await insert_ignore(
        conn,
        receipt_counters,
        {
            "organization_id": organization_id,
            "establishment_id": establishment_id,
            "last_number": 0,
        },
    )
    result = await conn.execute(
        update(receipt_counters)
        .where(
            receipt_counters.c.organization_id == organization_id,
            receipt_counters.c.establishment_id == establishment_id,
        )
        .values(last_number=receipt_counters.c.last_number + 1)
        .returning(receipt_counters.c.last_number)
    )
    return int(result.scalar_one())


def _first_index(plan: CheckoutPlan, match: Any) -> int:
    return next(i for i, p in enumerate(plan.payments) if match(p))


async def _debit_gift_cards(
    conn: AsyncConnection, plan: CheckoutPlan, receipt_id: str, now: datetime
) -> list[tuple[GiftCard, Decimal]]:
    org, est = plan.organization_id, plan.establishment_id
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    for p in plan.payments:
        if p.gift_card is not None:
            amounts[p.gift_card.id] += p.payment.amount
    changed = []
    for card_id in sorted(amounts):
        amount = amounts[card_id]
        row = (
            await conn.execute(
                update(gift_cards)
                .where(
                    gift_cards.c.organization_id == org,
                    gift_cards.c.id == card_id,
                    gift_cards.c.balance >= amount,
                )
                .values(balance=gift_cards.c.balance - amount)
                .returning(*gift_cards.c)
            )
        ).first()
        if row is None:
            index = _first_index(
                plan, lambda p, c=card_id: p.gift_card is not None and p.gift_card.id == c
            )
            raise DomainError(
                ErrorCode.INSUFFICIENT_BALANCE,
                "the gift card's balance is too low",
                f"payments[{index}].amount",
            )
        card = to_gift_card(row)
        await conn.execute(
            gift_card_transactions.insert().values(
                id=new_id(),
                organization_id=org,
                gift_card_id=card.id,
                establishment_id=est,
                kind="REDEEM",
                amount=amount,
                receipt_id=receipt_id,
                created_at=now,
            )
        )
        if card.establishment_id != est:
            # B08: the issuing establishment holds the money and owes it to this one.
            await conn.execute(
                settlements.insert().values(
                    id=new_id(),
                    organization_id=org,
                    from_establishment_id=card.establishment_id,
                    to_establishment_id=est,
                    amount=amount,
                    receipt_id=receipt_id,
                    gift_card_id=card.id,
                    created_at=now,
                )
            )
        changed.append((card, amount))
    return changed


async def _use_subscriptions(conn: AsyncConnection, plan: CheckoutPlan) -> list[Subscription]:
    org, est = plan.organization_id, plan.establishment_id
    visits: dict[str, int] = defaultdict(int)
    for p in plan.payments:
        if p.subscription is not None:
            visits[p.subscription.id] += 1
    changed = []
    for subscription_id in sorted(visits):
        taken = visits[subscription_id]
        row = (
            await conn.execute(
                update(subscriptions)
                .where(
                    subscriptions.c.organization_id == org,
                    subscriptions.c.establishment_id == est,
                    subscriptions.c.id == subscription_id,
                    subscriptions.c.visits_left >= taken,
                    or_(
                        subscriptions.c.valid_until.is_(None),
                        subscriptions.c.valid_until >= plan.today,
                    ),
                )
                .values(visits_left=subscriptions.c.visits_left - taken)
                .returning(*subscriptions.c)
            )
        ).first()
        if row is None:
            index = _first_index(
                plan,
                lambda p, s=subscription_id: p.subscription is not None and p.subscription.id == s,
            )
            field = f"payments[{index}].subscriptionId"
            current = (
                await conn.execute(
                    select(subscriptions).where(
                        subscriptions.c.organization_id == org,
                        subscriptions.c.id == subscription_id,
                    )
                )
            ).first()
            if current is not None and to_subscription(current).expired_on(plan.today):
                raise DomainError(ErrorCode.EXPIRED, "this subscription has expired", field)
            raise DomainError(ErrorCode.USED_UP, "this subscription has no visits left", field)
        changed.append(to_subscription(row))
    return changed


async def _apply_deposits(
    conn: AsyncConnection, plan: CheckoutPlan, receipt_id: str
) -> list[Deposit]:
    applied = []
    for deposit in sorted(plan.deposits, key=lambda d: d.id):
        row = (
            await conn.execute(
                update(deposits)
                .where(
                    deposits.c.organization_id == plan.organization_id,
                    deposits.c.id == deposit.id,
                    deposits.c.status == DepositStatus.PAID.value,
                )
                .values(status=DepositStatus.APPLIED.value, receipt_id=receipt_id)
                .returning(*deposits.c)
            )
        ).first()
        if row is None:
            raise DomainError(
                ErrorCode.CONFLICT,
                "a deposit was applied or refunded meanwhile; check out again",
                "applyDeposits",
            )
        applied.append(to_deposit(row))
    # In the plan's order (the receipt's DEPOSIT payments).
    by_id = {d.id: d for d in applied}
    return [by_id[d.id] for d in plan.deposits]


async def write_checkout(
    conn: AsyncConnection, plan: CheckoutPlan, reservation_id: str, has_products: bool
) -> Written:
    """The checkout's one write transaction (the caller's): everything or nothing.

    CheckoutInterrupted when the attempt is no longer this checkout's PENDING one (the
    recovery worker released its stock meanwhile); a DomainError when a balance, a visit
    or a deposit is no longer there. Either way the caller's transaction rolls back, the
    receipt number with it."""
    org, est = plan.organization_id, plan.establishment_id
    now = utcnow()
    receipt_id = new_id()
    # B07: a client id merged meanwhile lands on the kept record.
    client_id = await merge_repository.resolve(conn, org, plan.client_id)
    number = await _next_number(conn, org, est)
    done = await conn.execute(
        update(checkout_attempts)
        .where(
            _attempt_is(org, est, plan.idempotency_key),
            checkout_attempts.c.state == AttemptState.PENDING.value,
            checkout_attempts.c.reservation_id == reservation_id,
        )
        .values(state=AttemptState.DONE.value, receipt_id=receipt_id, updated_at=now)
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        raise CheckoutInterrupted("this checkout took too long and was undone; try again")
    cards = await _debit_gift_cards(conn, plan, receipt_id, now)
    used = await _use_subscriptions(conn, plan)
    applied = await _apply_deposits(conn, plan, receipt_id)
    receipt = Receipt(
        id=receipt_id,
        number=number,
        organization_id=org,
        establishment_id=est,
        client_id=client_id,
        appointment_id=plan.appointment_id,
        total=plan.total,
        user_id=plan.user_id,
        reservation_id=reservation_id if has_products else "",
        created_at=now,
        lines=plan.lines,
        payments=tuple(p.payment for p in plan.payments),
        deposits_applied=tuple(applied),
    )
    await conn.execute(
        receipts.insert().values(
            id=receipt.id,
            organization_id=org,
            establishment_id=est,
            number=receipt.number,
            client_id=receipt.client_id or None,
            appointment_id=receipt.appointment_id or None,
            total=receipt.total,
            user_id=receipt.user_id,
            idempotency_key=plan.idempotency_key,
            request_hash=plan.request_hash,
            reservation_id=receipt.reservation_id or None,
            created_at=now,
        )
    )
    await conn.execute(
        receipt_lines.insert(),
        [
            {
                "id": new_id(),
                "organization_id": org,
                "receipt_id": receipt.id,
                "position": position,
                "kind": line.kind.value,
                "item_id": line.item_id,
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "total": line.total,
            }
            for position, line in enumerate(receipt.lines)
        ],
    )
    if receipt.payments:
        await conn.execute(
            receipt_payments.insert(),
            [
                {
                    "id": new_id(),
                    "organization_id": org,
                    "receipt_id": receipt.id,
                    "position": position,
                    "method": p.method.value,
                    "amount": p.amount,
                    "gift_card_id": p.gift_card_id or None,
                    "subscription_id": p.subscription_id or None,
                    "deposit_id": p.deposit_id or None,
                }
                for position, p in enumerate(receipt.payments)
            ],
        )
    return Written(receipt, cards, used, applied)


# -- receipts ---------------------------------------------------------------------------


async def _assemble(
    conn: AsyncConnection, organization_id: str, rows: Sequence[Any]
) -> list[Receipt]:
    if not rows:
        return []
    ids = [row.id for row in rows]
    lines: dict[str, list[ReceiptLine]] = defaultdict(list)
    for row in await conn.execute(
        select(receipt_lines)
        .where(
            receipt_lines.c.organization_id == organization_id,
            receipt_lines.c.receipt_id.in_(ids),
        )
        .order_by(receipt_lines.c.receipt_id, receipt_lines.c.position)
    ):
        lines[row.receipt_id].append(
            ReceiptLine(
                kind=LineKind(row.kind),
                item_id=row.item_id,
                description=row.description,
                quantity=row.quantity,
                unit_price=Decimal(row.unit_price),
                total=Decimal(row.total),
            )
        )
    payments: dict[str, list[Payment]] = defaultdict(list)
    for row in await conn.execute(
        select(receipt_payments)
        .where(
            receipt_payments.c.organization_id == organization_id,
            receipt_payments.c.receipt_id.in_(ids),
        )
        .order_by(receipt_payments.c.receipt_id, receipt_payments.c.position)
    ):
        payments[row.receipt_id].append(
            Payment(
                method=PaymentMethod(row.method),
                amount=Decimal(row.amount),
                gift_card_id=row.gift_card_id or "",
                subscription_id=row.subscription_id or "",
                deposit_id=row.deposit_id or "",
            )
        )
    applied: dict[str, dict[str, Deposit]] = defaultdict(dict)
    for row in await conn.execute(
        select(deposits).where(
            deposits.c.organization_id == organization_id, deposits.c.receipt_id.in_(ids)
        )
    ):
        applied[row.receipt_id][row.id] = to_deposit(row)
    return [
        Receipt(
            id=row.id,
            number=row.number,
            organization_id=row.organization_id,
            establishment_id=row.establishment_id,
            client_id=row.client_id or "",
            appointment_id=row.appointment_id or "",
            total=Decimal(row.total),
            user_id=row.user_id,
            reservation_id=row.reservation_id or "",
            created_at=row.created_at,
            lines=tuple(lines[row.id]),
            payments=tuple(payments[row.id]),
            # In the order of the receipt's DEPOSIT payments.
            deposits_applied=tuple(
                applied[row.id][p.deposit_id]
                for p in payments[row.id]
                if p.deposit_id and p.deposit_id in applied[row.id]
            ),
        )
        for row in rows
    ]


async def get_receipts(
    conn: AsyncConnection, organization_id: str, ids: Sequence[str]
) -> list[Receipt]:
    """In the order asked; unknown and foreign ids left out."""
    if not ids:
        return []
    rows = (
        await conn.execute(
            select(receipts).where(
                receipts.c.organization_id == organization_id, receipts.c.id.in_(ids)
            )
        )
    ).all()
    found = {r.id: r for r in await _assemble(conn, organization_id, rows)}
    return [found[i] for i in ids if i in found]


async def list_receipts(
    conn: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    start: datetime,
    end: datetime,
) -> list[Receipt]:
    """An establishment's receipts created in [start, end), by number."""
    rows = (
        await conn.execute(
            select(receipts)
            .where(
                receipts.c.organization_id == organization_id,
                receipts.c.establishment_id == establishment_id,
                receipts.c.created_at >= start,
                receipts.c.created_at < end,
            )
            .order_by(receipts.c.number)
        )
    ).all()
    return await _assemble(conn, organization_id, rows)


async def deposit_candidates(
    conn: AsyncConnection, organization_id: str, client_id: str, appointment_id: str
) -> list[Deposit]:
    """R17: the deposits a checkout may apply, PAID, whatever establishment they were paid
    for: the appointment's own first, then the client's, oldest first."""
    conditions = []
    if appointment_id:
        conditions.append(deposits.c.appointment_id == appointment_id)
    if client_id:
        conditions.append(deposits.c.client_id == client_id)
    if not conditions:
        return []
    rows = await conn.execute(
        select(deposits)
        .where(
            deposits.c.organization_id == organization_id,
            deposits.c.status == DepositStatus.PAID.value,
            or_(*conditions),
        )
        .order_by(deposits.c.created_at, deposits.c.id)
    )
    found = [to_deposit(row) for row in rows]
    own = [d for d in found if appointment_id and d.appointment_id == appointment_id]
    return own + [d for d in found if d not in own]
