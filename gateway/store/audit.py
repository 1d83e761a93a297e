"""The audit log (B04) in the gateway's database: written from the events of every part,
read per establishment or for the whole organization, newest first. Every read filters on
the caller's organization (R01)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.tables import audit_entries
from services.common.db import insert_ignore

MAX_ENTRIES = 100


@dataclass(frozen=True)
class AuditEntry:
    event_id: str
    organization_id: str
    establishment_id: str | None
    user_id: str | None
    action: str
    subject: str
    at: datetime


async def record(conn: AsyncConnection, entry: AuditEntry) -> bool:
    """Write one entry; False when its event was recorded already."""
    return await insert_ignore(
        conn,
        audit_entries,
        {
            "organization_id": entry.organization_id,
            "event_id": entry.event_id,
            "establishment_id": entry.establishment_id,
            "user_id": entry.user_id,
            "action": entry.action[:120],
            "subject": entry.subject[:250],
            "at": entry.at,
        },
    )


def _newest(query: Select[tuple[object, ...]], limit: int) -> Select[tuple[object, ...]]:
    return query.order_by(audit_entries.c.at.desc(), audit_entries.c.event_id.desc()).limit(limit)


async def entries(
    conn: AsyncConnection,
    organization_id: str,
    establishment_id: str | None,
    limit: int,
) -> list[AuditEntry]:
    """The newest `limit` entries of one establishment, with the organization-level ones
    (changes to what every establishment shares); `establishment_id=None`: the whole
    organization."""
    limit = max(1, min(limit, MAX_ENTRIES))
    base = select(audit_entries).where(audit_entries.c.organization_id == organization_id)
    if establishment_id is None:
        queries = [_newest(base, limit)]
    else:
        # Two index range scans, (organization, establishment, at) each, merged here: an
        # OR with IS NULL would read the whole organization.
        queries = [
            _newest(base.where(audit_entries.c.establishment_id == establishment_id), limit),
            _newest(base.where(audit_entries.c.establishment_id.is_(None)), limit),
        ]
    rows = [row for query in queries for row in (await conn.execute(query)).mappings()]
    rows.sort(key=lambda r: (r["at"], r["event_id"]), reverse=True)
    return [
        AuditEntry(
            event_id=r["event_id"],
            organization_id=r["organization_id"],
            establishment_id=r["establishment_id"],
            user_id=r["user_id"],
            action=r["action"],
            subject=r["subject"],
            at=r["at"],
        )
        for r in rows[:limit]
    ]
