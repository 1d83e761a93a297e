"""GraphQL event subscriptions (B06): the gateway's fan-out on a real NATS, then end to end
over a real WebSocket (graphql-transport-ws) with every process running: a subscriber sees
its establishment's events (staff) or its organization's (owner), never another
organization's (R01); the types filter; no session, no subscription."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import nats
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from gateway.events.hub import EventHub, SubscriberDropped
from launcher.nats_server import NatsServer
from launcher.stack import Stack
from services.common.db import new_id, utcnow
from services.common.events import Event, EventType
from tests.e2e.test_agenda import _ok
from tests.support.graphql import Gql, Org, sign_up, unique_email

CREATED = EventType("clients", "client", "created")
UPDATED = EventType("clients", "client", "updated")


# ------------------------------------------------------------------ the fan-out


def _client_event(organization_id: str, establishment_id: str, n: int) -> Event:
    return Event(
        id=new_id(),
        type=CREATED.name,
        source="/salon/clients",
        time=utcnow(),
        organization_id=organization_id,
        establishment_id=establishment_id,
        actor_id=None,
        subject=CREATED.subject(organization_id, establishment_id),
        data=str(n).encode(),
    )


async def test_B06_R01_one_nats_subscription_fans_out_and_a_slow_subscriber_is_dropped(
    nats_server: NatsServer,
) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        hub = EventHub(nc, queue_limit=5)
        org, est = new_id(), new_id()
        # The hub itself keeps organizations apart, whatever a subscriber's filter says.
        mine: Callable[[Event], bool] = lambda _event: True  # noqa: E731
        async with hub.listen(org, mine) as fast, hub.listen(org, mine) as slow:
            assert hub.listeners == 2 and len(nc._subs) == 1  # one NATS subscription
            # Another organization's events are never offered to them.
            await _publish(nc, _client_event(new_id(), est, -1))
            for n in range(8):
                await _publish(nc, _client_event(org, est, n))
                # The fast one reads each event as it comes.
                got = await fast.next(wait=5)
                assert got is not None and got.data == str(n).encode()
            # The slow one, 5 behind when the 6th came, was dropped (its queue emptied).
            assert slow.dropped and hub.listeners == 1
            with pytest.raises(SubscriberDropped):
                await slow.next(wait=5)
        # The last subscriber gone, the NATS subscription goes too.
        assert hub.listeners == 0 and len(nc._subs) == 0
        # Stopping the hub ends a subscriber after what it has waiting.
        async with hub.listen(org, mine) as last:
            await hub.stop()
            assert await last.next(wait=5) is None
    finally:
        await nc.close()


async def _publish(nc: nats.NATS, event: Event) -> None:
    await nc.publish(event.subject, event.data, headers=event.headers())


# ------------------------------------------------------------------ over WebSocket

EVENTS = """subscription($types: [String!]) {
  events(types: $types) { id type establishmentId occurredAt data } }"""
CREATE_CLIENT = """mutation($input: CreateClientInput!) { createClient(input: $input) {
  client { id } errors { code } } }"""
UPDATE_CLIENT = """mutation($input: UpdateClientInput!) { updateClient(input: $input) {
  client { id } errors { code } } }"""
CREATE_EST = """mutation($input: CreateEstablishmentInput!) { createEstablishment(input: $input) {
  establishment { id } errors { code } } }"""
ADD_MEMBER = """mutation($input: AddMemberInput!) { addMember(input: $input) {
  user { id } errors { code } } }"""
LOGIN = """mutation($input: LoginInput!) { login(input: $input) { session { token }
  errors { code } } }"""
PROTOCOL = Subprotocol("graphql-transport-ws")


def _ws_url(stack: Stack) -> str:
    return stack.graphql_url.replace("http://", "ws://")


@asynccontextmanager
async def _connect(
    stack: Stack, payload: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> AsyncIterator[ClientConnection]:
    async with connect(
        _ws_url(stack), subprotocols=[PROTOCOL], additional_headers=headers, proxy=None
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
        yield ws


class Subscriber:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def next(self, wait: float) -> dict[str, Any] | None:
        """The next event, or None when none came in `wait` seconds."""
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = json.loads(await asyncio.wait_for(self.ws.recv(), left))
            except TimeoutError:
                return None
            if message["type"] == "ping":
                await self.ws.send(json.dumps({"type": "pong"}))
                continue
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            event: dict[str, Any] = message["payload"]["data"]["events"]
            return event
        return None

    async def until(self, client_id: str, wait: float = 15) -> list[dict[str, Any]]:
        """Every event up to the one about `client_id` (included)."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            event = await self.next(deadline - time.monotonic())
            if event is None:
                break
            seen.append(event)
            if _client_id(event) == client_id:
                return seen
        raise AssertionError(f"no event about {client_id} in {wait}s: {seen}")


def _client_id(event: dict[str, Any]) -> str | None:
    client = json.loads(event["data"]).get("client") or {}
    return client.get("id")


@asynccontextmanager
async def _subscribe(
    stack: Stack, token: str, types: list[str] | None = None
) -> AsyncIterator[Subscriber]:
    async with _connect(stack, {"Authorization": f"Bearer {token}"}) as ws:
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        subscribe = {"query": EVENTS, "variables": {"types": types}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
        yield Subscriber(ws)


async def _call(api: Gql, query: str, name: str, **variables: Any) -> dict[str, Any]:
    """A mutation over HTTP, off the event loop (the WebSockets keep reading)."""
    return _ok(await asyncio.to_thread(api, query, **variables), name)


async def _new_client(api: Gql, name: str = "Ann") -> str:
    payload = await _call(
        api, CREATE_CLIENT, "createClient", input={"firstName": name, "lastName": "Peeters"}
    )
    return str(payload["client"]["id"])


async def _live(subscriber: Subscriber, act: Callable[[], Any]) -> None:
    """The server registers a subscription a moment after `subscribe` (the protocol has no
    answer to it): act until an event arrives, so later events cannot be missed."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        await act()
        if await subscriber.next(0.5) is not None:
            return
    raise AssertionError("the subscription never delivered an event")


def _token(gql: Gql, email: str, password: str, establishment_id: str) -> str:
    login = gql.as_(None)(
        LOGIN, input={"email": email, "password": password, "establishmentId": establishment_id}
    )["login"]
    assert login["errors"] == [], login["errors"]
    return str(login["session"]["token"])


@pytest.mark.e2e
async def test_B06_R01_subscribers_see_their_establishment_or_organization_never_another(
    stack: Stack, gql: Gql
) -> None:
    # Given organization A (Antwerpen, Gent; a stylist in Antwerpen, the owner also signed
    # in to Gent) and organization B
    a: Org = await asyncio.to_thread(sign_up, gql, "Salon A")
    b: Org = await asyncio.to_thread(sign_up, gql, "Salon B")
    antwerpen = a.establishment_id
    gent = (await _call(a.api, CREATE_EST, "createEstablishment", input={"name": "Gent"}))[
        "establishment"
    ]["id"]
    email = unique_email("stylist")
    member = {"email": email, "name": "Stylist", "password": "stylist-pass-1", "role": "STAFF"}
    await _call(a.api, ADD_MEMBER, "addMember", input=member)
    stylist = await asyncio.to_thread(_token, gql, email, "stylist-pass-1", antwerpen)
    owner_in_gent = a.api.as_(await asyncio.to_thread(_token, gql, a.owner_email, a.password, gent))
    assert a.api.token and b.api.token

    async with (
        _subscribe(stack, stylist) as staff,
        _subscribe(stack, a.api.token) as owner,
        _subscribe(stack, b.api.token) as other,
    ):
        await _live(staff, lambda: _new_client(a.api, "Warm"))
        await _live(owner, lambda: _new_client(a.api, "Warm"))
        await _live(other, lambda: _new_client(b.api, "Warm"))

        # When clients are created, one after the other by the clients service (whose
        # events go out in this order): in B, in A's Gent, in A's Antwerpen, in B again
        in_b = await _new_client(b.api, "B")
        in_gent = await _new_client(owner_in_gent, "Gent")
        in_antwerpen = await _new_client(a.api, "Antwerpen")
        in_b_again = await _new_client(b.api, "B2")

        # Then the stylist sees Antwerpen's, not Gent's nor B's (they came before it)
        seen = await staff.until(in_antwerpen)
        ids = [_client_id(e) for e in seen]
        assert in_gent not in ids and in_b not in ids
        assert {e["establishmentId"] for e in seen} <= {antwerpen, None}
        event = seen[-1]
        assert event["type"] == CREATED.name and event["establishmentId"] == antwerpen
        assert json.loads(event["data"])["client"]["firstName"] == "Antwerpen"
        assert abs((datetime.fromisoformat(event["occurredAt"]) - utcnow()).total_seconds()) < 60
        # ... A's owner sees all of A: Gent's, then Antwerpen's, never B's
        ids = [_client_id(e) for e in await owner.until(in_antwerpen)]
        assert in_gent in ids and ids.index(in_gent) < ids.index(in_antwerpen)
        assert in_b not in ids
        # ... and B's owner sees B's two, not A's in between.
        ids = [_client_id(e) for e in await other.until(in_b_again)]
        assert in_b in ids and in_gent not in ids and in_antwerpen not in ids


@pytest.mark.e2e
async def test_B06_the_types_filter_keeps_the_listed_types(stack: Stack, gql: Gql) -> None:
    org: Org = await asyncio.to_thread(sign_up, gql)
    client = await _new_client(org.api)
    assert org.api.token

    async def update(name: str) -> None:
        await _call(org.api, UPDATE_CLIENT, "updateClient", input={"id": client, "firstName": name})

    async with _subscribe(stack, org.api.token, types=[UPDATED.name]) as updates:
        await _live(updates, lambda: update("Warm"))
        # A client created, then one updated: only the update comes, first.
        created = await _new_client(org.api, "Created")
        await update("Filtered")
        event = await updates.next(15)
        assert event is not None and event["type"] == UPDATED.name
        data = json.loads(event["data"])
        assert data["client"]["id"] == client and data["client"]["firstName"] == "Filtered"
        assert data["changedFields"] == ["first_name"]
        assert created != client


@pytest.mark.e2e
async def test_B06_no_session_no_subscription(stack: Stack, gql: Gql) -> None:
    async def closed_with(payload: dict[str, Any], headers: dict[str, str] | None = None) -> int:
        async with _connect(stack, payload, headers) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None
        return closed.value.rcvd.code

    # No token, a token that is no session, an Authorization that is not a bearer token.
    assert await closed_with({}) == 4403
    assert await closed_with({"Authorization": f"Bearer {secrets.token_urlsafe(32)}"}) == 4403
    assert await closed_with({"Authorization": "Basic b3duZXI6cGFzcw=="}) == 4403
    # A subscription before connection_init is refused by the protocol.
    async with connect(_ws_url(stack), subprotocols=[PROTOCOL], proxy=None) as ws:
        subscribe = {"query": EVENTS}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401

    org: Org = await asyncio.to_thread(sign_up, gql)
    # The session cookie of a same-origin page is a session too.
    cookie = {"Cookie": f"salon_session={org.api.token}"}
    async with _connect(stack, {}, cookie) as ws:
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        # Over the socket, subscriptions only; a bad types filter is an error.
        for n, (query, variables) in enumerate(
            [("{ me { token } }", {}), (EVENTS, {"types": ["client.created"]})]
        ):
            payload = {"query": query, "variables": variables}
            await ws.send(json.dumps({"id": str(n), "type": "subscribe", "payload": payload}))
            answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
            errors = answer["payload"] if answer["type"] == "error" else answer["payload"]["errors"]
            assert errors[0]["extensions"]["code"] == "INVALID", answer
