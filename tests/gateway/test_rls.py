"""Tenant isolation below the application (R01) in the gateway's own database, as in the
services' (tests/services/common/test_rls.py): forced row-level security on every table
with an `organization_id`, on PostgreSQL as the tests' application role."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, text

from gateway.app import MIGRATIONS
from gateway.store import tenancy
from gateway.store.tables import metadata
from gateway.webhooks import store as webhooks
from services.common import migrations, rls
from services.common.db import Database
from tests.conftest import TEST_DATABASE_URL, _create_pg_database, _drop_pg_database

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="row-level security needs TEST_DATABASE_URL (PostgreSQL)"
)

# No organization_id: the organization itself (its name and slug are public), login
# failures (counted before any organization is known), processed event ids, Alembic's.
NOT_TENANT_TABLES = {"organizations", "login_failures", "processed_events", "alembic_version"}


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    url, name = await _create_pg_database(TEST_DATABASE_URL)
    database = Database(url)
    try:
        await migrations.upgrade(database, MIGRATIONS)
        yield database
    finally:
        await database.dispose()
        await _drop_pg_database(TEST_DATABASE_URL, name)


async def _sign_up(db: Database) -> tenancy.Organization:
    async with db.write(across_organizations=True) as conn:  # as the gateway signs up
        org, _est, _user = await tenancy.sign_up(
            conn,
            organization_name="Salon",
            establishment_name="Main",
            timezone="Europe/Brussels",
            email=f"o-{secrets.token_hex(4)}@example.com",
            name="Owner",
            password_hash="x",
        )
    async with db.write(organization_id=org.id) as conn:
        await webhooks.add_endpoint(conn, org.id, "https://example.com/in", [], "sealed")
    return org


async def test_R01_every_gateway_tenant_table_has_forced_row_level_security(
    db: Database,
) -> None:
    async with db.read() as conn:
        found = await conn.run_sync(rls.tenant_tables)
        tables = set(
            (
                await conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                )
            ).scalars()
        )
    assert found and [t.name for t in found if not t.protected] == []
    assert tables - {t.name for t in found} <= NOT_TENANT_TABLES
    assert set(metadata.tables) - NOT_TENANT_TABLES <= {t.name for t in found}


async def test_R01_a_gateway_query_without_its_organization_filter_sees_no_other_organization(
    db: Database,
) -> None:
    org_a, org_b = await _sign_up(db), await _sign_up(db)
    names = [t.name for t in await _tenant_tables(db)]
    tables = [metadata.tables[n] for n in names]

    async def seen(organization_id: str | None = None, across: bool = False) -> set[str]:
        async with db.read(organization_id=organization_id, across_organizations=across) as conn:
            return {
                org
                for table in tables
                for org in (await conn.execute(select(table.c.organization_id))).scalars()
            }

    assert await seen(across=True) == {org_a.id, org_b.id}
    assert await seen(organization_id=org_b.id) == {org_b.id}
    assert await seen() == set()
    # The application's own query, asked for A's establishments from B's transaction.
    async with db.read(organization_id=org_b.id) as conn:
        assert await tenancy.establishments_of(conn, org_a.id) == []
        assert await tenancy.establishments_of(conn, org_b.id) != []


async def _tenant_tables(db: Database) -> list[rls.TenantTable]:
    async with db.read() as conn:
        return await conn.run_sync(rls.tenant_tables)
