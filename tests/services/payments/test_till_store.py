"""The till's schema on real databases (SQLite, and PostgreSQL with TEST_DATABASE_URL): the
hand-written migrations build exactly the tables of store/tables.py, and the constraints
behind the checkout hold even when the code above them is bypassed."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, update
from sqlalchemy.exc import IntegrityError

from services.common import migrations
from services.common.db import Database, utcnow
from services.payments.service import SPEC
from services.payments.store import tables
from services.payments.store.tables import gift_cards, receipts, subscriptions


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await migrations.upgrade(database, SPEC.migrations)
    yield database
    await database.dispose()


def _id() -> str:
    return secrets.token_hex(16)


def _diff(connection: Connection) -> list[Any]:
    """Every table of the service (its metadata, with the provider and report tables the
    service loads), against what the migrations built."""
    import services.payments.store.provider_tables  # noqa: F401 - adds its tables

    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, tables.metadata))


async def test_the_migrations_build_exactly_the_tables_of_tables_py(db: Database) -> None:
    async with db.read() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_the_migrations_run_twice_without_harm(db: Database) -> None:
    await migrations.upgrade(db, SPEC.migrations)


async def _card(db: Database, org: str, est: str, balance: str = "10.00") -> str:
    card_id = _id()
    async with db.write(organization_id=org) as conn:
        await conn.execute(
            gift_cards.insert().values(
                id=card_id,
                organization_id=org,
                establishment_id=est,
                code=_id()[:16].upper(),
                kind="GENERAL",
                initial_amount=Decimal(balance),
                balance=Decimal(balance),
                client_id=None,
                idempotency_key=None,
                user_id="u",
                created_at=utcnow(),
            )
        )
    return card_id


async def test_R14_the_database_refuses_a_negative_gift_card_balance(db: Database) -> None:
    org, est = _id(), _id()
    card = await _card(db, org, est, "10.00")
    with pytest.raises(IntegrityError):
        async with db.write(organization_id=org) as conn:
            await conn.execute(
                update(gift_cards)
                .where(gift_cards.c.id == card)
                .values(balance=gift_cards.c.balance - Decimal("10.01"))
            )


async def test_R24_the_database_refuses_a_negative_visit_count(db: Database) -> None:
    org, est, sub = _id(), _id(), _id()
    async with db.write(organization_id=org) as conn:
        await conn.execute(
            subscriptions.insert().values(
                id=sub,
                organization_id=org,
                establishment_id=est,
                client_id=_id(),
                name="Ten cuts",
                visits=1,
                visits_left=1,
                price=Decimal("100.00"),
                valid_until=None,
                user_id="u",
                created_at=utcnow(),
            )
        )
    with pytest.raises(IntegrityError):
        async with db.write(organization_id=org) as conn:
            await conn.execute(
                update(subscriptions)
                .where(subscriptions.c.id == sub)
                .values(visits_left=subscriptions.c.visits_left - 2)
            )


async def test_R28_the_database_refuses_a_receipt_number_twice(db: Database) -> None:
    org, est = _id(), _id()

    def row(key: str) -> dict[str, Any]:
        return {
            "id": _id(),
            "organization_id": org,
            "establishment_id": est,
            "number": 1,
            "client_id": None,
            "appointment_id": None,
            "total": Decimal("1.00"),
            "user_id": "u",
            "idempotency_key": key,
            "request_hash": "h",
            "reservation_id": None,
            "created_at": utcnow(),
        }

    async with db.write(organization_id=org) as conn:
        await conn.execute(receipts.insert().values(**row("k1")))
    with pytest.raises(IntegrityError):
        async with db.write(organization_id=org) as conn:
            await conn.execute(receipts.insert().values(**row("k2")))
