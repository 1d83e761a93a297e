"""Queries of stock per establishment. Every statement filters on the organization of the
scope, and on the establishment the request acts on.

Concurrency: a level changes only through one conditional atomic update
(``quantity = quantity + delta WHERE ... AND quantity + delta >= 0``). On PostgreSQL a
concurrent update of the same row waits for the row lock and re-checks the condition on
the committed value; on SQLite writes are serialized. Either way no interleaving can take a
level below zero, and a change that would is refused without writing anything.

Stock reservations move between HELD, RELEASED and COMMITTED by conditional updates on
their status (``... WHERE status = 'HELD'``), so a release racing the receipt's commit
ends in exactly one of them, and the first ReserveStock of an id claims it with an insert
that a concurrent one waits on (the primary key), so one id takes stock once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.db import insert_ignore, new_id, utcnow
from services.common.errors import DomainError, ErrorCode
from services.inventory.domain.model import (
    MAX_LEVEL,
    Reason,
    Release,
    Reservation,
    ReservationStatus,
    StockChange,
    StockLevel,
    StockMovement,
    Transfer,
    above_max_level,
    line_out_of_stock,
    out_of_stock,
    reservation_committed,
)
from services.inventory.store.tables import (
    stock_idempotency,
    stock_levels,
    stock_movements,
    stock_reservations,
)


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
        reservation_id=row.reservation_id,
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
    reservation_id: str | None = None,
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
        reservation_id=reservation_id,
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
            reservation_id=reservation_id,
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


# -- stock reservations (R20, R28) --------------------------------------------------------


def _reservation_key(organization_id: str, establishment_id: str, reservation_id: str) -> list[Any]:
    return [
        stock_reservations.c.organization_id == organization_id,
        stock_reservations.c.establishment_id == establishment_id,
        stock_reservations.c.id == reservation_id,
    ]


async def get_reservation(
    session: AsyncConnection, organization_id: str, establishment_id: str, reservation_id: str
) -> Reservation | None:
    """The reservation with its lines (the units of each product its SALE movements took),
    or None: never reserved nor released in this organization and establishment."""
    row = (
        await session.execute(
            select(stock_reservations.c.status, stock_reservations.c.response).where(
                *_reservation_key(organization_id, establishment_id, reservation_id)
            )
        )
    ).first()
    if row is None:
        return None
    taken = await session.execute(
        select(stock_movements.c.product_id, func.sum(stock_movements.c.delta))
        .where(
            stock_movements.c.organization_id == organization_id,
            stock_movements.c.establishment_id == establishment_id,
            stock_movements.c.reservation_id == reservation_id,
        )
        .group_by(stock_movements.c.product_id)
    )
    return Reservation(
        id=reservation_id,
        establishment_id=establishment_id,
        status=ReservationStatus(row.status),
        lines={product_id: -int(delta) for product_id, delta in taken},
        response=None if row.response is None else bytes(row.response),
    )


async def claim_reservation(
    session: AsyncConnection, organization_id: str, establishment_id: str, reservation_id: str
) -> bool:
    """Insert the reservation HELD, in the caller's write transaction; False when the id is
    taken already (reserved, or released). A concurrent claim of the same id waits here
    (PostgreSQL: on the uncommitted key; SQLite: on the writer) until the first commits,
    then finds it, or rolls back (out of stock), then claims it itself."""
    now = utcnow()
    return await insert_ignore(
        session,
        stock_reservations,
        {
            "organization_id": organization_id,
            "establishment_id": establishment_id,
            "id": reservation_id,
            "status": ReservationStatus.HELD.value,
            "response": None,
            "created_at": now,
            "updated_at": now,
        },
    )


async def reserve(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    reservation_id: str,
    lines: Mapping[str, int],
    user_id: str | None,
) -> list[StockChange]:
    """Take every line out of stock as a SALE movement carrying the reservation id, in the
    caller's write transaction (the reservation claimed first). One line short:
    OUT_OF_STOCK naming its product, and the caller's transaction rolls back, taking the
    lines already applied with it: every line or none. Levels are changed in product-id
    order, so two reservations of the same products on PostgreSQL wait for each other
    instead of deadlocking. The changes come back in the order of `lines`."""
    changes: dict[str, StockChange] = {}
    for product_id in sorted(lines):
        try:
            changes[product_id] = await change_stock(
                session,
                organization_id,
                establishment_id,
                product_id,
                -lines[product_id],
                Reason.SALE,
                user_id,
                reservation_id=reservation_id,
                field=product_id,
            )
        except DomainError as exc:
            if exc.code is ErrorCode.OUT_OF_STOCK:
                raise line_out_of_stock(product_id) from None
            raise
    return [changes[product_id] for product_id in lines]


async def store_reservation_response(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    reservation_id: str,
    response: bytes,
) -> None:
    await session.execute(
        update(stock_reservations)
        .where(*_reservation_key(organization_id, establishment_id, reservation_id))
        .values(response=response)
    )


async def _put_back(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    reservation_id: str,
    now: datetime,
) -> list[StockLevel]:
    """Every unit the reservation's movements took goes back to its level, and the
    movements are deleted (the sale never happened). Levels in product-id order."""
    in_reservation = [
        stock_movements.c.organization_id == organization_id,
        stock_movements.c.establishment_id == establishment_id,
        stock_movements.c.reservation_id == reservation_id,
    ]
    taken = (
        await session.execute(
            select(stock_movements.c.product_id, func.sum(stock_movements.c.delta))
            .where(*in_reservation)
            .group_by(stock_movements.c.product_id)
            .order_by(stock_movements.c.product_id)
        )
    ).all()
    levels: list[StockLevel] = []
    for product_id, delta in taken:
        quantity = (
            await session.execute(
                update(stock_levels)
                .where(
                    stock_levels.c.organization_id == organization_id,
                    stock_levels.c.establishment_id == establishment_id,
                    stock_levels.c.product_id == product_id,
                )
                .values(quantity=stock_levels.c.quantity - int(delta), updated_at=now)
                .returning(stock_levels.c.quantity)
            )
        ).scalar_one()
        levels.append(StockLevel(product_id, establishment_id, int(quantity)))
    await session.execute(delete(stock_movements).where(*in_reservation))
    return levels


async def release(
    session: AsyncConnection, organization_id: str, establishment_id: str, reservation_id: str
) -> Release:
    """The saga's compensation, in the caller's write transaction. HELD: every unit back,
    the movements deleted, RELEASED (released). RELEASED already: nothing (not released
    by this call). Unknown here: a RELEASED row without movements is left (a tombstone:
    a late ReserveStock with the id is refused). COMMITTED: CONFLICT, nothing changes.

    A ReserveStock of the same id committing meanwhile (PostgreSQL) makes the tombstone's
    insert wait and then find its row: the loop looks again and releases it."""
    for _attempt in range(2):
        now = utcnow()
        held = (
            await session.execute(
                update(stock_reservations)
                .where(
                    *_reservation_key(organization_id, establishment_id, reservation_id),
                    stock_reservations.c.status == ReservationStatus.HELD.value,
                )
                .values(status=ReservationStatus.RELEASED.value, updated_at=now)
                .returning(stock_reservations.c.id)
            )
        ).first()
        if held is not None:
            levels = await _put_back(
                session, organization_id, establishment_id, reservation_id, now
            )
            return Release(ReservationStatus.RELEASED, True, levels)
        status = await reservation_status(
            session, organization_id, establishment_id, reservation_id
        )
        if status is ReservationStatus.COMMITTED:
            raise reservation_committed()
        if status is ReservationStatus.RELEASED:
            return Release(ReservationStatus.RELEASED, False)
        if status is None and await insert_ignore(
            session,
            stock_reservations,
            {
                "organization_id": organization_id,
                "establishment_id": establishment_id,
                "id": reservation_id,
                "status": ReservationStatus.RELEASED.value,
                "response": None,
                "created_at": now,
                "updated_at": now,
            },
        ):
            return Release(ReservationStatus.RELEASED, False)
    raise DomainError(
        ErrorCode.CONFLICT, "the reservation changed meanwhile, try again", "reservationId"
    )


async def reservation_status(
    session: AsyncConnection, organization_id: str, establishment_id: str, reservation_id: str
) -> ReservationStatus | None:
    status = (
        await session.execute(
            select(stock_reservations.c.status).where(
                *_reservation_key(organization_id, establishment_id, reservation_id)
            )
        )
    ).scalar_one_or_none()
    return None if status is None else ReservationStatus(status)


async def commit(
    session: AsyncConnection, organization_id: str, establishment_id: str, reservation_id: str
) -> tuple[ReservationStatus | None, bool]:
    """HELD to COMMITTED (the receipt exists), in the caller's write transaction: the
    status after the call (None: unknown here) and whether this call committed it. A
    committed or released reservation stays as it is."""
    committed = (
        await session.execute(
            update(stock_reservations)
            .where(
                *_reservation_key(organization_id, establishment_id, reservation_id),
                stock_reservations.c.status == ReservationStatus.HELD.value,
            )
            .values(status=ReservationStatus.COMMITTED.value, updated_at=utcnow())
            .returning(stock_reservations.c.id)
        )
    ).first()
    if committed is not None:
        return ReservationStatus.COMMITTED, True
    return (
        await reservation_status(session, organization_id, establishment_id, reservation_id),
        False,
    )
