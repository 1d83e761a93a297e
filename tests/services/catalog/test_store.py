"""The catalogue's tables and queries on real databases: SQLite files, and PostgreSQL when
TEST_DATABASE_URL is set (CI sets it)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from salon.tenancy.v1 import events_pb2 as tenancy_events
from services.catalog.domain import model
from services.catalog.service import SPEC
from services.catalog.store import repository
from services.catalog.store.tables import known_establishments, service_settings
from services.common import migrations, tenancy_replica
from services.common.db import Database, new_id, utcnow
from services.common.events import Event


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await migrations.upgrade(database, SPEC.migrations)
    yield database
    await database.dispose()


def _id() -> str:
    return secrets.token_hex(16)


def _established(org: str, est: str) -> Event:
    return Event(
        id=new_id(),
        type=tenancy_replica.ESTABLISHMENT_CREATED.name,
        source="/salon/tenancy",
        time=utcnow(),
        organization_id=org,
        establishment_id=est,
        actor_id=None,
        subject=tenancy_replica.ESTABLISHMENT_CREATED.subject(org, est),
        data=tenancy_events.EstablishmentCreated(
            organization_id=org, establishment_id=est
        ).SerializeToString(),
    )


async def test_migrations_run_twice_without_harm(db: Database) -> None:
    await migrations.upgrade(db, SPEC.migrations)


async def test_R11_a_new_establishment_gets_every_service_once_deleted_ones_included(
    db: Database,
) -> None:
    org, other_org, a, d = _id(), _id(), _id(), _id()
    new = model.check_new_service("Cut", "Hair", "40", 30, None, True)
    async with db.write(organization_id=org) as session:
        cut = await repository.create_service(session, org, new, [a])
        perm = await repository.create_service(session, org, new, [a])
        await repository.mark_deleted(session, org, perm, utcnow())
        await repository.update_settings(
            session, org, a, cut, model.check_overrides("45", None, None, None)
        )
    async with db.write(organization_id=other_org) as session:
        theirs = await repository.create_service(session, other_org, new, [_id()])
    handle = tenancy_replica.on_establishment_created(
        known_establishments, then=repository.add_establishment
    )
    for _ in range(2):  # a redelivery, or the same establishment announced twice
        async with db.write(organization_id=org) as session:
            await handle(session, _established(org, d))
            await handle(session, _established(org, a))

    async with db.read(organization_id=org) as session:
        rows = (
            await session.execute(
                select(
                    service_settings.c.service_id,
                    service_settings.c.establishment_id,
                    service_settings.c.price,
                ).where(service_settings.c.organization_id == org)
            )
        ).all()
        known = await tenancy_replica.establishments_of(session, known_establishments, org)
    assert sorted((r.service_id, r.establishment_id) for r in rows) == sorted(
        [(cut, a), (perm, a), (cut, d), (perm, d)]
    )
    assert theirs not in {r.service_id for r in rows}
    assert {r.price for r in rows if r.establishment_id == a and r.service_id == cut} == {
        model.price("45")
    }
    assert sorted(known) == sorted([a, d])
