"""B11 in the payments service: what it holds about one client, and the record of the
client's erasure. Every statement filters on the organization."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.db import insert_ignore
from services.common.money import format_amount
from services.payments.store.tables import (
    deposits,
    erased_clients,
    gift_card_transactions,
    gift_cards,
    receipt_lines,
    receipt_payments,
    receipts,
    subscriptions,
)


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else format_amount(value)


def _masked(code: str) -> str:
    """A gift card's code is what pays with it: the export names its last 4 characters."""
    return "…" + code[-4:]


async def record_erasure(
    session: AsyncConnection, organization_id: str, client_id: str, erased_at: datetime
) -> None:
    """Once per client: a redelivery keeps the first time."""
    await insert_ignore(
        session,
        erased_clients,
        {"organization_id": organization_id, "client_id": client_id, "erased_at": erased_at},
    )


async def export(session: AsyncConnection, organization_id: str, client_id: str) -> dict[str, Any]:
    """Receipts with their lines and payments, deposits, gift cards with their
    transactions, subscriptions, and the erasure if any; {} when there is nothing."""
    data: dict[str, Any] = {}
    rows = (
        await session.execute(
            select(receipts)
            .where(receipts.c.organization_id == organization_id, receipts.c.client_id == client_id)
            .order_by(receipts.c.created_at, receipts.c.id)
        )
    ).all()
    if rows:
        ids = [r.id for r in rows]
        lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for line in await session.execute(
            select(receipt_lines)
            .where(
                receipt_lines.c.organization_id == organization_id,
                receipt_lines.c.receipt_id.in_(ids),
            )
            .order_by(receipt_lines.c.receipt_id, receipt_lines.c.position)
        ):
            lines[line.receipt_id].append(
                {
                    "kind": line.kind,
                    "itemId": line.item_id,
                    "description": line.description,
                    "quantity": line.quantity,
                    "unitPrice": _amount(line.unit_price),
                    "total": _amount(line.total),
                }
            )
        payments: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for pay in await session.execute(
            select(receipt_payments)
            .where(
                receipt_payments.c.organization_id == organization_id,
                receipt_payments.c.receipt_id.in_(ids),
            )
            .order_by(receipt_payments.c.receipt_id, receipt_payments.c.position)
        ):
            payments[pay.receipt_id].append(
                {
                    "method": pay.method,
                    "amount": _amount(pay.amount),
                    "giftCardId": pay.gift_card_id,
                    "subscriptionId": pay.subscription_id,
                    "depositId": pay.deposit_id,
                }
            )
        data["receipts"] = [
            {
                "id": r.id,
                "establishmentId": r.establishment_id,
                "number": r.number,
                "appointmentId": r.appointment_id,
                "total": _amount(r.total),
                "createdAt": r.created_at,
                "lines": lines[r.id],
                "payments": payments[r.id],
            }
            for r in rows
        ]
    found = (
        await session.execute(
            select(deposits)
            .where(deposits.c.organization_id == organization_id, deposits.c.client_id == client_id)
            .order_by(deposits.c.created_at, deposits.c.id)
        )
    ).all()
    if found:
        data["deposits"] = [
            {
                "id": d.id,
                "establishmentId": d.establishment_id,
                "appointmentId": d.appointment_id,
                "amount": _amount(d.amount),
                "status": d.status,
                "receiptId": d.receipt_id,
                "createdAt": d.created_at,
            }
            for d in found
        ]
    cards = (
        await session.execute(
            select(gift_cards)
            .where(
                gift_cards.c.organization_id == organization_id,
                gift_cards.c.client_id == client_id,
            )
            .order_by(gift_cards.c.created_at, gift_cards.c.id)
        )
    ).all()
    if cards:
        moves: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for move in await session.execute(
            select(gift_card_transactions)
            .where(
                gift_card_transactions.c.organization_id == organization_id,
                gift_card_transactions.c.gift_card_id.in_([c.id for c in cards]),
            )
            .order_by(gift_card_transactions.c.created_at, gift_card_transactions.c.id)
        ):
            moves[move.gift_card_id].append(
                {
                    "kind": move.kind,
                    "amount": _amount(move.amount),
                    "establishmentId": move.establishment_id,
                    "receiptId": move.receipt_id,
                    "createdAt": move.created_at,
                }
            )
        data["giftCards"] = [
            {
                "id": c.id,
                "code": _masked(c.code),
                "kind": c.kind,
                "establishmentId": c.establishment_id,
                "initialAmount": _amount(c.initial_amount),
                "balance": _amount(c.balance),
                "createdAt": c.created_at,
                "transactions": moves[c.id],
            }
            for c in cards
        ]
    subs = (
        await session.execute(
            select(subscriptions)
            .where(
                subscriptions.c.organization_id == organization_id,
                subscriptions.c.client_id == client_id,
            )
            .order_by(subscriptions.c.created_at, subscriptions.c.id)
        )
    ).all()
    if subs:
        data["subscriptions"] = [
            {
                "id": s.id,
                "establishmentId": s.establishment_id,
                "name": s.name,
                "visits": s.visits,
                "visitsLeft": s.visits_left,
                "price": _amount(s.price),
                "validUntil": s.valid_until,
                "createdAt": s.created_at,
            }
            for s in subs
        ]
    erased_at = (
        await session.execute(
            select(erased_clients.c.erased_at).where(
                erased_clients.c.organization_id == organization_id,
                erased_clients.c.client_id == client_id,
            )
        )
    ).scalar_one_or_none()
    if erased_at is not None:
        data["erasure"] = {
            "erasedAt": erased_at,
            "note": "no name or contact data is kept here; amounts stay for the books",
        }
    return data
