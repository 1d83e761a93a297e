"""The agenda on real databases: SQLite files, and PostgreSQL when TEST_DATABASE_URL is set.
The races run each booking in its own transaction, all at once: on PostgreSQL they really
interleave (one connection each) and the advisory lock decides; on SQLite the writer
serializes them."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from salon.tenancy.v1 import events_pb2 as tenancy_events_pb2
from services.booking.domain.model import Appointment, Status
from services.booking.events.consumers import on_establishment_created
from services.booking.service import SPEC
from services.booking.store import repository
from services.booking.store.tables import known_establishments
from services.common import migrations, tenancy_replica
from services.common.db import Database, new_id, utcnow
from services.common.errors import DomainError, ErrorCode
from services.common.events import Event


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=20)
    await migrations.upgrade(database, SPEC.migrations)
    yield database
    await database.dispose()


def _id() -> str:
    return secrets.token_hex(16)


def _tomorrow(hour: int) -> datetime:
    return (utcnow() + timedelta(days=1)).replace(hour=hour, minute=0, second=0, microsecond=0)


async def _book(
    db: Database, org: str, est: str, staff: list[str], start: datetime, minutes: int = 60
) -> Appointment:
    async with db.write(organization_id=org) as session:
        return await repository.book(
            session, org, est, _id(), _id(), staff, start, start + timedelta(minutes=minutes)
        )


async def test_migrations_run_twice_without_harm(db: Database) -> None:
    await migrations.upgrade(db, SPEC.migrations)


async def test_B09_concurrent_bookings_of_one_person_in_two_establishments_one_wins(
    db: Database,
) -> None:
    org, a, b, staff = _id(), _id(), _id(), _id()
    start = _tomorrow(9)

    results = await asyncio.gather(
        *(
            _book(db, org, a if i % 2 else b, [staff], start + timedelta(minutes=5 * (i % 3)))
            for i in range(20)
        ),
        return_exceptions=True,
    )

    booked = [r for r in results if isinstance(r, Appointment)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(booked) == 1
    assert all(
        isinstance(e, DomainError) and (e.code, e.field) == (ErrorCode.SLOT_TAKEN, "start")
        for e in refused
    )
    async with db.read(organization_id=org) as session:
        busy = await repository.busy_times(session, org, [staff], start, start + timedelta(days=1))
    assert len(busy[staff]) == 1


async def test_B09_the_first_free_candidate_is_booked_and_locks_never_deadlock(
    db: Database,
) -> None:
    """Bookings without a staff member try the candidates in opposite orders, all at once:
    each person ends with one appointment, and the rest are refused."""
    org, a, b = _id(), _id(), _id()
    people = [_id() for _ in range(3)]
    start = _tomorrow(14)

    results = await asyncio.gather(
        *(
            _book(db, org, a if i % 2 else b, people if i % 2 else people[::-1], start)
            for i in range(12)
        ),
        return_exceptions=True,
    )

    booked = [r for r in results if isinstance(r, Appointment)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert sorted(r.staff_id for r in booked) == sorted(people)
    assert len(refused) == 9
    assert all(isinstance(e, DomainError) and e.code is ErrorCode.SLOT_TAKEN for e in refused)


async def test_B09_cancelled_appointments_do_not_hold_the_slot(db: Database) -> None:
    org, a, staff = _id(), _id(), _id()
    start = _tomorrow(10)
    first = await _book(db, org, a, [staff], start)

    async with db.write(organization_id=org) as session:
        cancelled = await repository.cancel(session, org, a, first.id)
    again = await _book(db, org, a, [staff], start)

    assert cancelled.status is Status.CANCELLED and again.status is Status.BOOKED


async def test_of_two_concurrent_cancels_one_conflicts(db: Database) -> None:
    org, a, staff = _id(), _id(), _id()
    booked = await _book(db, org, a, [staff], _tomorrow(11))

    async def cancel() -> Appointment:
        async with db.write(organization_id=org) as session:
            return await repository.cancel(session, org, a, booked.id)

    results = await asyncio.gather(*(cancel() for _ in range(5)), return_exceptions=True)

    done = [r for r in results if isinstance(r, Appointment)]
    failed = [r for r in results if isinstance(r, DomainError)]
    assert len(done) == 1 and len(failed) == 4
    assert {(e.code, e.field) for e in failed} == {(ErrorCode.CONFLICT, "id")}


async def test_another_establishment_or_organization_cannot_cancel(db: Database) -> None:
    org, a, b, staff = _id(), _id(), _id(), _id()
    booked = await _book(db, org, a, [staff], _tomorrow(12))

    for other_org, est in [(org, b), (_id(), a)]:
        with pytest.raises(DomainError) as caught:
            async with db.write(organization_id=other_org) as session:
                await repository.cancel(session, other_org, est, booked.id)
        assert (caught.value.code, caught.value.field) == (ErrorCode.NOT_FOUND, "id")


async def test_the_establishment_event_gives_the_timezone_even_after_a_scope_remembered_it(
    db: Database,
) -> None:
    org, a, b = _id(), _id(), _id()
    async with db.write(organization_id=org) as session:
        await tenancy_replica.remember(session, known_establishments, org, a)

    for est in (a, b):
        event = Event(
            id=new_id(),
            type=tenancy_replica.ESTABLISHMENT_CREATED.name,
            source="/salon/gateway",
            time=utcnow(),
            organization_id=org,
            establishment_id=est,
            actor_id=None,
            subject=tenancy_replica.ESTABLISHMENT_CREATED.subject(org, est),
            data=tenancy_events_pb2.EstablishmentCreated(
                organization_id=org, establishment_id=est, timezone="Europe/London"
            ).SerializeToString(),
        )
        async with db.write(organization_id=event.organization_id) as session:
            await on_establishment_created(session, event)

    async with db.read(organization_id=org) as session:
        zones = [await repository.establishment_timezone(session, org, e) for e in (a, b)]
        unknown = await repository.establishment_timezone(session, org, _id())
    assert zones == ["Europe/London", "Europe/London"]
    assert unknown is None
