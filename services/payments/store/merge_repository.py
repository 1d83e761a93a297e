"""B07 in the payments service: a merge of two client records re-points the merged id's
deposits, receipts, gift cards and subscriptions to the kept id; amounts, balances and
visits stay as they are. Every statement filters on the organization."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from services.common import client_aliases
from services.payments.store.tables import (
    deposits,
    gift_cards,
    merged_clients,
    receipts,
    subscriptions,
)


async def resolve(conn: AsyncConnection, organization_id: str, client_id: str) -> str:
    """The kept id of a merged client id, else the id itself, holding the id's lock until
    the caller's write transaction ends (see client_aliases)."""
    return await client_aliases.resolve_for_write(conn, merged_clients, organization_id, client_id)


async def resolve_read(conn: AsyncConnection, organization_id: str, client_id: str) -> str:
    return await client_aliases.resolve(conn, merged_clients, organization_id, client_id)


async def merge(
    conn: AsyncConnection, organization_id: str, merged_id: str, kept_id: str, at: datetime
) -> bool:
    """Everything of the merged client is the kept client's, once (False: recorded already,
    or unusable ids)."""
    if not await client_aliases.record_merge(
        conn, merged_clients, organization_id, merged_id, kept_id, at
    ):
        return False
    await client_aliases.repoint(
        conn,
        organization_id,
        merged_id,
        kept_id,
        [
            deposits.c.client_id,
            receipts.c.client_id,
            gift_cards.c.client_id,
            subscriptions.c.client_id,
        ],
    )
    return True
