"""The gateway's tenancy store on real databases (SQLite, and PostgreSQL in CI), including
the races a sign-up page and an owner's two browser tabs produce."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from gateway.app import MIGRATIONS
from gateway.store import tenancy
from services.common import migrations
from services.common.db import Database, utcnow
from services.common.errors import DomainError, ErrorCode
from services.common.scope import Right, Role


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await migrations.upgrade(database, MIGRATIONS)
    yield database
    await database.dispose()


async def _sign_up(db: Database, email: str, org: str = "Salon") -> tuple:
    # As the gateway signs up: across organizations (the e-mail is unique among all).
    async with db.write(across_organizations=True) as conn:
        return await tenancy.sign_up(
            conn,
            organization_name=org,
            establishment_name="Main",
            timezone="Europe/Brussels",
            email=email,
            name="Owner",
            password_hash="x",
        )


def _email() -> str:
    return f"o-{secrets.token_hex(4)}@example.com"


async def test_concurrent_sign_ups_with_one_email_give_one_organization(db: Database) -> None:
    email = _email()
    results = await asyncio.gather(
        *(_sign_up(db, email.upper() if i % 2 else email) for i in range(8)),
        return_exceptions=True,
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 1
    assert all(isinstance(e, DomainError) and e.code is ErrorCode.CONFLICT for e in lost)


async def test_concurrent_sign_ups_with_one_name_get_distinct_slugs(db: Database) -> None:
    results = await asyncio.gather(*(_sign_up(db, _email(), "Chez Marie") for _ in range(6)))
    slugs = [org.slug for org, _est, _user in results]
    assert len(set(slugs)) == 6 and "chez-marie" in slugs


async def test_R02_R03_sessions_follow_memberships(db: Database) -> None:
    org, est, owner = await _sign_up(db, _email())
    scope = tenancy.SessionInfo(
        "-", "-", owner.id, org.id, est.id, Role.OWNER, frozenset(), utcnow() + timedelta(hours=1)
    ).scope()
    async with db.write(organization_id=org.id) as conn:
        second = await tenancy.create_establishment(conn, scope, "Gent", "Europe/Brussels")
        colleague = await tenancy.add_member(
            conn,
            scope,
            email=_email(),
            name="Tom",
            password_hash="h",
            role=Role.STAFF,
            rights=[Right.SWITCH_AGENDA],
        )
        token = await tenancy.create_session(conn, colleague, est.id, timedelta(hours=1))
    async with db.read(organization_id=org.id) as conn:
        live = await tenancy.resolve_session(conn, token)
    assert live is not None and live.rights == frozenset({Right.SWITCH_AGENDA})
    with pytest.raises(DomainError) as caught:  # no membership in Gent
        async with db.write(organization_id=org.id) as conn:
            await tenancy.switch_session(conn, live, second.id)
    assert caught.value.code is ErrorCode.NOT_FOUND
    async with db.write(organization_id=org.id) as conn:
        await tenancy.revoke_session(conn, live.id)
    async with db.read(across_organizations=True) as conn:  # as a request's token lookup
        assert await tenancy.resolve_session(conn, token) is None
        assert await tenancy.resolve_session(conn, "never-issued") is None


async def test_R01_reads_are_bounded_by_the_organization(db: Database) -> None:
    _org_a, est_a, owner_a = await _sign_up(db, _email())
    org_b, _est_b, _owner_b = await _sign_up(db, _email())
    async with db.read(organization_id=org_b.id) as conn:
        assert await tenancy.establishments_by_ids(conn, org_b.id, [est_a.id]) == {}
        assert await tenancy.users_by_ids(conn, org_b.id, [owner_a.id]) == {}
        assert await tenancy.members_of(conn, org_b.id, est_a.id) == []
        assert await tenancy.membership(conn, org_b.id, owner_a.id, est_a.id) is None
