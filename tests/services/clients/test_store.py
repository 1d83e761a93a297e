"""The client file's queries on real databases: SQLite files, and PostgreSQL when
TEST_DATABASE_URL is set (CI sets it)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest

from services.clients.domain import model
from services.clients.service import SPEC
from services.clients.store import repository
from services.common import migrations
from services.common.db import Database
from services.common.errors import DomainError, ErrorCode


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await migrations.upgrade(database, SPEC.migrations)
    yield database
    await database.dispose()


def _org() -> str:
    return secrets.token_hex(16)


async def _create(
    db: Database,
    org: str,
    est: str,
    first: str,
    last: str,
    email: str | None = None,
    phone: str | None = None,
) -> model.Client:
    async with db.write(organization_id=org) as session:
        return await repository.create(
            session, org, est, model.check_new(first, last, email, phone)
        )


async def test_migrations_run_twice_without_harm(db: Database) -> None:
    await migrations.upgrade(db, SPEC.migrations)


async def test_R01_another_organization_reads_nothing_by_id_search_or_listing(
    db: Database,
) -> None:
    org_a, org_b = _org(), _org()
    ann = await _create(db, org_a, "est-a", "Ann", "Peeters", "ann@example.com", "+32470123456")
    async with db.read(organization_id=org_b) as session:
        assert await repository.get_many(session, org_b, [ann.id]) == []
        for terms in ([], ["ann"], ["ann@example.com"], ["0470123456"]):
            page = await repository.list_page(
                session, org_b, first=50, after=None, terms=terms, establishment_id=None
            )
            assert page.clients == [] and page.total_count == 0
        page = await repository.list_page(
            session, org_b, first=50, after=None, terms=[], establishment_id="est-a"
        )
        assert page.clients == []
    with pytest.raises(DomainError) as caught:
        async with db.write(organization_id=org_b) as session:
            await repository.update_fields(
                session, org_b, "est-b", ann.id, model.check_update("Eve", None, None, None)
            )
    assert caught.value.code is ErrorCode.NOT_FOUND
    async with db.read(organization_id=org_a) as session:
        [still] = await repository.get_many(session, org_a, [ann.id])
    assert still.first_name == "Ann"


async def test_R10_one_file_for_every_establishment_listed_per_establishment(
    db: Database,
) -> None:
    org = _org()
    ann = await _create(db, org, "est-a", "Ann", "Peeters")
    bob = await _create(db, org, "est-b", "Bob", "Maes")
    async with db.write(organization_id=org) as session:  # Ann's record changed while working in B
        await repository.update_fields(
            session, org, "est-b", ann.id, model.check_update(None, None, "ann@example.com", None)
        )
    async with db.read(organization_id=org) as session:
        everyone = await repository.list_page(
            session, org, first=50, after=None, terms=[], establishment_id=None
        )
        in_a = await repository.list_page(
            session, org, first=50, after=None, terms=[], establishment_id="est-a"
        )
        in_b = await repository.list_page(
            session, org, first=50, after=None, terms=[], establishment_id="est-b"
        )
    assert [c.id for c in everyone.clients] == [bob.id, ann.id]  # by last name
    assert [c.id for c in in_a.clients] == [ann.id]
    assert sorted(c.id for c in in_b.clients) == sorted([ann.id, bob.id])
    assert everyone.clients[1].establishment_ids == ["est-a", "est-b"]


async def test_search_by_name_email_and_phone(db: Database) -> None:
    org = _org()
    await _create(db, org, "e", "Ann", "Peeters", "ann.p@example.com", "0470123456")
    await _create(db, org, "e", "Anna", "Maes", "anna@example.com", "+32480999999")
    await _create(db, org, "e", "Bob", "100%_Real", None, None)

    async def found(search: str) -> list[str]:
        async with db.read(organization_id=org) as session:
            page = await repository.list_page(
                session,
                org,
                first=50,
                after=None,
                terms=model.search_terms(search),
                establishment_id=None,
            )
        return [f"{c.first_name} {c.last_name}" for c in page.clients]

    assert await found("peeters") == ["Ann Peeters"]
    assert await found("ANN") == ["Anna Maes", "Ann Peeters"]
    assert await found("ann peet") == ["Ann Peeters"]
    assert await found("ann.p@example") == ["Ann Peeters"]
    assert await found("0470 12 34") == ["Ann Peeters"]
    assert await found("+32 470 123 456") == ["Ann Peeters"]
    assert await found("%") == ["Bob 100%_Real"]  # wildcards are literal
    assert await found("_") == ["Bob 100%_Real"]
    assert await found("nobody") == []


async def test_cursor_pagination_visits_every_client_once(db: Database) -> None:
    org = _org()
    created = []
    for i in range(57):
        created.append(await _create(db, org, "e", f"Client{i:02d}", "Same"))
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        async with db.read(organization_id=org) as session:
            page = await repository.list_page(
                session, org, first=20, after=after, terms=[], establishment_id=None
            )
        assert page.total_count == 57
        seen += [c.id for c in page.clients]
        pages += 1
        if not page.has_next_page:
            break
        after = page.cursors[-1]
    assert pages == 3
    assert sorted(seen) == sorted(c.id for c in created) and len(seen) == 57


async def test_a_forged_cursor_is_invalid(db: Database) -> None:
    async with db.read() as session:
        with pytest.raises(DomainError) as caught:
            await repository.list_page(
                session, _org(), first=10, after="not-a-cursor", terms=[], establishment_id=None
            )
    assert caught.value.field == "after"


async def test_concurrent_updates_of_one_client_all_land(db: Database) -> None:
    """Writers are serialized (SQLite) or row-locked by the update (PostgreSQL): twenty
    concurrent changes each bump the version once."""
    org = _org()
    ann = await _create(db, org, "e", "Ann", "Peeters")

    async def rename(i: int) -> None:
        async with db.write(organization_id=org) as session:
            await repository.update_fields(
                session, org, "e", ann.id, model.check_update(f"Ann{i}", None, None, None)
            )

    await asyncio.gather(*(rename(i) for i in range(20)))
    from sqlalchemy import select

    from services.clients.store.tables import clients

    async with db.read(organization_id=org) as session:
        version = (
            await session.execute(select(clients.c.version).where(clients.c.id == ann.id))
        ).scalar_one()
    assert version == 21
