"""Queries of deposits. Every statement filters on the organization of the scope.

Concurrency: one deposit per appointment is the (organization_id, appointment_id) unique
constraint's, not a read-then-write. A deposit is inserted with ON CONFLICT DO NOTHING; on
PostgreSQL a concurrent insert for the same appointment waits for the first transaction
and then inserts nothing, and the winner is read back (READ COMMITTED sees it); on SQLite
writes are serialized. Either way exactly one deposit is written per appointment.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.db import insert_ignore, new_id, utcnow
from services.payments.domain.model import Deposit, DepositStatus, check_repeat
from services.payments.store import merge_repository
from services.payments.store.tables import deposits


def _to_deposit(row: Any) -> Deposit:
    return Deposit(
        id=row.id,
        appointment_id=row.appointment_id,
        client_id=row.client_id,
        establishment_id=row.establishment_id,
        amount=Decimal(row.amount),
        status=DepositStatus(row.status),
        created_at=row.created_at,
        receipt_id=row.receipt_id or "",
    )


to_deposit = _to_deposit


async def record_deposit(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    appointment_id: str,
    client_id: str,
    amount: Decimal,
    status: DepositStatus = DepositStatus.PAID,
) -> tuple[Deposit, bool]:
    """The appointment's deposit and True when this call wrote it, in the caller's write
    transaction. When the appointment already has one, that deposit and False if the
    request is the same (a retry), CONFLICT otherwise (see model.check_repeat).

    ``status``: PENDING when the establishment's payment provider will collect it (R32),
    PAID when there is none (the deposit counts as paid on booking)."""
    # B07: a client id merged meanwhile lands on the kept record.
    client_id = await merge_repository.resolve(session, organization_id, client_id)
    deposit = Deposit(
        id=new_id(),
        appointment_id=appointment_id,
        client_id=client_id,
        establishment_id=establishment_id,
        amount=amount,
        status=status,
        created_at=utcnow(),
    )
    inserted = await insert_ignore(
        session,
        deposits,
        {
            "id": deposit.id,
            "organization_id": organization_id,
            "establishment_id": deposit.establishment_id,
            "appointment_id": deposit.appointment_id,
            "client_id": deposit.client_id,
            "amount": deposit.amount,
            "status": deposit.status.value,
            "created_at": deposit.created_at,
        },
    )
    if inserted:
        return deposit, True
    row = (
        await session.execute(
            select(deposits).where(
                deposits.c.organization_id == organization_id,
                deposits.c.appointment_id == appointment_id,
            )
        )
    ).one()
    return check_repeat(_to_deposit(row), client_id, establishment_id, amount), False


async def get_by_appointments(
    session: AsyncConnection, organization_id: str, appointment_ids: Sequence[str]
) -> list[Deposit]:
    """The deposits of the appointments asked that have one, in the order asked, whatever
    their establishment."""
    if not appointment_ids:
        return []
    rows = await session.execute(
        select(deposits).where(
            deposits.c.organization_id == organization_id,
            deposits.c.appointment_id.in_(appointment_ids),
        )
    )
    found = {row.appointment_id: _to_deposit(row) for row in rows}
    return [found[a] for a in appointment_ids if a in found]


async def list_client_deposits(
    session: AsyncConnection, organization_id: str, establishment_id: str, client_ids: Sequence[str]
) -> list[Deposit]:
    """Clients' deposits for appointments of one establishment (R17), newest first."""
    rows = await session.execute(
        select(deposits)
        .where(
            deposits.c.organization_id == organization_id,
            deposits.c.establishment_id == establishment_id,
            deposits.c.client_id.in_(list(client_ids)),
        )
        .order_by(deposits.c.created_at.desc(), deposits.c.id.desc())
    )
    return [_to_deposit(r) for r in rows]
