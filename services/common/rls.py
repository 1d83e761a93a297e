"""Row-level security on PostgreSQL: tenant isolation below the application (R01).

Every table with an ``organization_id`` column gets ``ENABLE`` and ``FORCE ROW LEVEL
SECURITY`` (forced: the service's role owns its tables, and an owner is otherwise exempt)
and one policy: a row is visible and writable only when its organization is the one the
transaction set (``salon.organization_id``, set by :class:`services.common.db.Database`
from the verified scope or the event), or when the transaction was opened, by name, to
work across organizations (``salon.across_organizations``: the outbox relay, due-mail and
stale-checkout scans, migrations). A transaction that set neither sees no tenant row and
can write none. So a query that forgot its ``organization_id`` filter still returns only
the caller's organization.

:func:`protect_tenant_tables` runs after every ``alembic upgrade`` (services/common/
migrations.py) and walks the database's catalogue, not a list: a table added by a later
revision is protected without anyone remembering. It is idempotent and changes nothing
when every tenant table is already protected. The policy's name carries a version:
changing :data:`CONDITION` means a new name, and the old policies are replaced.

Not the whole story: the role is NOBYPASSRLS and not a superuser (the tests and deploy/
make sure of it), but it owns its tables, so it could switch RLS off with an ALTER TABLE;
RLS here catches a forgotten filter, not a hostile SQL statement.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection

ORGANIZATION_SETTING = "salon.organization_id"
ACROSS_SETTING = "salon.across_organizations"
POLICY = "salon_tenant_v1"
POLICY_PREFIX = "salon_tenant"
# Unset settings read as NULL (missing_ok): NULL OR NULL lets no row through.
CONDITION = (
    f"organization_id = current_setting('{ORGANIZATION_SETTING}', true) "
    f"OR current_setting('{ACROSS_SETTING}', true) = 'on'"
)

# One statement, one round trip, at the start of every transaction on PostgreSQL.
SET_TENANT = text(
    f"SELECT set_config('{ORGANIZATION_SETTING}', :organization_id, true), "
    f"set_config('{ACROSS_SETTING}', :across, true)"
)

_TENANT_TABLES = text(
    """
    SELECT c.relname AS name,
           c.relrowsecurity AS enabled,
           c.relforcerowsecurity AS forced,
           ARRAY(SELECT p.polname::text FROM pg_policy p WHERE p.polrelid = c.oid
                 ORDER BY p.polname) AS policies
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema()
      AND c.relkind IN ('r', 'p')
      AND EXISTS (
          SELECT 1 FROM pg_attribute a
          WHERE a.attrelid = c.oid AND a.attname = 'organization_id'
            AND a.attnum > 0 AND NOT a.attisdropped
      )
    ORDER BY c.relname
    """
)


@dataclass(frozen=True)
class TenantTable:
    name: str
    enabled: bool
    forced: bool
    policies: tuple[str, ...]

    @property
    def protected(self) -> bool:
        """Forced RLS and our policy alone (another permissive policy would be OR-ed with
        it and could open the table)."""
        return self.enabled and self.forced and self.policies == (POLICY,)


def tenant_tables(connection: Connection) -> list[TenantTable]:
    """Every table of the current schema that has an ``organization_id`` column."""
    return [
        TenantTable(r.name, r.enabled, r.forced, tuple(r.policies))
        for r in connection.execute(_TENANT_TABLES)
    ]


def _quote(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote_identifier(name)


def protect_tenant_tables(connection: Connection) -> list[str]:
    """Forced RLS and the tenant policy on every tenant table that lacks them; the names
    of the tables changed. PostgreSQL only (SQLite has no row-level security: a no-op)."""
    if connection.dialect.name != "postgresql":
        return []
    changed = []
    for table in tenant_tables(connection):
        if table.protected:
            continue
        name = _quote(connection, table.name)
        connection.execute(text(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY"))
        connection.execute(text(f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY"))
        for policy in table.policies:
            # Ours of an older version; another policy is left for a person to look at
            # (the check in the tests fails on it).
            if policy.startswith(POLICY_PREFIX) and policy != POLICY:
                connection.execute(text(f"DROP POLICY {_quote(connection, policy)} ON {name}"))
        if POLICY not in table.policies:
            connection.execute(
                text(
                    f"CREATE POLICY {POLICY} ON {name} FOR ALL "
                    f"USING ({CONDITION}) WITH CHECK ({CONDITION})"
                )
            )
        changed.append(table.name)
    return changed
