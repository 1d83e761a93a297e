"""Loyalty cards (R23) over a real clients process, real gRPC on loopback and a real NATS
server, on SQLite and (with TEST_DATABASE_URL) PostgreSQL: a card belongs to the
establishment where it was created, is invisible from the others, and earns points only
from that establishment's receipts, which the tests publish as the payments service's
outbox relay does (payments.receipt.created)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
import nats
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from launcher.nats_server import NatsServer
from salon.clients.v1 import clients_pb2, clients_pb2_grpc
from salon.clients.v1 import events_pb2 as clients_events
from salon.payments.v1 import events_pb2 as payments_events
from salon.payments.v1 import payments_pb2
from services.clients.domain.model import MAX_POINTS, points_earned
from services.clients.events.consumers import PAYMENTS_DURABLE
from services.clients.service import SPEC as CLIENTS
from services.clients.store.tables import loyalty_credits, processed_events
from services.clients.store.tables import metadata as clients_metadata
from services.common import migrations
from services.common.db import Database, new_id, utcnow
from services.common.errors import DomainError, ErrorCode, from_rpc_error
from services.common.events import Event, EventType
from tests.support.services import Metadata, metadata, running

T = TypeVar("T")

RECEIPT_CREATED = EventType("payments", "receipt", "created")


@dataclass
class Clients:
    stub: clients_pb2_grpc.ClientsServiceStub
    db: Database
    nats_url: str


@pytest.fixture
async def clients(database_url: str, nats_server: NatsServer) -> AsyncIterator[Clients]:
    async with running(nats_server.url, {"clients": database_url}, {"clients": CLIENTS}) as s:
        db = Database(database_url)
        try:
            yield Clients(
                clients_pb2_grpc.ClientsServiceStub(s.channel("clients")), db, nats_server.url
            )
        finally:
            await db.dispose()


# -- helpers ------------------------------------------------------------------------------


def _id() -> str:
    return secrets.token_hex(16)


def _md(org: str, est: str) -> Metadata:
    return metadata(org, est, user_id="u-desk")


async def _error(call: Awaitable[Any]) -> DomainError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error = from_rpc_error(caught.value)
    assert error is not None, caught.value
    return error


async def _eventually(check: Callable[[], Awaitable[T]], timeout: float = 15.0) -> T:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await check()
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)


async def _client(clients: Clients, org: str, est: str, first: str = "Ann") -> str:
    client = await clients.stub.CreateClient(
        clients_pb2.CreateClientRequest(first_name=first, last_name="Peeters"),
        metadata=_md(org, est),
        timeout=5,
    )
    return client.id


async def _card(clients: Clients, org: str, est: str, client_id: str) -> clients_pb2.LoyaltyCard:
    return await clients.stub.CreateLoyaltyCard(
        clients_pb2.CreateLoyaltyCardRequest(client_id=client_id),
        metadata=_md(org, est),
        timeout=5,
    )


async def _cards(
    clients: Clients, org: str, est: str, *client_ids: str
) -> list[clients_pb2.LoyaltyCard]:
    reply = await clients.stub.GetLoyaltyCards(
        clients_pb2.GetLoyaltyCardsRequest(client_ids=list(client_ids)),
        metadata=_md(org, est),
        timeout=5,
    )
    return list(reply.cards)


async def _points(clients: Clients, org: str, est: str, client_id: str) -> int:
    [card] = await _cards(clients, org, est, client_id)
    return card.points


def _receipt(
    org: str,
    est: str,
    client_id: str,
    total: str,
    receipt_id: str = "",
    event_establishment: str | None = None,
) -> Event:
    """What the payments service publishes once a receipt is written in `est`."""
    receipt = payments_pb2.Receipt(
        id=receipt_id or new_id(),
        number="000001",
        establishment_id=est,
        client_id=client_id,
        total=total,
    )
    subject_est = est if event_establishment is None else event_establishment
    return Event(
        id=new_id(),
        type=RECEIPT_CREATED.name,
        source="/salon/payments",
        time=utcnow(),
        organization_id=org,
        establishment_id=subject_est,
        actor_id="u-till",
        subject=RECEIPT_CREATED.subject(org, subject_est),
        data=payments_events.ReceiptCreated(receipt=receipt).SerializeToString(),
    )


async def _publish(nats_url: str, *events: Event, msg_id: str | None = None) -> None:
    """Into the stream, as the payments service's outbox relay does; `msg_id`: another
    Nats-Msg-Id, so that JetStream keeps a second copy (a redelivery to the consumer)."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for event in events:
            headers = event.headers()
            if msg_id is not None:
                headers["Nats-Msg-Id"] = msg_id
            ack = await js.publish(event.subject, event.data, headers=headers)
            assert not ack.duplicate
    finally:
        await nc.close()


async def _settled(clients: Clients, org: str) -> None:
    """Every receipt published so far has been consumed: a marker receipt published after
    them (the consumer takes the stream in order) has credited its card."""
    est = _id()
    marker = await _client(clients, org, est, first="Marker")
    await _card(clients, org, est, marker)
    await _publish(clients.nats_url, _receipt(org, est, marker, "7.00"))

    async def credited() -> None:
        assert await _points(clients, org, est, marker) == 7

    await _eventually(credited)


async def _credits(clients: Clients, org: str) -> int:
    async with clients.db.read(organization_id=org) as session:
        return int(
            (
                await session.execute(
                    select(func.count())
                    .select_from(loyalty_credits)
                    .where(loyalty_credits.c.organization_id == org)
                )
            ).scalar_one()
        )


class Collector:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def collect(self, msg: Any) -> None:
        self.events.append(Event.from_message(msg.subject, msg.headers, msg.data))


# -- the schema and the arithmetic --------------------------------------------------------


async def test_the_migrations_build_exactly_the_tables_of_the_code(database_url: str) -> None:
    db = Database(database_url)
    try:
        await migrations.upgrade(db, CLIENTS.migrations)
        async with db.read() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), clients_metadata)
            )
    finally:
        await db.dispose()
    assert diff == []


def test_R23_one_point_per_whole_euro_of_the_total() -> None:
    assert [points_earned(t) for t in ["45.99", "45", "0.99", "0.00", "-12.00", "1000000.00"]] == [
        45,
        45,
        0,
        0,
        0,
        1_000_000,
    ]
    assert points_earned("1e12") == MAX_POINTS
    for unreadable in ["", "abc", "NaN", "Infinity"]:
        with pytest.raises(ValueError):
            points_earned(unreadable)


# -- cards --------------------------------------------------------------------------------


async def test_R23_a_loyalty_card_of_A_is_invisible_from_B(clients: Clients) -> None:
    org, a, b = _id(), _id(), _id()
    ann, bob = await _client(clients, org, a), await _client(clients, org, b, "Bob")
    collector = Collector()
    nc = await nats.connect(clients.nats_url)
    sub = await nc.subscribe(f"salon.{org}.{a}.clients.loyalty_card.created", cb=collector.collect)
    try:
        card = await _card(clients, org, a, ann)

        async def published() -> None:
            assert len(collector.events) == 1

        await _eventually(published)
    finally:
        await sub.unsubscribe()
        await nc.close()

    assert (card.client_id, card.establishment_id, card.points) == (ann, a, 0)
    assert card.id and card.HasField("created_at")
    assert await _cards(clients, org, a, ann, bob) == [card]
    # The same client file (R10), but the card is A's: the client record in B shows none.
    assert await _cards(clients, org, b, ann, bob) == []
    [event] = collector.events
    assert event.type == "salon.clients.loyalty_card.created.v1"
    assert event.parse(clients_events.LoyaltyCardCreated).card == card
    # B may give Ann a card of its own: a second, separate card.
    in_b = await _card(clients, org, b, ann)
    assert in_b.id != card.id
    assert [c.id for c in await _cards(clients, org, b, ann)] == [in_b.id]
    assert [c.id for c in await _cards(clients, org, a, ann)] == [card.id]


async def test_cards_are_read_in_one_batch_in_the_order_asked(clients: Clients) -> None:
    org, a = _id(), _id()
    people = [await _client(clients, org, a, f"P{i}") for i in range(4)]
    for person in people[1:]:
        await _card(clients, org, a, person)

    found = await _cards(clients, org, a, people[3], _id(), people[0], people[1], people[3])

    assert [c.client_id for c in found] == [people[3], people[1]]
    error = await _error(_cards(clients, org, a, *[_id() for _ in range(1001)]))
    assert (error.code, error.field) == (ErrorCode.INVALID, "clientIds")


async def test_an_unknown_client_is_not_found_and_nothing_is_written(clients: Clients) -> None:
    org, other, a = _id(), _id(), _id()
    theirs = await _client(clients, other, a)

    unknown = await _error(_card(clients, org, a, _id()))
    # R01: another organization's client is unknown here, whatever the establishment id.
    foreign = await _error(_card(clients, org, a, theirs))
    empty = await _error(_card(clients, org, a, ""))

    assert (unknown.code, unknown.field) == (ErrorCode.NOT_FOUND, "clientId")
    assert (foreign.code, foreign.field) == (ErrorCode.NOT_FOUND, "clientId")
    assert (empty.code, empty.field) == (ErrorCode.INVALID, "clientId")
    assert await _cards(clients, org, a, theirs) == []
    assert await _cards(clients, other, a, theirs) == []


async def test_a_second_card_in_one_establishment_is_a_conflict(clients: Clients) -> None:
    org, a = _id(), _id()
    ann, bob = await _client(clients, org, a), await _client(clients, org, a, "Bob")
    first = await _card(clients, org, a, ann)

    second = await _error(_card(clients, org, a, ann))
    # Created at once: one card.
    results = await asyncio.gather(
        *[_card(clients, org, a, bob) for _ in range(6)], return_exceptions=True
    )

    assert (second.code, second.field) == (ErrorCode.CONFLICT, "clientId")
    assert await _cards(clients, org, a, ann) == [first]
    made = [r for r in results if isinstance(r, clients_pb2.LoyaltyCard)]
    refused = [from_rpc_error(r) for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(made) == 1 and len(refused) == 5, results
    assert all(e is not None and e.code is ErrorCode.CONFLICT for e in refused)
    assert await _cards(clients, org, a, bob) == made


# -- points from receipts (payments.receipt.created) --------------------------------------


async def test_R23_points_are_earned_only_from_receipts_of_the_card_establishment(
    clients: Clients,
) -> None:
    org, a, b = _id(), _id(), _id()
    ann = await _client(clients, org, a)
    card = await _card(clients, org, a, ann)
    collector = Collector()
    nc = await nats.connect(clients.nats_url)
    sub = await nc.subscribe(f"salon.{org}.{a}.clients.loyalty_card.credited", cb=collector.collect)
    try:
        in_a = _receipt(org, a, ann, "45.99")
        await _publish(
            clients.nats_url,
            # A receipt of B (Ann has no card there): nothing, in B nor in A.
            _receipt(org, b, ann, "80.00"),
            in_a,
        )

        async def credited() -> None:
            assert await _points(clients, org, a, ann) == 45

        await _eventually(credited)
        await _settled(clients, org)

        async def published() -> None:
            assert len(collector.events) == 1

        await _eventually(published)
    finally:
        await sub.unsubscribe()
        await nc.close()

    assert await _points(clients, org, a, ann) == 45
    assert await _cards(clients, org, b, ann) == []
    [event] = collector.events
    body = event.parse(clients_events.LoyaltyCardCredited)
    assert event.type == "salon.clients.loyalty_card.credited.v1"
    assert event.actor_id == "u-till"
    assert (body.card.id, body.card.points, body.points) == (card.id, 45, 45)
    assert body.receipt_id == in_a.parse(payments_events.ReceiptCreated).receipt.id
    # A card in B now: B's receipts earn there, and A's card keeps its own points.
    in_b = await _card(clients, org, b, ann)
    await _publish(clients.nats_url, _receipt(org, b, ann, "30.50"))

    async def credited_in_b() -> None:
        assert await _points(clients, org, b, ann) == 30

    await _eventually(credited_in_b)
    assert in_b.id != card.id
    assert await _points(clients, org, a, ann) == 45


async def test_R23_the_receipt_establishment_decides_not_the_event_subject(
    clients: Clients,
) -> None:
    org, a, b = _id(), _id(), _id()
    ann = await _client(clients, org, a)
    await _card(clients, org, a, ann)

    # A receipt of B, whatever establishment the envelope names.
    await _publish(clients.nats_url, _receipt(org, b, ann, "50.00", event_establishment=a))
    await _settled(clients, org)

    assert await _points(clients, org, a, ann) == 0
    assert await _credits(clients, org) == 1  # the marker's


async def test_the_same_receipt_event_twice_credits_once(clients: Clients) -> None:
    org, a = _id(), _id()
    ann = await _client(clients, org, a)
    await _card(clients, org, a, ann)
    receipt_id = new_id()
    event = _receipt(org, a, ann, "20.00", receipt_id=receipt_id)
    await _publish(clients.nats_url, event)

    async def credited() -> None:
        assert await _points(clients, org, a, ann) == 20

    await _eventually(credited)
    # The same event delivered again (past the duplicate window, or after a crash before
    # the ack), and the same receipt under another event id (a re-publish).
    await _publish(clients.nats_url, event, msg_id=new_id())
    await _publish(clients.nats_url, _receipt(org, a, ann, "20.00", receipt_id=receipt_id))
    await _settled(clients, org)

    assert await _points(clients, org, a, ann) == 20
    assert await _credits(clients, org) == 2  # the receipt's and the marker's


async def test_receipts_without_points_credit_nothing(clients: Clients) -> None:
    org, a = _id(), _id()
    ann = await _client(clients, org, a)
    await _card(clients, org, a, ann)
    nothing = [
        _receipt(org, a, ann, "0.99"),
        _receipt(org, a, ann, "0.00"),
        _receipt(org, a, ann, "-15.00"),
        _receipt(org, a, ann, "not an amount"),
        _receipt(org, a, "", "99.00"),  # an anonymous sale
        _receipt(org, a, _id(), "99.00"),  # a client without a card
    ]

    await _publish(clients.nats_url, *nothing)
    await _settled(clients, org)

    assert await _points(clients, org, a, ann) == 0
    assert await _credits(clients, org) == 1  # the marker's
    # Handled once each, not retried until given up.
    async with clients.db.read(organization_id=org) as session:
        handled = (
            await session.execute(
                select(processed_events.c.event_id).where(
                    processed_events.c.consumer == PAYMENTS_DURABLE,
                    processed_events.c.event_id.in_([e.id for e in nothing]),
                )
            )
        ).scalars()
        assert set(handled) == {e.id for e in nothing}


async def test_R01_another_organization_sees_no_card_and_its_receipts_credit_nothing(
    clients: Clients,
) -> None:
    org, other, a = _id(), _id(), _id()
    ann = await _client(clients, org, a)
    card = await _card(clients, org, a, ann)

    # The same establishment id and Ann's id, but another organization.
    assert await _cards(clients, other, a, ann) == []
    refused = await _error(_card(clients, other, a, ann))
    await _publish(clients.nats_url, _receipt(other, a, ann, "60.00"))
    await _settled(clients, other)
    await _settled(clients, org)

    assert (refused.code, refused.field) == (ErrorCode.NOT_FOUND, "clientId")
    assert await _cards(clients, org, a, ann) == [card]
    assert await _credits(clients, org) == 1  # the marker's
