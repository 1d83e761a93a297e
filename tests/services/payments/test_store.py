"""Deposits on real databases: SQLite files, and PostgreSQL when TEST_DATABASE_URL is set
(CI sets it). The races run each request in its own transaction, all at once: on
PostgreSQL they really interleave (one connection each), on SQLite the writer serializes
them."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from services.common import migrations
from services.common.db import Database
from services.common.errors import DomainError, ErrorCode
from services.payments.domain.model import Deposit, DepositStatus
from services.payments.service import SPEC
from services.payments.store import repository
from services.payments.store.tables import deposits


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=20)
    await migrations.upgrade(database, SPEC.migrations)
    yield database
    await database.dispose()


def _id() -> str:
    return secrets.token_hex(16)


async def _record(
    db: Database, org: str, est: str, appointment: str, client: str, amount: str
) -> tuple[Deposit, bool]:
    async with db.write(organization_id=org) as session:
        return await repository.record_deposit(
            session, org, est, appointment, client, Decimal(amount)
        )


async def _count(db: Database, org: str, appointment: str) -> int:
    async with db.read(organization_id=org) as session:
        return (
            await session.execute(
                select(func.count()).where(
                    deposits.c.organization_id == org, deposits.c.appointment_id == appointment
                )
            )
        ).scalar_one()


async def test_migrations_run_twice_without_harm(db: Database) -> None:
    await migrations.upgrade(db, SPEC.migrations)


async def test_R17_a_deposit_is_listed_in_its_establishment_only(db: Database) -> None:
    org, a, b, appointment, client = _id(), _id(), _id(), _id(), _id()
    deposit, created = await _record(db, org, a, appointment, client, "12.50")
    assert created and deposit.status is DepositStatus.PAID
    assert (deposit.establishment_id, deposit.amount) == (a, Decimal("12.50"))
    async with db.read(organization_id=org) as session:
        in_a = await repository.list_client_deposits(session, org, a, [client])
        in_b = await repository.list_client_deposits(session, org, b, [client])
        found = await repository.get_by_appointments(session, org, [appointment])
    assert in_a == [deposit] and in_b == [] and found == [deposit]
    assert deposit.created_at.tzinfo is not None


async def test_a_repeat_answers_the_first_deposit_and_a_conflict_writes_nothing(
    db: Database,
) -> None:
    org, a, appointment, client = _id(), _id(), _id(), _id()
    first, _ = await _record(db, org, a, appointment, client, "10.00")
    again, created = await _record(db, org, a, appointment, client, "10")
    assert again == first and not created
    with pytest.raises(DomainError) as caught:
        await _record(db, org, a, appointment, client, "11.00")
    assert (caught.value.code, caught.value.field) == (ErrorCode.CONFLICT, "deposit")
    assert await _count(db, org, appointment) == 1
    async with db.read(organization_id=org) as session:
        assert await repository.get_by_appointments(session, org, [appointment]) == [first]


async def test_R01_another_organization_sees_nothing_and_has_its_own_appointments(
    db: Database,
) -> None:
    org, other, est, appointment, client = _id(), _id(), _id(), _id(), _id()
    ours, _ = await _record(db, org, est, appointment, client, "10.00")
    async with db.read(organization_id=other) as session:
        assert await repository.get_by_appointments(session, other, [appointment]) == []
        assert await repository.list_client_deposits(session, other, est, [client]) == []
    # The same ids under another organization are another appointment: no conflict.
    theirs, created = await _record(db, other, est, appointment, client, "99.00")
    assert created and theirs.id != ours.id
    async with db.read(organization_id=org) as session:
        assert await repository.get_by_appointments(session, org, [appointment]) == [ours]


async def test_batch_read_in_the_order_asked_and_client_list_newest_first(db: Database) -> None:
    org, a, b, client = _id(), _id(), _id(), _id()
    first, _ = await _record(db, org, a, "appt-1", client, "1.00")
    second, _ = await _record(db, org, a, "appt-2", client, "2.00")
    in_b, _ = await _record(db, org, b, "appt-3", client, "3.00")
    async with db.read(organization_id=org) as session:
        found = await repository.get_by_appointments(
            session, org, ["appt-3", "none", "appt-1", "appt-2"]
        )
        listed = await repository.list_client_deposits(session, org, a, [client])
        assert await repository.get_by_appointments(session, org, []) == []
    assert found == [in_b, first, second]
    assert listed == [second, first]


async def test_concurrent_requests_for_one_appointment_write_one_deposit(db: Database) -> None:
    """Half of them with another amount: whichever request wins, its amount is the deposit,
    the same requests answer it and the others are conflicts."""
    org, est, appointment, client = _id(), _id(), _id(), _id()
    amounts = ["10.00", "20.00"] * 15

    results = await asyncio.gather(
        *(_record(db, org, est, appointment, client, amount) for amount in amounts),
        return_exceptions=True,
    )

    done = [r for r in results if not isinstance(r, BaseException)]
    failed = [r for r in results if isinstance(r, BaseException)]
    assert len(done) == 15 and len(failed) == 15, [repr(e) for e in failed]
    assert sum(created for _d, created in done) == 1
    assert len({d for d, _c in done}) == 1
    assert all(
        isinstance(e, DomainError) and (e.code, e.field) == (ErrorCode.CONFLICT, "deposit")
        for e in failed
    )
    assert await _count(db, org, appointment) == 1


async def test_the_database_refuses_a_second_deposit_for_an_appointment(db: Database) -> None:
    """The unique constraint itself, behind the store's insert."""
    org, est, appointment = _id(), _id(), _id()
    await _record(db, org, est, appointment, _id(), "10.00")
    deposit, _ = await _record(db, org, est, _id(), _id(), "10.00")
    with pytest.raises(IntegrityError, match=r"(?i)unique"):
        async with db.write(organization_id=org) as session:
            await session.execute(
                deposits.insert().values(
                    id=_id(),
                    organization_id=org,
                    establishment_id=est,
                    appointment_id=appointment,
                    client_id=deposit.client_id,
                    amount=Decimal("10.00"),
                    status="PAID",
                    created_at=deposit.created_at,
                )
            )
    assert await _count(db, org, appointment) == 1
