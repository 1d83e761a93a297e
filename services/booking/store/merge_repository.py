"""B07 in the booking service: a merge of two client records re-points the merged id's
appointments, manage links and queued mails to the kept id. Every statement filters on the
organization."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.booking.store.mail_tables import mail_queue
from services.booking.store.tables import appointments, manage_tokens, merged_clients
from services.common import client_aliases


async def resolve(conn: AsyncConnection, organization_id: str, client_id: str) -> str:
    """The kept id of a merged client id, else the id itself (see client_aliases)."""
    return await client_aliases.resolve_for_write(conn, merged_clients, organization_id, client_id)


async def merge(
    conn: AsyncConnection, organization_id: str, merged_id: str, kept_id: str, at: datetime
) -> bool:
    """Re-point the merged client's appointments, queued mails and manage links to the kept
    client, once (False: recorded already, or unusable ids). A manage link is one per client
    per establishment (R26): where both clients have one, the newer one stays, as when a new
    booking issues a new link, and the older stops working."""
    done = await client_aliases.record_merge(
        conn, merged_clients, organization_id, merged_id, kept_id, at
    )
    if not done:
        return False
    tokens = (
        await conn.execute(
            select(
                manage_tokens.c.token_hash,
                manage_tokens.c.establishment_id,
                manage_tokens.c.client_id,
                manage_tokens.c.created_at,
            ).where(
                manage_tokens.c.organization_id == organization_id,
                manage_tokens.c.client_id.in_([merged_id, kept_id]),
            )
        )
    ).all()
    newest: dict[str, tuple[datetime, str]] = {}
    older: list[str] = []
    for token in sorted(tokens, key=lambda t: (t.created_at, t.token_hash)):
        previous = newest.get(token.establishment_id)
        if previous is not None:
            older.append(previous[1])
        newest[token.establishment_id] = (token.created_at, token.token_hash)
    if older:
        await conn.execute(
            delete(manage_tokens).where(
                manage_tokens.c.organization_id == organization_id,
                manage_tokens.c.token_hash.in_(older),
            )
        )
    await client_aliases.repoint(
        conn,
        organization_id,
        merged_id,
        kept_id,
        [appointments.c.client_id, mail_queue.c.client_id, manage_tokens.c.client_id],
    )
    return True
