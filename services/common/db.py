"""Async SQLAlchemy 2 set-up shared by every service (SQLite by default, PostgreSQL by URL).

Writes are serialized on SQLite (one writer connection, ``BEGIN IMMEDIATE``) so that a
read-then-write transaction can never interleave with another one; PostgreSQL gets a
normal pool and the services use row locks and conditional updates where they race.

On PostgreSQL every transaction starts by telling row-level security whose rows it may see
(services/common/rls.py): the organization of the verified scope of the call under way, or
the one given by name (a consumer gives its event's organization), or, for the few jobs
that span organizations, ``across_organizations=True``. Without any of them a transaction
sees no tenant row. ``grep -rn across_organizations=True`` lists every such job.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, Table, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.types import TypeDecorator

from services.common import rls, tracing
from services.common.scope import current_scope_or_none

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING)


def new_id() -> str:
    """Opaque ids: 32 hex characters, safe in NATS subjects and URLs."""
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_connect_args(engine: AsyncEngine, immediate: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so that BEGIN is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """One service's database: a writer and a reader session factory."""

    def __init__(self, url: str, pool_size: int = 10, echo: bool = False) -> None:
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            self.write_engine = create_async_engine(url, echo=echo, pool_size=1, max_overflow=0)
            self.read_engine = create_async_engine(url, echo=echo, pool_size=pool_size)
            _sqlite_connect_args(self.write_engine, immediate=True)
            _sqlite_connect_args(self.read_engine, immediate=False)
        else:
            self.write_engine = create_async_engine(
                url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )
            self.read_engine = self.write_engine

    # Core connections, not ORM sessions: the services speak SQL expressions, and the ORM
    # session's bookkeeping cost a third of a list call (measured with cProfile).
    @asynccontextmanager
    async def write(
        self, *, organization_id: str | None = None, across_organizations: bool = False
    ) -> AsyncIterator[AsyncConnection]:
        """A write transaction: committed on success, rolled back on any exception.

        It sees the rows of one organization: `organization_id`, or else the verified
        scope's; `across_organizations=True` is for the named jobs that span them. Inside
        a trace (tracing on), a span from waiting for the connection to the commit."""
        tenant = _tenant(organization_id, across_organizations)
        if not tracing.enabled():
            async with self.write_engine.begin() as conn:
                await self._set_tenant(conn, tenant)
                yield conn
            return
        with tracing.span("db write", attributes=self._span_attributes, only_in_trace=True):
            async with self.write_engine.begin() as conn:
                await self._set_tenant(conn, tenant)
                yield conn

    @asynccontextmanager
    async def read(
        self, *, organization_id: str | None = None, across_organizations: bool = False
    ) -> AsyncIterator[AsyncConnection]:
        """A read transaction: every statement in it sees the same data on SQLite. Whose
        rows it sees: as :meth:`write`."""
        tenant = _tenant(organization_id, across_organizations)
        if not tracing.enabled():
            async with self.read_engine.begin() as conn:
                await self._set_tenant(conn, tenant)
                yield conn
            return
        with tracing.span("db read", attributes=self._span_attributes, only_in_trace=True):
            async with self.read_engine.begin() as conn:
                await self._set_tenant(conn, tenant)
                yield conn

    @property
    def _span_attributes(self) -> dict[str, str]:
        return {"db.system.name": self.dialect}

    async def _set_tenant(self, conn: AsyncConnection, tenant: tuple[str, str]) -> None:
        if self.dialect == "postgresql":
            # Transaction-local (is_local = true): it ends with the transaction, so a pooled
            # connection never carries one organization into the next transaction.
            await conn.execute(rls.SET_TENANT, {"organization_id": tenant[0], "across": tenant[1]})

    async def dispose(self) -> None:
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()

    def pool_status(self) -> str:
        return self.write_engine.pool.status()

    def pool_stats(self) -> dict[str, tuple[int, int]]:
        """(checked-out connections, pool size) per engine: "write" and "read" on SQLite,
        one "main" pool on PostgreSQL. Read from the pools' counters, no query: safe from
        the metrics thread."""
        engines = (
            {"main": self.write_engine}
            if self.read_engine is self.write_engine
            else {"write": self.write_engine, "read": self.read_engine}
        )
        stats: dict[str, tuple[int, int]] = {}
        for name, engine in engines.items():
            pool: Any = engine.pool
            checked_out = pool.checkedout() if hasattr(pool, "checkedout") else 0
            size = pool.size() if hasattr(pool, "size") else 0
            stats[name] = (int(checked_out), int(size))
        return stats


def _tenant(organization_id: str | None, across_organizations: bool) -> tuple[str, str]:
    """(organization setting, across setting) for a new transaction."""
    if across_organizations:
        if organization_id is not None:
            raise ValueError("a transaction is for one organization or across them, not both")
        return "", "on"
    scope = current_scope_or_none()
    if organization_id is None:
        # No scope and no organization: the empty setting matches no row.
        return (scope.organization_id if scope is not None else ""), "off"
    if scope is not None and scope.organization_id != organization_id:
        # A call of one organization never opens a transaction for another.
        raise RuntimeError("a transaction for another organization than the caller's scope")
    return organization_id, "off"


async def insert_ignore(session: AsyncConnection, table: Table, values: Mapping[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when the row was inserted."""
    dialect = session.dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(table).values(**values).on_conflict_do_nothing()
    else:
        stmt = sqlite.insert(table).values(**values).on_conflict_do_nothing()
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _int32(value: str) -> int:
    return zlib.crc32(value.encode()) - 2**31


async def advisory_lock(conn: AsyncConnection, namespace: str, key: str) -> None:
    """Serialize the transactions that touch `key` (until this transaction ends).

    PostgreSQL: a transaction-level advisory lock on (namespace, key). SQLite: nothing to
    do, its writers already run one at a time. For check-then-write rules that no unique
    constraint can state (one client per e-mail found online, no overlapping appointments).
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(:namespace, :key)"),
            {"namespace": _int32(namespace), "key": _int32(key)},
        )
