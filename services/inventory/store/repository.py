"""Queries of stock per establishment. Every statement filters on the organization of the
scope, and on the establishment the request acts on.

Concurrency: a level changes only through one conditional atomic update
(``quantity = quantity + delta WHERE ... AND quantity + delta >= 0``). On PostgreSQL a
concurrent update of the same row waits for the row lock and re-checks the condition on
the committed value; on SQLite writes are serialized. Either way no interleaving can take a
level below zero, and a change that would is refused without writing anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.db import insert_ignore, new_id, utcnow
from services.common.errors import DomainError, ErrorCode
from services.inventory.domain.model import (
    MAX_LEVEL,
    Reason,
    StockChange,
    StockLevel,
    StockMovement,
    Transfer,
    above_max_level,
    out_of_stock,
)
from services.inventory.store.tables import stock_idempotency, stock_levels, stock_movements


def _to_movement(row: Any) -> StockMovement:
    return StockMovement(
        id=row.id,
        product_id=row.product_id,
        establishment_id=row.establishment_id,
        delta=row.delta,
        reason=Reason(row.reason),
        user_id=row.user_id,
        at=row.at,
        transfer_id=row.transfer_id,
    )


async def claim_idempotency_key(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    key: str,
    request_hash: str,
) -> bytes | None:
    """Take the key for this request, in the caller's write transaction.

    None: the key is new, the caller applies the change and stores its response
    (:func:`store_idempotent_response`) before committing. Bytes: the response stored by
    the request that took the key first, to be answered again without applying anything.
    A concurrent request with the same key waits here (PostgreSQL: on the uncommitted
    row; SQLite: on the writer) until the first one commits or rolls back, so one key
    applies once.
    """
    now = utcnow()
    taken = await insert_ignore(
        session,
        stock_idempotency,
        {
            "organization_id": organization_id,
            "establishment_id": establishment_id,
            "key": key,
            "request_hash": request_hash,
            "response": None,
            "created_at": now,
        },
    )
    if taken:
        return None
    row = (
        await session.execute(
            select(stock_idempotency.c.request_hash, stock_idempotency.c.response).where(
                stock_idempotency.c.organization_id == organization_id,
                stock_idempotency.c.establishment_id == establishment_id,
                stock_idempotency.c.key == key,
            )
        )
    ).one()
    if row.request_hash != request_hash:
        raise DomainError(
            ErrorCode.CONFLICT,
            "this idempotency key was used for another request in this establishment",
            "idempotencyKey",
        )
    # The first request stores its response in the transaction that took the key.
    assert row.response is not None
    return bytes(row.response)


async def store_idempotent_response(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    key: str,
    response: bytes,
) -> None:
    await session.execute(
        update(stock_idempotency)
        .where(
            stock_idempotency.c.organization_id == organization_id,
            stock_idempotency.c.establishment_id == establishment_id,
            stock_idempotency.c.key == key,
        )
        .values(response=response)
    )


async def change_stock(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    product_id: str,
    delta: int,
    reason: Reason,
    user_id: str | None,
    *,
    transfer_id: str | None = None,
    field: str = "delta",
) -> StockChange:
    """Apply `delta` to one level and record the movement, or raise OUT_OF_STOCK (on
    `field`) when the level would go below zero (INVALID above MAX_LEVEL); then the
    caller's transaction rolls back and nothing is written."""
    now = utcnow()
    await insert_ignore(
        session,
        stock_levels,
        {
            "organization_id": organization_id,
            "establishment_id": establishment_id,
            "product_id": product_id,
            "quantity": 0,
            "updated_at": now,
        },
    )
    quantity = (
        await session.execute(
            update(stock_levels)
            .where(
                stock_levels.c.organization_id == organization_id,
                stock_levels.c.establishment_id == establishment_id,
                stock_levels.c.product_id == product_id,
                stock_levels.c.quantity + delta >= 0,
                stock_levels.c.quantity + delta <= MAX_LEVEL,
            )
            .values(quantity=stock_levels.c.quantity + delta, updated_at=now)
            .returning(stock_levels.c.quantity)
        )
    ).scalar_one_or_none()
    if quantity is None:
        # The level exists (inserted above if it did not), so the condition failed: a
        # removal would go below zero, an addition above the highest level.
        raise out_of_stock(field) if delta < 0 else above_max_level(field)
    movement = StockMovement(
        id=new_id(),
        product_id=product_id,
        establishment_id=establishment_id,
        delta=delta,
        reason=reason,
        user_id=user_id,
        at=now,
        transfer_id=transfer_id,
    )
    await session.execute(
        stock_movements.insert().values(
            id=movement.id,
            organization_id=organization_id,
            establishment_id=establishment_id,
            product_id=product_id,
            delta=delta,
            reason=reason.value,
            user_id=user_id,
            at=now,
            transfer_id=transfer_id,
        )
    )
    return StockChange(StockLevel(product_id, establishment_id, int(quantity)), movement)


async def transfer(
    session: AsyncConnection,
    organization_id: str,
    from_establishment_id: str,
    to_establishment_id: str,
    product_id: str,
    quantity: int,
    user_id: str | None,
) -> Transfer:
    """Both sides in the caller's transaction (B02): the sender's conditional decrement
    and the receiver's increment, two movements sharing one transfer id. When the sender
    lacks stock, OUT_OF_STOCK on "quantity" and the transaction rolls back: neither side.

    The two levels are locked in establishment-id order, whatever the direction, so that
    a transfer A to B racing one B to A on PostgreSQL waits instead of deadlocking.
    """
    transfer_id = new_id()
    sides = {
        from_establishment_id: (-quantity, Reason.TRANSFER_OUT),
        to_establishment_id: (quantity, Reason.TRANSFER_IN),
    }
    changes: dict[str, StockChange] = {}
    for establishment_id in sorted(sides):
        delta, reason = sides[establishment_id]
        changes[establishment_id] = await change_stock(
            session,
            organization_id,
            establishment_id,
            product_id,
            delta,
            reason,
            user_id,
            transfer_id=transfer_id,
            field="quantity",
        )
    return Transfer(
        id=transfer_id,
        sent=changes[from_establishment_id],
        received=changes[to_establishment_id],
    )


async def get_levels(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    product_ids: Sequence[str],
) -> list[StockLevel]:
    """The level of every product asked, in the order asked; 0 when never stocked."""
    if not product_ids:
        return []
    rows = await session.execute(
        select(stock_levels.c.product_id, stock_levels.c.quantity).where(
            stock_levels.c.organization_id == organization_id,
            stock_levels.c.establishment_id == establishment_id,
            stock_levels.c.product_id.in_(product_ids),
        )
    )
    found = {product_id: int(quantity) for product_id, quantity in rows}
    return [StockLevel(p, establishment_id, found.get(p, 0)) for p in product_ids]


async def list_movements(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    product_id: str,
    limit: int,
) -> list[StockMovement]:
    """Newest first."""
    rows = await session.execute(
        select(stock_movements)
        .where(
            stock_movements.c.organization_id == organization_id,
            stock_movements.c.establishment_id == establishment_id,
            stock_movements.c.product_id == product_id,
        )
        .order_by(stock_movements.c.at.desc(), stock_movements.c.id.desc())
        .limit(limit)
    )
    return [_to_movement(r) for r in rows]


async def movement_total(
    session: AsyncConnection, organization_id: str, establishment_id: str, product_id: str
) -> int:
    """The sum of every movement of a level: what the level must equal."""
    total = (
        await session.execute(
            select(func.coalesce(func.sum(stock_movements.c.delta), 0)).where(
                stock_movements.c.organization_id == organization_id,
                stock_movements.c.establishment_id == establishment_id,
                stock_movements.c.product_id == product_id,
            )
        )
    ).scalar_one()
    return int(total)
