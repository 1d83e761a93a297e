"""What a service knows of the organization's establishments, from the gateway's
`tenancy.establishment.created` events (services never read the gateway's tables).

The session establishment of a signed scope is known by construction and remembered on
use, so a service never refuses its own caller's establishment while the event is on
its way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from salon.tenancy.v1 import events_pb2
from services.common.db import UTCDateTime, insert_ignore, utcnow
from services.common.events import Event, EventType
from services.common.scope import Scope

ESTABLISHMENT_CREATED = EventType("tenancy", "establishment", "created")
ORGANIZATION_CREATED = EventType("tenancy", "organization", "created")
MEMBERSHIP_ADDED = EventType("tenancy", "membership", "added")
RIGHTS_CHANGED = EventType("tenancy", "membership", "rights_changed")


def establishments_table(metadata: MetaData) -> Table:
    return Table(
        "known_establishments",
        metadata,
        Column("organization_id", String(32), nullable=False),
        Column("establishment_id", String(32), nullable=False),
        Column("timezone", String(64), nullable=True),
        Column("known_at", UTCDateTime(), nullable=False),
        PrimaryKeyConstraint("organization_id", "establishment_id"),
    )


def create_replica_tables() -> None:
    """For a service's migration: the known_establishments table."""
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "known_establishments",
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=True),
        sa.Column("known_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "establishment_id"),
    )


async def remember(
    conn: AsyncConnection,
    table: Table,
    organization_id: str,
    establishment_id: str,
    timezone: str | None = None,
) -> bool:
    """True when the establishment was new to this service. A timezone given later (the
    event, after the establishment was first seen in a caller's scope) is filled in."""
    new = await insert_ignore(
        conn,
        table,
        {
            "organization_id": organization_id,
            "establishment_id": establishment_id,
            "timezone": timezone,
            "known_at": utcnow(),
        },
    )
    if not new and timezone:
        await conn.execute(
            update(table)
            .where(
                table.c.organization_id == organization_id,
                table.c.establishment_id == establishment_id,
                table.c.timezone.is_(None),
            )
            .values(timezone=timezone)
        )
    return new


async def remember_scope(conn: AsyncConnection, table: Table, scope: Scope) -> bool:
    return await remember(conn, table, scope.organization_id, scope.establishment_id)


async def known(
    conn: AsyncConnection, table: Table, organization_id: str, establishment_id: str
) -> bool:
    row = (
        await conn.execute(
            select(table.c.establishment_id).where(
                table.c.organization_id == organization_id,
                table.c.establishment_id == establishment_id,
            )
        )
    ).first()
    return row is not None


async def establishments_of(
    conn: AsyncConnection, table: Table, organization_id: str
) -> Sequence[str]:
    rows = await conn.execute(
        select(table.c.establishment_id)
        .where(table.c.organization_id == organization_id)
        .order_by(table.c.known_at, table.c.establishment_id)
    )
    return list(rows.scalars())


def on_establishment_created(
    table: Table,
    then: Callable[[AsyncConnection, str, str], Awaitable[None]] | None = None,
) -> Callable[[AsyncConnection, Event], Awaitable[None]]:
    """A consumer handler that records the new establishment, then runs `then(conn,
    organization_id, establishment_id)` in the same transaction (the catalogue copies
    every shared service there, R11)."""

    async def handle(conn: AsyncConnection, event: Event) -> None:
        msg = event.parse(events_pb2.EstablishmentCreated)
        await remember(conn, table, msg.organization_id, msg.establishment_id, msg.timezone)
        if then is not None:
            await then(conn, msg.organization_id, msg.establishment_id)

    return handle


def members_table(metadata: MetaData) -> Table:
    """Who is a member of which establishment (from tenancy.membership.added)."""
    return Table(
        "known_members",
        metadata,
        Column("organization_id", String(32), nullable=False),
        Column("establishment_id", String(32), nullable=False),
        Column("user_id", String(32), nullable=False),
        Column("known_at", UTCDateTime(), nullable=False),
        PrimaryKeyConstraint("organization_id", "establishment_id", "user_id"),
    )


def create_member_tables() -> None:
    """For a service's migration: the known_members table."""
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "known_members",
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("known_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "establishment_id", "user_id"),
    )


async def remember_member(
    conn: AsyncConnection, table: Table, organization_id: str, establishment_id: str, user_id: str
) -> bool:
    return await insert_ignore(
        conn,
        table,
        {
            "organization_id": organization_id,
            "establishment_id": establishment_id,
            "user_id": user_id,
            "known_at": utcnow(),
        },
    )


async def is_member(
    conn: AsyncConnection, table: Table, scope: Scope, establishment_id: str, user_id: str
) -> bool:
    """A member of the establishment: known from the events, or vouched for by the gateway
    in this request's scope (then remembered)."""
    if user_id in scope.verified_members:
        await remember_member(conn, table, scope.organization_id, establishment_id, user_id)
        return True
    row = (
        await conn.execute(
            select(table.c.user_id).where(
                table.c.organization_id == scope.organization_id,
                table.c.establishment_id == establishment_id,
                table.c.user_id == user_id,
            )
        )
    ).first()
    return row is not None


async def members_of(
    conn: AsyncConnection, table: Table, organization_id: str, establishment_id: str
) -> Sequence[str]:
    rows = await conn.execute(
        select(table.c.user_id)
        .where(
            table.c.organization_id == organization_id, table.c.establishment_id == establishment_id
        )
        .order_by(table.c.known_at, table.c.user_id)
    )
    return list(rows.scalars())


def on_membership_added(table: Table) -> Callable[[AsyncConnection, Event], Awaitable[None]]:
    async def handle(conn: AsyncConnection, event: Event) -> None:
        msg = event.parse(events_pb2.MembershipAdded)
        await remember_member(conn, table, msg.organization_id, msg.establishment_id, msg.user_id)

    return handle
