"""Queries of the client file. Every statement filters on the organization of the scope."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.clients.domain.model import Client, ClientFields, search_text, sort_key
from services.clients.store.tables import client_establishments, clients
from services.common.db import insert_ignore, new_id, utcnow
from services.common.errors import invalid, not_found


def _to_client(row: Any, establishment_ids: list[str]) -> Client:
    return Client(
        id=row.id,
        organization_id=row.organization_id,
        first_name=row.first_name,
        last_name=row.last_name,
        email=row.email,
        phone=row.phone,
        created_in_establishment_id=row.created_in_establishment_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        establishment_ids=establishment_ids,
    )


async def _establishments_of(
    session: AsyncConnection, organization_id: str, ids: Sequence[str]
) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = await session.execute(
        select(client_establishments.c.client_id, client_establishments.c.establishment_id)
        .where(
            client_establishments.c.organization_id == organization_id,
            client_establishments.c.client_id.in_(ids),
        )
        .order_by(client_establishments.c.first_at, client_establishments.c.establishment_id)
    )
    for client_id, establishment_id in rows:
        out[client_id].append(establishment_id)
    return out


async def touch_history(
    session: AsyncConnection, organization_id: str, client_id: str, establishment_id: str
) -> None:
    """Record that the client has history in the establishment (R10)."""
    now = utcnow()
    inserted = await insert_ignore(
        session,
        client_establishments,
        {
            "organization_id": organization_id,
            "client_id": client_id,
            "establishment_id": establishment_id,
            "first_at": now,
            "last_at": now,
        },
    )
    if not inserted:
        await session.execute(
            update(client_establishments)
            .where(
                client_establishments.c.organization_id == organization_id,
                client_establishments.c.client_id == client_id,
                client_establishments.c.establishment_id == establishment_id,
            )
            .values(last_at=now)
        )


async def exists(session: AsyncConnection, organization_id: str, client_id: str) -> bool:
    """Whether the client is one of the organization's."""
    row = (
        await session.execute(
            select(clients.c.id).where(
                clients.c.organization_id == organization_id, clients.c.id == client_id
            )
        )
    ).first()
    return row is not None


async def create(
    session: AsyncConnection, organization_id: str, establishment_id: str, fields: ClientFields
) -> Client:
    assert fields.first_name and fields.last_name
    now = utcnow()
    client_id = new_id()
    await session.execute(
        clients.insert().values(
            id=client_id,
            organization_id=organization_id,
            first_name=fields.first_name,
            last_name=fields.last_name,
            email=fields.email,
            phone=fields.phone,
            sort_key=sort_key(fields.first_name, fields.last_name),
            search_text=search_text(
                fields.first_name, fields.last_name, fields.email, fields.phone
            ),
            created_in_establishment_id=establishment_id,
            created_at=now,
            updated_at=now,
            version=1,
        )
    )
    await touch_history(session, organization_id, client_id, establishment_id)
    return (await get_many(session, organization_id, [client_id]))[0]


async def update_fields(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    client_id: str,
    fields: ClientFields,
) -> tuple[Client, list[str]]:
    """Apply the given fields; returns the client and the names of the fields that changed."""
    row = (
        await session.execute(
            select(clients).where(
                clients.c.organization_id == organization_id, clients.c.id == client_id
            )
        )
    ).one_or_none()
    if row is None:
        raise not_found("client", "id")
    current = {
        "first_name": row.first_name,
        "last_name": row.last_name,
        "email": row.email,
        "phone": row.phone,
    }
    wanted = dict(current)
    for key in current:
        value = getattr(fields, key)
        if value is not None:
            wanted[key] = value or None
    changed = [k for k in current if wanted[k] != current[k]]
    if changed:
        await session.execute(
            update(clients)
            .where(clients.c.organization_id == organization_id, clients.c.id == client_id)
            .values(
                **wanted,
                sort_key=sort_key(wanted["first_name"], wanted["last_name"]),
                search_text=search_text(
                    wanted["first_name"], wanted["last_name"], wanted["email"], wanted["phone"]
                ),
                updated_at=utcnow(),
                version=clients.c.version + 1,
            )
        )
        await touch_history(session, organization_id, client_id, establishment_id)
    return (await get_many(session, organization_id, [client_id]))[0], changed


async def get_many(
    session: AsyncConnection, organization_id: str, ids: Sequence[str]
) -> list[Client]:
    """The clients of this organization among `ids`, in the order asked; others left out."""
    unique = list(dict.fromkeys(ids))
    if not unique:
        return []
    rows = (
        await session.execute(
            select(clients).where(
                clients.c.organization_id == organization_id, clients.c.id.in_(unique)
            )
        )
    ).all()
    history = await _establishments_of(session, organization_id, [r.id for r in rows])
    by_id = {r.id: _to_client(r, history[r.id]) for r in rows}
    return [by_id[i] for i in unique if i in by_id]


@dataclass
class Page:
    clients: list[Client]
    cursors: list[str]
    has_next_page: bool
    total_count: int


def encode_cursor(sort: str, client_id: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([sort, client_id])).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        sort, client_id = orjson.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(sort, str) or not isinstance(client_id, str):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise invalid("after", "is not a cursor of this list") from exc
    return sort, client_id


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def list_page(
    session: AsyncConnection,
    organization_id: str,
    *,
    first: int,
    after: str | None,
    terms: Sequence[str],
    establishment_id: str | None,
) -> Page:
    conditions: list[Any] = [clients.c.organization_id == organization_id]
    for term in terms:
        conditions.append(clients.c.search_text.like(_like(term), escape="\\"))
    if establishment_id:
        conditions.append(
            clients.c.id.in_(
                select(client_establishments.c.client_id).where(
                    client_establishments.c.organization_id == organization_id,
                    client_establishments.c.establishment_id == establishment_id,
                )
            )
        )
    total = (
        await session.execute(select(func.count()).select_from(clients).where(and_(*conditions)))
    ).scalar_one()
    query = select(clients).where(*conditions)
    if after:
        sort, last_id = decode_cursor(after)
        query = query.where(
            or_(clients.c.sort_key > sort, and_(clients.c.sort_key == sort, clients.c.id > last_id))
        )
    rows = (
        await session.execute(query.order_by(clients.c.sort_key, clients.c.id).limit(first + 1))
    ).all()
    page_rows = rows[:first]
    history = await _establishments_of(session, organization_id, [r.id for r in page_rows])
    return Page(
        clients=[_to_client(r, history[r.id]) for r in page_rows],
        cursors=[encode_cursor(r.sort_key, r.id) for r in page_rows],
        has_next_page=len(rows) > first,
        total_count=int(total),
    )


async def find_by_email(
    session: AsyncConnection, organization_id: str, email: str
) -> Client | None:
    """The oldest client of the organization with this e-mail, case-insensitively."""
    row = (
        await session.execute(
            select(clients.c.id)
            .where(
                clients.c.organization_id == organization_id,
                func.lower(clients.c.email) == email.strip().lower(),
            )
            .order_by(clients.c.created_at, clients.c.id)
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    return (await get_many(session, organization_id, [row.id]))[0]
