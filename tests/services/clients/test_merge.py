"""B07 in the client file over a real clients process (real gRPC, NATS, SQLite and, with
TEST_DATABASE_URL, PostgreSQL): duplicate candidates, the merge and its single event, the
merged id that keeps resolving, the refusals, and two merges racing."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from sqlalchemy import func, select

from launcher.nats_server import NatsServer
from salon.clients.v1 import clients_pb2, clients_pb2_grpc, events_pb2
from salon.common.v1 import page_pb2
from services.clients.service import SPEC as CLIENTS
from services.clients.store import repository
from services.clients.store.tables import loyalty_credits, outbox
from services.common.db import Database
from services.common.errors import DomainError, ErrorCode, from_rpc_error
from services.common.scope import Role
from tests.support.services import Metadata, metadata, running

MERGED = "salon.clients.client.merged.v1"


@dataclass
class Clients:
    stub: clients_pb2_grpc.ClientsServiceStub
    db: Database


@pytest.fixture
async def clients(database_url: str, nats_server: NatsServer) -> AsyncIterator[Clients]:
    async with running(nats_server.url, {"clients": database_url}, {"clients": CLIENTS}) as s:
        db = Database(database_url)
        try:
            yield Clients(clients_pb2_grpc.ClientsServiceStub(s.channel("clients")), db)
        finally:
            await db.dispose()


def _id() -> str:
    return secrets.token_hex(16)


def _md(org: str, est: str, role: Role = Role.MANAGER) -> Metadata:
    return metadata(org, est, user_id=f"u-{role.value.lower()}", role=role)


async def _error(call: Awaitable[Any]) -> DomainError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error = from_rpc_error(caught.value)
    assert error is not None, caught.value
    return error


async def _create(
    clients: Clients, md: Metadata, first: str, last: str, **contact: str
) -> clients_pb2.Client:
    return await clients.stub.CreateClient(
        clients_pb2.CreateClientRequest(first_name=first, last_name=last, **contact),
        metadata=md,
        timeout=5,
    )


async def _merge(
    clients: Clients, md: Metadata, keep_id: str, merge_id: str
) -> clients_pb2.MergeClientsResponse:
    return await clients.stub.MergeClients(
        clients_pb2.MergeClientsRequest(keep_id=keep_id, merge_id=merge_id), metadata=md, timeout=10
    )


async def _duplicates(
    clients: Clients, md: Metadata, first: int = 50, after: str = ""
) -> clients_pb2.ListDuplicateClientsResponse:
    return await clients.stub.ListDuplicateClients(
        clients_pb2.ListDuplicateClientsRequest(
            page=page_pb2.PageRequest(first=first, after=after)
        ),
        metadata=md,
        timeout=5,
    )


async def _merged_events(clients: Clients, org: str) -> list[events_pb2.ClientMerged]:
    async with clients.db.read(organization_id=org) as conn:
        rows = await conn.execute(
            select(outbox.c.payload)
            .where(outbox.c.organization_id == org, outbox.c.type == MERGED)
            .order_by(outbox.c.id)
        )
        return [events_pb2.ClientMerged.FromString(r.payload) for r in rows]


async def test_B07_duplicates_by_email_and_phone_across_establishments(clients: Clients) -> None:
    org, a, b = _id(), _id(), _id()
    ann_a = await _create(clients, _md(org, a), "Ann", "Peeters", email="Ann.Peeters@Example.com")
    ann_b = await _create(
        clients, _md(org, b), "Anne", "Peeters", email=" ann.peeters@example.COM "
    )
    bob_a = await _create(clients, _md(org, a), "Bob", "Maes", phone="0470 12 34 56")
    bob_b = await _create(clients, _md(org, b), "Bob", "Maes", phone="+32 470 123 456")
    # Not candidates: the same e-mail twice in one establishment, an erased client, another
    # organization's client with Ann's e-mail.
    await _create(clients, _md(org, a), "Cas", "Wouters", email="cas@example.com")
    await _create(clients, _md(org, a), "Cas", "Wouters", email="CAS@example.com")
    erased = await _create(clients, _md(org, b), "Bob", "M", phone="0470123456")
    await clients.stub.EraseClient(
        clients_pb2.EraseClientRequest(id=erased.id), metadata=_md(org, b, Role.OWNER), timeout=5
    )
    await _create(clients, _md(_id(), a), "Ann", "Other", email="ann.peeters@example.com")

    reply = await _duplicates(clients, _md(org, b, Role.STAFF))
    assert reply.page_info.total_count == 2
    assert [(g.reason, g.value, [c.id for c in g.clients]) for g in reply.groups] == [
        (clients_pb2.DUPLICATE_REASON_EMAIL, "ann.peeters@example.com", [ann_a.id, ann_b.id]),
        (clients_pb2.DUPLICATE_REASON_PHONE, "+32470123456", [bob_a.id, bob_b.id]),
    ]
    assert not reply.page_info.has_next_page

    # Page by page: one group each, the cursor carries on from e-mail to phone groups.
    first = await _duplicates(clients, _md(org, a), first=1)
    assert [g.reason for g in first.groups] == [clients_pb2.DUPLICATE_REASON_EMAIL]
    assert first.page_info.has_next_page and first.page_info.total_count == 2
    second = await _duplicates(clients, _md(org, a), first=1, after=first.page_info.end_cursor)
    assert [g.value for g in second.groups] == ["+32470123456"]
    assert not second.page_info.has_next_page
    bad = await _error(_duplicates(clients, _md(org, a), after="not-a-cursor"))
    assert (bad.code, bad.field) == (ErrorCode.INVALID, "after")

    # Once merged, a group of two is a candidate no more.
    await _merge(clients, _md(org, a), ann_a.id, ann_b.id)
    after = await _duplicates(clients, _md(org, a))
    assert [g.reason for g in after.groups] == [clients_pb2.DUPLICATE_REASON_PHONE]
    assert after.page_info.total_count == 1


async def test_B07_merge_moves_history_cards_and_contacts_and_the_merged_id_resolves(
    clients: Clients,
) -> None:
    org, a, b, c = _id(), _id(), _id(), _id()
    kept = await _create(clients, _md(org, a), "Ann", "Peeters", email="ann@example.com")
    merged = await _create(
        clients, _md(org, b), "Anne", "Peeters", email="ANN@example.com", phone="0470123456"
    )
    # The merged client has history in A too (it was updated there) and cards in A and B;
    # the kept client has a card in A.
    await clients.stub.UpdateClient(
        clients_pb2.UpdateClientRequest(id=merged.id, first_name="Anne"),
        metadata=_md(org, a),
        timeout=5,
    )
    await clients.stub.UpdateClient(
        clients_pb2.UpdateClientRequest(id=merged.id, last_name="Peeters-Maes"),
        metadata=_md(org, a),
        timeout=5,
    )
    kept_card_a = await clients.stub.CreateLoyaltyCard(
        clients_pb2.CreateLoyaltyCardRequest(client_id=kept.id), metadata=_md(org, a), timeout=5
    )
    merged_card_a = await clients.stub.CreateLoyaltyCard(
        clients_pb2.CreateLoyaltyCardRequest(client_id=merged.id), metadata=_md(org, a), timeout=5
    )
    merged_card_b = await clients.stub.CreateLoyaltyCard(
        clients_pb2.CreateLoyaltyCardRequest(client_id=merged.id), metadata=_md(org, b), timeout=5
    )
    async with clients.db.write(organization_id=org) as conn:
        await repository.credit_loyalty_card(conn, org, a, kept.id, "r-kept", 10)
        await repository.credit_loyalty_card(conn, org, a, merged.id, "r-merged-1", 7)
        await repository.credit_loyalty_card(conn, org, a, merged.id, "r-merged-2", 5)
        await repository.credit_loyalty_card(conn, org, b, merged.id, "r-merged-b", 3)

    reply = await _merge(clients, _md(org, c, Role.OWNER), kept.id, merged.id)

    # The kept record: its own e-mail stays, the empty phone is filled, history is the union.
    assert reply.client.id == kept.id
    assert reply.client.email == "ann@example.com"
    assert reply.client.phone == "+32470123456"
    assert set(reply.client.establishment_ids) == {a, b}
    assert list(reply.folded_card_ids) == [merged_card_a.id]
    cards_a = await clients.stub.GetLoyaltyCards(
        clients_pb2.GetLoyaltyCardsRequest(client_ids=[kept.id, merged.id]),
        metadata=_md(org, a),
        timeout=5,
    )
    assert [(x.id, x.client_id, x.points) for x in cards_a.cards] == [(kept_card_a.id, kept.id, 22)]
    cards_b = await clients.stub.GetLoyaltyCards(
        clients_pb2.GetLoyaltyCardsRequest(client_ids=[kept.id]), metadata=_md(org, b), timeout=5
    )
    assert [(x.id, x.points) for x in cards_b.cards] == [(merged_card_b.id, 3)]
    async with clients.db.read(organization_id=org) as conn:
        credits = (
            await conn.execute(
                select(loyalty_credits.c.receipt_id, loyalty_credits.c.card_id)
                .where(loyalty_credits.c.organization_id == org)
                .order_by(loyalty_credits.c.receipt_id)
            )
        ).all()
    assert [tuple(r) for r in credits] == [
        ("r-kept", kept_card_a.id),
        ("r-merged-1", kept_card_a.id),
        ("r-merged-2", kept_card_a.id),
        ("r-merged-b", merged_card_b.id),
    ]

    # One event, with both ids and the kept record.
    (event,) = await _merged_events(clients, org)
    assert (event.kept_client_id, event.merged_client_id) == (kept.id, merged.id)
    assert event.kept == reply.client
    assert list(event.folded_card_ids) == [merged_card_a.id]

    # The merged id keeps resolving to the kept record; lists and search leave it out.
    got = await clients.stub.GetClients(
        clients_pb2.GetClientsRequest(ids=[merged.id, kept.id]), metadata=_md(org, a), timeout=5
    )
    assert [x.id for x in got.clients] == [kept.id]
    assert dict(got.merged) == {merged.id: kept.id}
    listed = await clients.stub.ListClients(
        clients_pb2.ListClientsRequest(page=page_pb2.PageRequest(first=50)),
        metadata=_md(org, a),
        timeout=5,
    )
    assert [x.id for x in listed.clients] == [kept.id]
    assert listed.page_info.total_count == 1
    found = await clients.stub.ListClients(
        clients_pb2.ListClientsRequest(page=page_pb2.PageRequest(first=50), search="0470 12 34"),
        metadata=_md(org, a),
        timeout=5,
    )
    assert [x.id for x in found.clients] == [kept.id]
    booked = await clients.stub.FindOrCreateClient(
        clients_pb2.CreateClientRequest(first_name="Anne", last_name="P", email="ann@example.com"),
        metadata=_md(org, b),
        timeout=5,
    )
    assert booked.client.id == kept.id and not booked.created
    # A card asked for the merged id lands on the kept record.
    card_c = await clients.stub.CreateLoyaltyCard(
        clients_pb2.CreateLoyaltyCardRequest(client_id=merged.id), metadata=_md(org, c), timeout=5
    )
    assert card_c.client_id == kept.id

    # A merged record cannot be changed or merged again; nothing more is published.
    error = await _error(
        clients.stub.UpdateClient(
            clients_pb2.UpdateClientRequest(id=merged.id, first_name="X"),
            metadata=_md(org, a),
            timeout=5,
        )
    )
    assert (error.code, error.field) == (ErrorCode.CONFLICT, "id")
    assert kept.id in error.message
    other = await _create(clients, _md(org, a), "Other", "Client")
    for keep_id, merge_id, field in (
        (kept.id, merged.id, "mergeId"),
        (other.id, merged.id, "mergeId"),
        (merged.id, other.id, "keepId"),
    ):
        error = await _error(_merge(clients, _md(org, a), keep_id, merge_id))
        assert (error.code, error.field) == (ErrorCode.CONFLICT, field)
    assert len(await _merged_events(clients, org)) == 1


async def test_B07_merge_of_a_kept_record_later_resolves_every_merged_id(
    clients: Clients,
) -> None:
    org, a, b = _id(), _id(), _id()
    first = await _create(clients, _md(org, a), "Ann", "One")
    second = await _create(clients, _md(org, b), "Ann", "Two")
    third = await _create(clients, _md(org, a), "Ann", "Three")
    await _merge(clients, _md(org, a), second.id, first.id)
    await _merge(clients, _md(org, a), third.id, second.id)
    got = await clients.stub.GetClients(
        clients_pb2.GetClientsRequest(ids=[first.id, second.id]), metadata=_md(org, a), timeout=5
    )
    assert [x.id for x in got.clients] == [third.id]
    assert dict(got.merged) == {first.id: third.id, second.id: third.id}
    assert set(got.clients[0].establishment_ids) == {a, b}


async def test_B07_refusals_change_nothing(clients: Clients) -> None:
    org, a, b = _id(), _id(), _id()
    ann = await _create(clients, _md(org, a), "Ann", "Peeters", email="ann@example.com")
    anne = await _create(clients, _md(org, b), "Anne", "Peeters", email="ann@example.com")
    foreign = await _create(clients, _md(_id(), a), "Ann", "Peeters", email="ann@example.com")
    erased = await _create(clients, _md(org, b), "Ann", "Erased")
    await clients.stub.EraseClient(
        clients_pb2.EraseClientRequest(id=erased.id), metadata=_md(org, b, Role.OWNER), timeout=5
    )
    md = _md(org, a)

    itself = await _error(_merge(clients, md, ann.id, ann.id))
    assert (itself.code, itself.field) == (ErrorCode.INVALID, "mergeId")
    empty = await _error(_merge(clients, md, "", ann.id))
    assert (empty.code, empty.field) == (ErrorCode.INVALID, "keepId")
    # R01: another organization's client answers as an unknown id does.
    for keep_id, merge_id, field in (
        (ann.id, foreign.id, "mergeId"),
        (foreign.id, ann.id, "keepId"),
        (ann.id, _id(), "mergeId"),
    ):
        error = await _error(_merge(clients, md, keep_id, merge_id))
        assert (error.code, error.field, error.message) == (
            ErrorCode.NOT_FOUND,
            field,
            (await _error(_merge(clients, md, ann.id, _id()))).message,
        )
    for keep_id, merge_id, field in ((ann.id, erased.id, "mergeId"), (erased.id, ann.id, "keepId")):
        error = await _error(_merge(clients, md, keep_id, merge_id))
        assert (error.code, error.field) == (ErrorCode.CONFLICT, field)
    staff = await _error(_merge(clients, _md(org, a, Role.STAFF), ann.id, anne.id))
    assert staff.code is ErrorCode.FORBIDDEN

    assert await _merged_events(clients, org) == []
    got = await clients.stub.GetClients(
        clients_pb2.GetClientsRequest(ids=[ann.id, anne.id]), metadata=md, timeout=5
    )
    assert [(x.id, list(x.establishment_ids)) for x in got.clients] == [
        (ann.id, [a]),
        (anne.id, [b]),
    ]
    assert not got.merged
    assert len((await _duplicates(clients, md)).groups) == 1


@pytest.mark.parametrize("opposite", [True, False], ids=["A-into-B-and-B-into-A", "twice"])
async def test_B07_two_merges_racing_exactly_one_succeeds(clients: Clients, opposite: bool) -> None:
    org, a, b = _id(), _id(), _id()
    md = _md(org, a)
    for _ in range(3):
        x = await _create(clients, _md(org, a), "Ann", "Peeters", email="ann@example.com")
        y = await _create(clients, _md(org, b), "Ann", "Peeters", phone="0470123456")
        await clients.stub.CreateLoyaltyCard(
            clients_pb2.CreateLoyaltyCardRequest(client_id=x.id), metadata=md, timeout=5
        )
        await clients.stub.CreateLoyaltyCard(
            clients_pb2.CreateLoyaltyCardRequest(client_id=y.id), metadata=md, timeout=5
        )
        calls = [_merge(clients, md, y.id, x.id)]
        calls.append(
            _merge(clients, md, x.id, y.id) if opposite else _merge(clients, md, y.id, x.id)
        )
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
        wins = [o for o in outcomes if isinstance(o, clients_pb2.MergeClientsResponse)]
        losses = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
        assert len(wins) == 1 and len(losses) == 1, outcomes
        loss = from_rpc_error(losses[0])
        assert loss is not None and loss.code is ErrorCode.CONFLICT
        winner = wins[0].client.id
        loser = y.id if winner == x.id else x.id
        got = await clients.stub.GetClients(
            clients_pb2.GetClientsRequest(ids=[x.id, y.id]), metadata=md, timeout=5
        )
        assert [c.id for c in got.clients] == [winner]
        assert dict(got.merged) == {loser: winner}
        cards = await clients.stub.GetLoyaltyCards(
            clients_pb2.GetLoyaltyCardsRequest(client_ids=[x.id, y.id]), metadata=md, timeout=5
        )
        assert [c.client_id for c in cards.cards] == [winner]
    async with clients.db.read(organization_id=org) as conn:
        count = (
            await conn.execute(
                select(func.count())
                .select_from(outbox)
                .where(outbox.c.organization_id == org, outbox.c.type == MERGED)
            )
        ).scalar_one()
    assert count == 3


async def test_B07_a_card_created_while_the_client_is_merged_lands_on_the_kept_record(
    clients: Clients,
) -> None:
    org, a, b = _id(), _id(), _id()
    for _ in range(3):
        kept = await _create(clients, _md(org, a), "Ann", "Peeters")
        merged = await _create(clients, _md(org, b), "Ann", "Peeters")
        outcomes = await asyncio.gather(
            _merge(clients, _md(org, a), kept.id, merged.id),
            clients.stub.CreateLoyaltyCard(
                clients_pb2.CreateLoyaltyCardRequest(client_id=merged.id),
                metadata=_md(org, b),
                timeout=10,
            ),
        )
        card = outcomes[1]
        assert isinstance(card, clients_pb2.LoyaltyCard)
        cards = await clients.stub.GetLoyaltyCards(
            clients_pb2.GetLoyaltyCardsRequest(client_ids=[kept.id, merged.id]),
            metadata=_md(org, b),
            timeout=5,
        )
        assert [(c.id, c.client_id) for c in cards.cards] == [(card.id, kept.id)]
