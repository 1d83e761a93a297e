"""Queries of gift cards (R14), subscriptions (R24), settlements (B08) and the known
establishments' timezones. Every statement filters on the organization of the scope.

Concurrency: a gift card's code is unique per organization and its idempotency key per
establishment (unique constraints; the card is inserted with ON CONFLICT DO NOTHING and
the winner read back). Balances and visits are changed only by the checkout's conditional
UPDATEs (till_repository).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.db import insert_ignore, new_id, utcnow
from services.common.errors import DomainError, ErrorCode, not_found
from services.payments.domain.cards import (
    GiftCard,
    GiftCardKind,
    GiftCardRequest,
    Subscription,
    SubscriptionRequest,
    check_same_gift_card,
    generate_code,
)
from services.payments.store import merge_repository
from services.payments.store.tables import (
    gift_card_transactions,
    gift_cards,
    known_establishments,
    settlements,
    subscriptions,
)

# Generated codes collide with a chance of about 2^-79 each; a few tries are plenty.
_CODE_TRIES = 5


def to_gift_card(row: Any) -> GiftCard:
    return GiftCard(
        id=row.id,
        code=row.code,
        kind=GiftCardKind(row.kind),
        balance=Decimal(row.balance),
        initial_amount=Decimal(row.initial_amount),
        establishment_id=row.establishment_id,
        client_id=row.client_id or "",
        created_at=row.created_at,
    )


def to_subscription(row: Any) -> Subscription:
    return Subscription(
        id=row.id,
        name=row.name,
        establishment_id=row.establishment_id,
        client_id=row.client_id,
        visits=row.visits,
        visits_left=row.visits_left,
        price=Decimal(row.price),
        valid_until=row.valid_until,
        created_at=row.created_at,
    )


async def establishment_timezone(
    conn: AsyncConnection, organization_id: str, establishment_id: str
) -> str | None:
    """The timezone the gateway's tenancy event gave; None while it has not arrived."""
    return (
        await conn.execute(
            select(known_establishments.c.timezone).where(
                known_establishments.c.organization_id == organization_id,
                known_establishments.c.establishment_id == establishment_id,
            )
        )
    ).scalar_one_or_none()


# -- gift cards -------------------------------------------------------------------------


async def _card_by_key(
    conn: AsyncConnection, organization_id: str, establishment_id: str, key: str
) -> GiftCard | None:
    row = (
        await conn.execute(
            select(gift_cards).where(
                gift_cards.c.organization_id == organization_id,
                gift_cards.c.establishment_id == establishment_id,
                gift_cards.c.idempotency_key == key,
            )
        )
    ).first()
    return to_gift_card(row) if row is not None else None


async def issue_gift_card(
    conn: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    user_id: str,
    request: GiftCardRequest,
) -> tuple[GiftCard, bool]:
    """The card and True when this call wrote it (in the caller's write transaction).

    The same idempotency key again answers the first card (CONFLICT when the request
    differs); a code taken in the organization is a CONFLICT on `code`."""
    if request.client_id:
        # B07: a client id merged meanwhile lands on the kept record.
        request = replace(
            request,
            client_id=await merge_repository.resolve(conn, organization_id, request.client_id),
        )
    if request.idempotency_key:
        existing = await _card_by_key(
            conn, organization_id, establishment_id, request.idempotency_key
        )
        if existing is not None:
            return check_same_gift_card(existing, request), False
    for _ in range(_CODE_TRIES):
        card = GiftCard(
            id=new_id(),
            code=request.code or generate_code(),
            kind=request.kind,
            balance=request.amount,
            initial_amount=request.amount,
            establishment_id=establishment_id,
            client_id=request.client_id,
            created_at=utcnow(),
        )
        inserted = await insert_ignore(
            conn,
            gift_cards,
            {
                "id": card.id,
                "organization_id": organization_id,
                "establishment_id": establishment_id,
                "code": card.code,
                "kind": card.kind.value,
                "initial_amount": card.initial_amount,
                "balance": card.balance,
                "client_id": card.client_id or None,
                "idempotency_key": request.idempotency_key or None,
                "user_id": user_id,
                "created_at": card.created_at,
            },
        )
        if inserted:
            await conn.execute(
                gift_card_transactions.insert().values(
                    id=new_id(),
                    organization_id=organization_id,
                    gift_card_id=card.id,
                    establishment_id=establishment_id,
                    kind="ISSUE",
                    amount=card.initial_amount,
                    receipt_id=None,
                    created_at=card.created_at,
                )
            )
            return card, True
        if request.idempotency_key:
            # A concurrent request with the same key won (PostgreSQL waited for it).
            existing = await _card_by_key(
                conn, organization_id, establishment_id, request.idempotency_key
            )
            if existing is not None:
                return check_same_gift_card(existing, request), False
        if request.code:
            raise DomainError(ErrorCode.CONFLICT, "this gift card code is already taken", "code")
    raise DomainError(ErrorCode.CONFLICT, "no free gift card code was found; try again", "code")


async def gift_cards_by_codes(
    conn: AsyncConnection, organization_id: str, codes: Sequence[str]
) -> dict[str, GiftCard]:
    if not codes:
        return {}
    rows = await conn.execute(
        select(gift_cards).where(
            gift_cards.c.organization_id == organization_id, gift_cards.c.code.in_(set(codes))
        )
    )
    return {row.code: to_gift_card(row) for row in rows}


async def gift_card_by_code(conn: AsyncConnection, organization_id: str, code: str) -> GiftCard:
    """NOT_FOUND alike for an unknown code and another organization's (R01)."""
    found = await gift_cards_by_codes(conn, organization_id, [code])
    if code not in found:
        raise not_found("gift card", "code")
    return found[code]


async def gift_cards_by_ids(
    conn: AsyncConnection, organization_id: str, ids: Sequence[str]
) -> list[GiftCard]:
    """In the order asked; unknown and foreign ids left out (organization-wide, R14)."""
    if not ids:
        return []
    rows = await conn.execute(
        select(gift_cards).where(
            gift_cards.c.organization_id == organization_id, gift_cards.c.id.in_(ids)
        )
    )
    found = {row.id: to_gift_card(row) for row in rows}
    return [found[i] for i in ids if i in found]


async def client_gift_cards(
    conn: AsyncConnection, organization_id: str, client_ids: Sequence[str]
) -> list[GiftCard]:
    """Clients' gift cards in every establishment (R14), newest first."""
    rows = await conn.execute(
        select(gift_cards)
        .where(
            gift_cards.c.organization_id == organization_id,
            gift_cards.c.client_id.in_(list(client_ids)),
        )
        .order_by(gift_cards.c.created_at.desc(), gift_cards.c.id.desc())
    )
    return [to_gift_card(row) for row in rows]


# -- subscriptions ----------------------------------------------------------------------


async def sell_subscription(
    conn: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    user_id: str,
    request: SubscriptionRequest,
) -> Subscription:
    # B07: a client id merged meanwhile lands on the kept record.
    client_id = await merge_repository.resolve(conn, organization_id, request.client_id)
    subscription = Subscription(
        id=new_id(),
        name=request.name,
        establishment_id=establishment_id,
        client_id=client_id,
        visits=request.visits,
        visits_left=request.visits,
        price=request.price,
        valid_until=request.valid_until,
        created_at=utcnow(),
    )
    await conn.execute(
        subscriptions.insert().values(
            id=subscription.id,
            organization_id=organization_id,
            establishment_id=establishment_id,
            client_id=subscription.client_id,
            name=subscription.name,
            visits=subscription.visits,
            visits_left=subscription.visits_left,
            price=subscription.price,
            valid_until=subscription.valid_until,
            user_id=user_id,
            created_at=subscription.created_at,
        )
    )
    return subscription


async def subscriptions_by_ids(
    conn: AsyncConnection, organization_id: str, ids: Sequence[str]
) -> dict[str, Subscription]:
    """Whatever their establishment: the checkout tells WRONG_ESTABLISHMENT from unknown."""
    if not ids:
        return {}
    rows = await conn.execute(
        select(subscriptions).where(
            subscriptions.c.organization_id == organization_id,
            subscriptions.c.id.in_(set(ids)),
        )
    )
    return {row.id: to_subscription(row) for row in rows}


async def client_subscriptions(
    conn: AsyncConnection, organization_id: str, establishment_id: str, client_ids: Sequence[str]
) -> list[Subscription]:
    """Clients' subscriptions sold in one establishment (R24), newest first."""
    rows = await conn.execute(
        select(subscriptions)
        .where(
            subscriptions.c.organization_id == organization_id,
            subscriptions.c.establishment_id == establishment_id,
            subscriptions.c.client_id.in_(list(client_ids)),
        )
        .order_by(subscriptions.c.created_at.desc(), subscriptions.c.id.desc())
    )
    return [to_subscription(row) for row in rows]


# -- settlements (B08) ------------------------------------------------------------------


@dataclass(frozen=True)
class SettlementSum:
    from_establishment_id: str
    to_establishment_id: str
    amount: Decimal
    redemptions: int


async def settlement_report(
    conn: AsyncConnection, organization_id: str, start: datetime, end: datetime
) -> list[SettlementSum]:
    """What each establishment owes each other one for gift cards it sold and the other
    redeemed, in [start, end), one row per (from, to) pair."""
    rows = await conn.execute(
        select(
            settlements.c.from_establishment_id,
            settlements.c.to_establishment_id,
            func.sum(settlements.c.amount),
            func.count(),
        )
        .where(
            settlements.c.organization_id == organization_id,
            settlements.c.created_at >= start,
            settlements.c.created_at < end,
        )
        .group_by(settlements.c.from_establishment_id, settlements.c.to_establishment_id)
        .order_by(settlements.c.from_establishment_id, settlements.c.to_establishment_id)
    )
    return [
        SettlementSum(a, b, Decimal(total).quantize(Decimal("0.01")), int(count))
        for a, b, total, count in rows
    ]
