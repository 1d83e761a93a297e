"""B07: what a service that holds client ids does with a merge of two client records
(`clients.client.merged`, ClientMerged): it re-points the merged id to the kept id in its
tables and remembers the alias, so that a write arriving later with the merged id (an event
published before the merge and delivered after it, a request made with a stale id) lands on
the kept record.

A write that resolves a client id takes the same per-client lock as the merge's handler
(`resolve_for_write`): on PostgreSQL a write racing the handler either commits first (and
the handler's update re-points its row) or sees the alias; SQLite serialises writers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, MetaData, PrimaryKeyConstraint, String, Table, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.db import UTCDateTime, advisory_lock, insert_ignore

LOCK_NAMESPACE = "salon.client_alias"
MAX_CLIENT_ID = 32


def merged_clients_table(metadata: MetaData) -> Table:
    return Table(
        "merged_clients",
        metadata,
        Column("organization_id", String(32), nullable=False),
        Column("merged_id", String(32), nullable=False),
        Column("kept_id", String(32), nullable=False),
        Column("merged_at", UTCDateTime(), nullable=False),
        PrimaryKeyConstraint("organization_id", "merged_id"),
        Index("ix_merged_clients_org_kept", "organization_id", "kept_id"),
    )


def create_merged_clients_table() -> None:
    """For a service's migration: the merged_clients table."""
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "merged_clients",
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("merged_id", sa.String(32), nullable=False),
        sa.Column("kept_id", sa.String(32), nullable=False),
        sa.Column("merged_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "merged_id", name=op.f("pk_merged_clients")),
    )
    op.create_index("ix_merged_clients_org_kept", "merged_clients", ["organization_id", "kept_id"])


async def lock_client(conn: AsyncConnection, organization_id: str, client_id: str) -> None:
    await advisory_lock(conn, LOCK_NAMESPACE, f"{organization_id}:{client_id}")


async def resolve(conn: AsyncConnection, table: Table, organization_id: str, client_id: str) -> str:
    """The id that answers for `client_id`: the kept id of a merged one, else itself."""
    if not client_id:
        return client_id
    kept = (
        await conn.execute(
            select(table.c.kept_id).where(
                table.c.organization_id == organization_id, table.c.merged_id == client_id
            )
        )
    ).scalar_one_or_none()
    return str(kept) if kept else client_id


async def resolve_for_write(
    conn: AsyncConnection, table: Table, organization_id: str, client_id: str
) -> str:
    """resolve(), holding the client's lock until the caller's transaction ends (see the
    module's docstring)."""
    if not client_id:
        return client_id
    await lock_client(conn, organization_id, client_id)
    return await resolve(conn, table, organization_id, client_id)


async def resolve_many(
    conn: AsyncConnection, table: Table, organization_id: str, client_ids: Sequence[str]
) -> dict[str, str]:
    """merged id -> kept id for those of `client_ids` that were merged."""
    if not client_ids:
        return {}
    rows = await conn.execute(
        select(table.c.merged_id, table.c.kept_id).where(
            table.c.organization_id == organization_id, table.c.merged_id.in_(list(client_ids))
        )
    )
    return {str(m): str(k) for m, k in rows}


async def record_merge(
    conn: AsyncConnection,
    table: Table,
    organization_id: str,
    merged_id: str,
    kept_id: str,
    at: datetime,
) -> bool:
    """Remember a merge in the caller's transaction, holding the merged id's lock: the
    alias, and aliases to the merged id now point to the kept id too. False when the ids
    are unusable or this merge was recorded already (then do nothing more)."""
    if (
        not merged_id
        or not kept_id
        or merged_id == kept_id
        or max(len(merged_id), len(kept_id)) > MAX_CLIENT_ID
    ):
        return False
    await lock_client(conn, organization_id, merged_id)
    fresh = await insert_ignore(
        conn,
        table,
        {
            "organization_id": organization_id,
            "merged_id": merged_id,
            "kept_id": kept_id,
            "merged_at": at,
        },
    )
    if not fresh:
        return False
    await conn.execute(
        update(table)
        .where(table.c.organization_id == organization_id, table.c.kept_id == merged_id)
        .values(kept_id=kept_id)
    )
    return True


async def repoint(
    conn: AsyncConnection,
    organization_id: str,
    merged_id: str,
    kept_id: str,
    columns: Sequence[Column[Any]],
) -> None:
    """Every `columns` (client id columns of tables with organization_id) holding the
    merged id now holds the kept id."""
    for column in columns:
        owner: Any = column.table
        await conn.execute(
            update(owner)
            .where(owner.c.organization_id == organization_id, column == merged_id)
            .values({column.name: kept_id})
        )
