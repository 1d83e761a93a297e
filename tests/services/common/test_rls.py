"""Tenant isolation below the application (R01): row-level security on PostgreSQL.

Every service's migrations end with forced RLS and the tenant policy on every table that
has an `organization_id` (services/common/rls.py). These tests run each service's real
migrations on PostgreSQL as the tests' application role (no superuser, NOBYPASSRLS, owner
of its database: tests/conftest.py), write rows of two organizations through the
service's own repository, then query every tenant table *without any filter*: the
application's `organization_id` filter removed, a transaction still sees only its own
organization's rows, and none at all without a scope.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Table, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.booking.service import SPEC as BOOKING
from services.booking.store import repository as booking_repository
from services.catalog.domain import model as catalog_model
from services.catalog.service import SPEC as CATALOG
from services.catalog.store import repository as catalog_repository
from services.clients.domain import model as clients_model
from services.clients.service import SPEC as CLIENTS
from services.clients.store import repository as clients_repository
from services.common import migrations, rls
from services.common.db import Database, new_id, utcnow
from services.common.runtime import ServiceSpec
from services.common.scope import Role, Scope, scope_context
from services.inventory.domain.model import Reason
from services.inventory.service import SPEC as INVENTORY
from services.inventory.store import repository as inventory_repository
from services.payments.service import SPEC as PAYMENTS
from services.payments.store import repository as payments_repository
from tests.conftest import TEST_DATABASE_URL, _create_pg_database, _drop_pg_database

Seed = Callable[[AsyncConnection, str, str], Awaitable[None]]


async def _seed_clients(conn: AsyncConnection, org: str, est: str) -> None:
    fields = clients_model.check_new("Ann", "Peeters", "ann@example.com", "+32470123456")
    await clients_repository.create(conn, org, est, fields)


async def _seed_catalog(conn: AsyncConnection, org: str, est: str) -> None:
    new = catalog_model.check_new_service("Cut", "Hair", "40", 30, None, True)
    await catalog_repository.create_service(conn, org, new, [est])


async def _seed_inventory(conn: AsyncConnection, org: str, est: str) -> None:
    await inventory_repository.change_stock(conn, org, est, new_id(), 5, Reason.DELIVERY, "u")


async def _seed_booking(conn: AsyncConnection, org: str, est: str) -> None:
    start = (utcnow() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    await booking_repository.book(
        conn, org, est, new_id(), new_id(), [new_id()], start, start + timedelta(hours=1)
    )


async def _seed_payments(conn: AsyncConnection, org: str, est: str) -> None:
    await payments_repository.record_deposit(conn, org, est, new_id(), new_id(), Decimal("10"))


# Each service and one real write of its own, through its repository.
SERVICES: dict[str, tuple[ServiceSpec, Seed]] = {
    "clients": (CLIENTS, _seed_clients),
    "catalog": (CATALOG, _seed_catalog),
    "inventory": (INVENTORY, _seed_inventory),
    "booking": (BOOKING, _seed_booking),
    "payments": (PAYMENTS, _seed_payments),
}

# Tables without an organization: the consumers' record of processed event ids (keyed by
# consumer and event id, no tenant data) and Alembic's own.
NOT_TENANT_TABLES = {"processed_events", "alembic_version"}


def _org() -> str:
    return secrets.token_hex(16)


# Row-level security is PostgreSQL's; on SQLite (one machine, embedded) the application's
# filter is the only one, and these tests have nothing to look at.
needs_postgresql = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="row-level security needs TEST_DATABASE_URL (PostgreSQL)"
)


@pytest.fixture(params=sorted(SERVICES))
async def service(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, Database]]:
    """A service's migrated PostgreSQL database, reached as the tests' application role."""
    url, name = await _create_pg_database(TEST_DATABASE_URL)
    db = Database(url)
    try:
        await migrations.upgrade(db, SERVICES[request.param][0].migrations)
        yield request.param, db
    finally:
        await db.dispose()
        await _drop_pg_database(TEST_DATABASE_URL, name)


async def _tenant_tables(db: Database) -> list[rls.TenantTable]:
    async with db.read() as conn:
        return await conn.run_sync(rls.tenant_tables)


@needs_postgresql
async def test_R01_the_service_role_cannot_bypass_row_level_security(
    service: tuple[str, Database],
) -> None:
    _name, db = service
    async with db.read() as conn:
        me = (
            await conn.execute(
                text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
            )
        ).one()
        owners = set(
            (
                await conn.execute(
                    text(
                        "SELECT DISTINCT tableowner = current_user FROM pg_tables "
                        "WHERE schemaname = current_schema()"
                    )
                )
            ).scalars()
        )
    assert (me.rolsuper, me.rolbypassrls) == (False, False)
    # It owns its tables (it migrates them): only FORCE makes the policies bind it.
    assert owners == {True}


@needs_postgresql
async def test_R01_every_tenant_table_has_forced_row_level_security(
    service: tuple[str, Database],
) -> None:
    name, db = service
    spec = SERVICES[name][0]
    found = await _tenant_tables(db)
    assert found, "no tenant table found"
    assert [t.name for t in found if not t.protected] == []
    # Every table of the service's metadata is a tenant table (ARCHITECTURE.md: every
    # table carries organization_id), and every one of them is among those protected.
    metadata_tables = set(spec.metadata.tables) - NOT_TENANT_TABLES
    assert metadata_tables <= {t.name for t in found}
    async with db.read() as conn:
        all_tables = set(
            (
                await conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                )
            ).scalars()
        )
    assert all_tables - {t.name for t in found} <= NOT_TENANT_TABLES


@needs_postgresql
async def test_R01_a_query_without_its_organization_filter_sees_no_other_organization(
    service: tuple[str, Database],
) -> None:
    name, db = service
    spec, seed = SERVICES[name]
    org_a, org_b = _org(), _org()
    for org in (org_a, org_b):
        async with db.write(organization_id=org) as conn:
            await seed(conn, org, new_id())
    tables = [spec.metadata.tables[t.name] for t in await _tenant_tables(db)]

    async def organizations(table: Table) -> list[str]:
        return list((await conn.execute(select(table.c.organization_id))).scalars())

    # Both organizations' rows are there (the named path that spans organizations).
    async with db.read(across_organizations=True) as conn:
        seen = {org for table in tables for org in await organizations(table)}
    assert seen == {org_a, org_b}

    # Under B's verified scope, as an RPC runs: no filter at all, and only B's rows.
    with scope_context(Scope(org_b, new_id(), "u-b", Role.OWNER)):
        async with db.read() as conn:
            seen_by_b = {t.name: set(await organizations(t)) for t in tables}
        async with db.write() as conn:
            # An update without the filter cannot reach A's rows either.
            for table in tables:
                changed = await conn.execute(
                    update(table)
                    .where(table.c.organization_id == org_a)
                    .values(organization_id=org_a)
                )
                assert changed.rowcount == 0, table.name  # type: ignore[attr-defined]
    assert set().union(*seen_by_b.values()) == {org_b}

    # A consumer's transaction, given its event's organization, likewise.
    async with db.read(organization_id=org_a) as conn:
        seen_by_a = set().union(*[set(await organizations(t)) for t in tables])
    assert seen_by_a == {org_a}

    # Without a scope: no tenant row at all.
    async with db.read() as conn:
        for table in tables:
            assert await organizations(table) == [], table.name


@needs_postgresql
async def test_R01_a_row_of_another_organization_cannot_be_written(
    service: tuple[str, Database],
) -> None:
    name, db = service
    spec, _seed = SERVICES[name]
    org_a, org_b = _org(), _org()
    row = {
        "id": new_id(),
        "type": "salon.test.thing.created.v1",
        "subject": f"salon.{org_a}.org.test.thing.created",
        "source": "/salon/test",
        "organization_id": org_a,
        "occurred_at": utcnow(),
        "payload": b"",
    }
    for organization in (org_b, None):  # another organization's transaction, or none
        with pytest.raises(DBAPIError, match="row-level security"):
            async with db.write(organization_id=organization) as conn:
                await conn.execute(spec.outbox.insert().values(**row))
    async with db.write(organization_id=org_a) as conn:
        await conn.execute(spec.outbox.insert().values(**row))
    # Moving a row to another organization is refused too (the policy's WITH CHECK).
    with pytest.raises(DBAPIError, match="row-level security"):
        async with db.write(organization_id=org_a) as conn:
            await conn.execute(
                update(spec.outbox)
                .where(spec.outbox.c.id == row["id"])
                .values(organization_id=org_b)
            )


@needs_postgresql
async def test_R01_a_table_added_later_is_protected_by_the_next_migration(
    service: tuple[str, Database],
) -> None:
    name, db = service
    spec = SERVICES[name][0]
    async with db.write(across_organizations=True) as conn:
        # What a later revision might do, and what someone might undo by hand.
        await conn.execute(
            text("CREATE TABLE later_things (organization_id varchar(32) NOT NULL, n int)")
        )
        first = next(t for t in await conn.run_sync(rls.tenant_tables) if t.protected)
        await conn.execute(text(f'ALTER TABLE "{first.name}" NO FORCE ROW LEVEL SECURITY'))
    unprotected = {t.name for t in await _tenant_tables(db) if not t.protected}
    assert unprotected == {"later_things", first.name}

    await migrations.upgrade(db, spec.migrations)  # as at every start of the service

    assert [t.name for t in await _tenant_tables(db) if not t.protected] == []
    async with db.write(organization_id=_org()) as conn:
        await conn.execute(
            text("INSERT INTO later_things VALUES (current_setting(:s), 1)"),
            {"s": rls.ORGANIZATION_SETTING},
        )
    async with db.read(organization_id=_org()) as conn:
        assert (await conn.execute(text("SELECT count(*) FROM later_things"))).scalar() == 0


async def test_R01_a_call_never_opens_a_transaction_for_another_organization(
    database_url: str,
) -> None:
    """On every backend: the verified scope decides, a conflicting organization is a bug."""
    db = Database(database_url)
    try:
        with (
            scope_context(Scope(_org(), new_id(), "u", Role.OWNER)),
            pytest.raises(RuntimeError, match="another organization"),
        ):
            async with db.read(organization_id=_org()):
                pass
        with pytest.raises(ValueError, match="not both"):
            async with db.write(organization_id=_org(), across_organizations=True):
                pass
    finally:
        await db.dispose()
