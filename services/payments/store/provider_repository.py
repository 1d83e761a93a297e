"""Queries of terminals (R31), provider connections and provider payments (R32), and the
deposit updates a provider payment decides. Every statement filters on the organization.

Concurrency: a terminal is one row per (organization, establishment, serial) (insert
ignoring a twin, then an update of the name: two concurrent assignments leave one row); a
connection one row per establishment (the same: the last connect wins); a deposit changes
status only by a conditional UPDATE from PENDING, so two refreshes of one paid payment pay
it once.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.db import insert_ignore, new_id, utcnow
from services.payments.domain.model import Deposit, DepositStatus
from services.payments.provider.model import Connection, Terminal
from services.payments.store.provider_tables import (
    payment_terminals,
    provider_connections,
    provider_payments,
)
from services.payments.store.tables import deposits


def _terminal(row: Any) -> Terminal:
    return Terminal(
        id=row.id, serial=row.serial, name=row.name, establishment_id=row.establishment_id
    )


async def assign_terminal(
    conn: AsyncConnection, organization_id: str, establishment_id: str, serial: str, name: str
) -> tuple[Terminal, bool]:
    """The establishment's terminal with this serial, named `name`; True when this call
    assigned it or renamed it (False: it was already so, nothing written)."""
    now = utcnow()
    inserted = await insert_ignore(
        conn,
        payment_terminals,
        {
            "id": new_id(),
            "organization_id": organization_id,
            "establishment_id": establishment_id,
            "serial": serial,
            "name": name,
            "created_at": now,
            "updated_at": now,
        },
    )
    mine = (
        (payment_terminals.c.organization_id == organization_id)
        & (payment_terminals.c.establishment_id == establishment_id)
        & (payment_terminals.c.serial == serial)
    )
    renamed = False
    if not inserted:
        result = await conn.execute(
            update(payment_terminals)
            .where(mine, payment_terminals.c.name != name)
            .values(name=name, updated_at=now)
        )
        renamed = bool(result.rowcount)  # type: ignore[attr-defined]
    row = (await conn.execute(select(payment_terminals).where(mine))).one()
    return _terminal(row), inserted or renamed


async def list_terminals(
    conn: AsyncConnection, organization_id: str, establishment_id: str
) -> list[Terminal]:
    rows = await conn.execute(
        select(payment_terminals)
        .where(
            payment_terminals.c.organization_id == organization_id,
            payment_terminals.c.establishment_id == establishment_id,
        )
        .order_by(payment_terminals.c.serial)
    )
    return [_terminal(r) for r in rows]


async def get_connection(
    conn: AsyncConnection, organization_id: str, establishment_id: str
) -> Connection | None:
    row = (
        await conn.execute(
            select(provider_connections).where(
                provider_connections.c.organization_id == organization_id,
                provider_connections.c.establishment_id == establishment_id,
            )
        )
    ).first()
    if row is None:
        return None
    return Connection(
        establishment_id=row.establishment_id,
        provider=row.provider,
        account_id=row.account_id,
        api_key_encrypted=row.api_key_encrypted,
        connected_at=row.connected_at,
    )


async def save_connection(
    conn: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    provider: str,
    account_id: str,
    api_key_encrypted: str,
) -> Connection:
    """Connect the establishment, replacing a connection it had (another account or key)."""
    now = utcnow()
    values = {
        "provider": provider,
        "account_id": account_id,
        "api_key_encrypted": api_key_encrypted,
        "connected_at": now,
        "updated_at": now,
    }
    if not await insert_ignore(
        conn,
        provider_connections,
        {"organization_id": organization_id, "establishment_id": establishment_id, **values},
    ):
        await conn.execute(
            update(provider_connections)
            .where(
                provider_connections.c.organization_id == organization_id,
                provider_connections.c.establishment_id == establishment_id,
            )
            .values(**values)
        )
    return Connection(establishment_id, provider, account_id, api_key_encrypted, now)


async def record_provider_payment(
    conn: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    provider: str,
    payment_id: str,
    deposit_id: str,
    status: str,
    checkout_url: str,
) -> None:
    now = utcnow()
    await insert_ignore(
        conn,
        provider_payments,
        {
            "organization_id": organization_id,
            "payment_id": payment_id,
            "establishment_id": establishment_id,
            "provider": provider,
            "deposit_id": deposit_id,
            "status": status,
            "checkout_url": checkout_url,
            "created_at": now,
            "updated_at": now,
        },
    )


async def get_provider_payment(
    conn: AsyncConnection, organization_id: str, provider: str, payment_id: str
) -> Any | None:
    """The row (establishment_id, deposit_id, status, checkout_url...) or None."""
    return (
        await conn.execute(
            select(provider_payments).where(
                provider_payments.c.organization_id == organization_id,
                provider_payments.c.provider == provider,
                provider_payments.c.payment_id == payment_id,
            )
        )
    ).first()


async def update_provider_payment(
    conn: AsyncConnection, organization_id: str, payment_id: str, status: str, checkout_url: str
) -> None:
    await conn.execute(
        update(provider_payments)
        .where(
            provider_payments.c.organization_id == organization_id,
            provider_payments.c.payment_id == payment_id,
        )
        .values(status=status, checkout_url=checkout_url, updated_at=utcnow())
    )


async def checkout_urls(
    conn: AsyncConnection, organization_id: str, deposit_ids: Sequence[str]
) -> dict[str, str]:
    """Where each PENDING deposit asked is paid (its latest provider payment's checkout
    URL); deposits without one are left out. One query for the whole batch."""
    if not deposit_ids:
        return {}
    rows = await conn.execute(
        select(provider_payments.c.deposit_id, provider_payments.c.checkout_url)
        .select_from(
            provider_payments.join(
                deposits,
                (deposits.c.organization_id == provider_payments.c.organization_id)
                & (deposits.c.id == provider_payments.c.deposit_id),
            )
        )
        .where(
            provider_payments.c.organization_id == organization_id,
            provider_payments.c.deposit_id.in_(list(deposit_ids)),
            deposits.c.status == DepositStatus.PENDING.value,
            provider_payments.c.checkout_url != "",
        )
        .order_by(provider_payments.c.created_at)
    )
    return {row.deposit_id: row.checkout_url for row in rows}


def _deposit(row: Any) -> Deposit:
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


async def get_deposit(conn: AsyncConnection, organization_id: str, deposit_id: str) -> Deposit:
    row = (
        await conn.execute(
            select(deposits).where(
                deposits.c.organization_id == organization_id, deposits.c.id == deposit_id
            )
        )
    ).one()
    return _deposit(row)


async def settle_deposit(
    conn: AsyncConnection, organization_id: str, deposit_id: str, status: DepositStatus
) -> bool:
    """PENDING → `status` (PAID or FAILED); True when this call changed it. A deposit
    already paid, failed or applied stays as it is."""
    result = await conn.execute(
        update(deposits)
        .where(
            deposits.c.organization_id == organization_id,
            deposits.c.id == deposit_id,
            deposits.c.status == DepositStatus.PENDING.value,
        )
        .values(status=status.value)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
