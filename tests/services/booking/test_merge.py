"""B07 in the booking service over a real process (gRPC, NATS, SQLite and, with
TEST_DATABASE_URL, PostgreSQL): ClientMerged re-points the merged client's appointments,
queued mails and manage links, once; a later write with the merged id lands on the kept
client."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from launcher.nats_server import NatsServer
from services.booking.mail.queue import AppointmentFacts, enqueue
from services.booking.mail.rendering import MailKind
from services.booking.service import SPEC as BOOKING
from services.booking.store import merge_repository
from services.booking.store.mail_tables import mail_queue
from services.booking.store.tables import appointments, manage_tokens, merged_clients
from services.booking.store.tables import metadata as booking_metadata
from services.common import migrations
from services.common.db import Database, new_id, utcnow
from tests.services.booking.test_privacy import _seed
from tests.support.merge import publish_merged
from tests.support.services import running

T = TypeVar("T")


def _id() -> str:
    return secrets.token_hex(16)


async def _eventually(check: Callable[[], Awaitable[T]], timeout: float = 15.0) -> T:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await check()
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)


@pytest.fixture
async def booking(database_url: str, nats_server: NatsServer) -> AsyncIterator[Database]:
    async with running(nats_server.url, {"booking": database_url}, {"booking": BOOKING}):
        db = Database(database_url)
        try:
            yield db
        finally:
            await db.dispose()


async def _holders(db: Database, org: str) -> dict[str, Any]:
    """Who holds what: appointments and mails by id, manage tokens by hash."""
    async with db.read(organization_id=org) as conn:
        appts = await conn.execute(
            select(appointments.c.id, appointments.c.client_id).where(
                appointments.c.organization_id == org
            )
        )
        mails = await conn.execute(
            select(mail_queue.c.id, mail_queue.c.client_id).where(
                mail_queue.c.organization_id == org
            )
        )
        tokens = await conn.execute(
            select(
                manage_tokens.c.token_hash,
                manage_tokens.c.establishment_id,
                manage_tokens.c.client_id,
            ).where(manage_tokens.c.organization_id == org)
        )
        return {
            "appointments": {i: c for i, c in appts},
            "mails": {i: c for i, c in mails},
            "tokens": {h: (e, c) for h, e, c in tokens},
        }


async def _token(db: Database, org: str, est: str, client_id: str, age: timedelta) -> str:
    token_hash = secrets.token_hex(32)
    async with db.write(organization_id=org) as conn:
        await conn.execute(
            manage_tokens.insert().values(
                token_hash=token_hash,
                organization_id=org,
                establishment_id=est,
                client_id=client_id,
                created_at=utcnow() - age,
            )
        )
    return token_hash


async def test_B07_booking_repoints_appointments_mails_and_links_once(
    booking: Database, nats_server: NatsServer
) -> None:
    db = booking
    org, a, b = _id(), _id(), _id()
    kept, merged, stranger = _id(), _id(), _id()
    seeded = await _seed(db, org, a, merged)  # an appointment, two mails, a link in A (now)
    own = await _seed(db, org, b, kept)
    kept_old_link = await _token(db, org, a, kept, timedelta(days=5))  # older than merged's
    merged_link_b = await _token(db, org, b, merged, timedelta(days=1))  # older than kept's
    await _seed(db, org, a, stranger)
    before = await _holders(db, org)
    (merged_link_a,) = [h for h, (e, c) in before["tokens"].items() if c == merged and e == a]
    (kept_link_b,) = [h for h, (e, c) in before["tokens"].items() if c == kept and e == b]
    # The same ids merged in another organization first: nothing of it here.
    await publish_merged(nats_server.url, _id(), a, kept, merged)
    event_id = await publish_merged(nats_server.url, org, a, kept, merged)

    async def repointed() -> dict[str, Any]:
        now = await _holders(db, org)
        assert now["appointments"][seeded["appointment"]] == kept
        return now

    after = await _eventually(repointed)
    assert after["mails"][seeded["sent"]] == kept and after["mails"][seeded["pending"]] == kept
    assert after["mails"][own["sent"]] == kept
    assert merged not in after["appointments"].values()
    # One link per client per establishment (R26): the newer one of each establishment stays.
    assert after["tokens"][merged_link_a] == (a, kept)
    assert after["tokens"][kept_link_b] == (b, kept)
    assert kept_old_link not in after["tokens"] and merged_link_b not in after["tokens"]
    assert sorted(c for _e, c in after["tokens"].values()).count(kept) == 2
    # The stranger's rows did not move; nothing was lost.
    assert set(after["appointments"]) == set(before["appointments"])
    assert set(after["mails"]) == set(before["mails"])
    assert list(after["appointments"].values()).count(stranger) == 1

    # Redelivered (same event id) or repeated (a new one): harmless.
    await publish_merged(nats_server.url, org, a, kept, merged, event_id=event_id)
    await publish_merged(nats_server.url, org, a, kept, merged)
    await asyncio.sleep(0.5)
    assert await _holders(db, org) == after

    # A write that arrives later with the merged id lands on the kept client: a mail queued
    # from an appointment event told before the merge.
    start = utcnow() + timedelta(days=2)
    late = AppointmentFacts(
        id=new_id(),
        establishment_id=a,
        client_id=merged,
        service_id="svc-1",
        start=start,
        end=start + timedelta(minutes=30),
    )
    async with db.write(organization_id=org) as conn:
        assert await enqueue(conn, org, late, MailKind.CONFIRMATION, utcnow())
        assert await merge_repository.resolve(conn, org, merged) == kept
        assert await merge_repository.resolve(conn, org, stranger) == stranger
    async with db.read(organization_id=org) as conn:
        client_id = (
            await conn.execute(
                select(mail_queue.c.client_id).where(
                    mail_queue.c.organization_id == org, mail_queue.c.appointment_id == late.id
                )
            )
        ).scalar_one()
    assert client_id == kept


async def test_B07_booking_a_kept_client_merged_later_takes_every_merged_id(
    booking: Database, nats_server: NatsServer
) -> None:
    db = booking
    org, est = _id(), _id()
    first, second, third = _id(), _id(), _id()
    seeded = await _seed(db, org, est, first)
    await publish_merged(nats_server.url, org, est, second, first)
    await publish_merged(nats_server.url, org, est, third, second)

    async def chained() -> None:
        now = await _holders(db, org)
        assert now["appointments"][seeded["appointment"]] == third
        async with db.read(organization_id=org) as conn:
            rows = await conn.execute(
                select(merged_clients.c.merged_id, merged_clients.c.kept_id).where(
                    merged_clients.c.organization_id == org
                )
            )
            aliases = {m: k for m, k in rows}
        assert aliases == {first: third, second: third}

    await _eventually(chained)


async def test_B07_booking_migrations_match_the_tables(database_url: str) -> None:
    db = Database(database_url)
    try:
        await migrations.upgrade(db, BOOKING.migrations)
        async with db.read() as conn:  # the schema only: no tenant row is read
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), booking_metadata)
            )
    finally:
        await db.dispose()
    assert diff == []
