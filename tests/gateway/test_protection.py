"""Each limit of gateway/protection refused through the gateway application over HTTP (its
own database, a real NATS; no service listens at the backends' addresses, so a request
that got past the limits shows a backend call in `extensions.backendCalls`): depth,
aliases, tokens, batches, `first`, cost, introspection and GraphiQL in production, the
body size, and failed logins throttled per e-mail address and per client address, shared
by two gateway replicas on one database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from starlette.applications import Starlette

from gateway.app import MIGRATIONS, create_app
from gateway.protection.login import client_key
from gateway.settings import GatewaySettings
from gateway.store.tables import login_failures, metadata
from launcher.nats_server import NatsServer
from launcher.stack import free_port
from services.common import migrations
from services.common.db import Database
from tests.support.graphql import SIGN_UP, unique_email
from tests.support.services import SECRET

PASSWORD = "correct horse battery"
LOGIN = """mutation($input: LoginInput!) { login(input: $input) {
  session { token } errors { field code message } } }"""
CLIENTS = "query($n: Int) { clients(first: $n) { totalCount } }"
# 1 + first * (edges 1 + node (1 + 3 fields + appointments 131 + 4 lists of 21 + loyalty 2)):
# with first 100 it costs 22 201, with 50 11 101 (the default limit is 20 000).
COSTLY = """query($n: Int) { clients(first: $n) { edges { node { id firstName lastName
  appointments { id start end status service { name } staff { name } establishment { name }
    deposit { id amount } }
  establishments { id name } deposits { id amount } giftCards { id balance }
  subscriptions { id name } loyaltyCard { id } } } } }"""


@dataclass
class Gateway:
    app: Starlette

    def http(self, client: str = "192.0.2.1") -> httpx.AsyncClient:
        """A caller at `client` (the address the gateway sees)."""
        transport = httpx.ASGITransport(app=self.app, client=(client, 50000))
        return httpx.AsyncClient(transport=transport, base_url="http://gateway")

    async def post(self, body: Any, token: str | None = None, client: str = "192.0.2.1") -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http(client) as http:
            reply = await http.post("/graphql", json=body, headers=headers)
        assert reply.status_code == 200, reply.text
        return reply.json()

    async def gql(
        self, query: str, token: str | None = None, client: str = "192.0.2.1", **variables: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = await self.post(
            {"query": query, "variables": variables}, token, client
        )
        return body

    async def sign_up(self, email: str) -> str:
        body = await self.gql(
            SIGN_UP,
            input={
                "organizationName": "Protected Salon",
                "establishmentName": "A",
                "email": email,
                "name": "Owner",
                "password": PASSWORD,
            },
        )
        return str(body["data"]["signUp"]["session"]["token"])

    async def login(self, email: str, password: str, client: str) -> tuple[str, str]:
        """(the outcome: OK or the error code, its message)."""
        body = await self.gql(LOGIN, client=client, input={"email": email, "password": password})
        login = body["data"]["login"]
        if login["session"] is not None:
            return "OK", ""
        [error] = login["errors"]
        return error["code"], error["message"]


def _settings(database_url: str, nats_url: str, **extra: Any) -> GatewaySettings:
    nowhere = f"127.0.0.1:{free_port()}"
    return GatewaySettings(
        database_url=database_url,
        nats_url=nats_url,
        scope_secret=SECRET,
        clients_addr=nowhere,
        catalog_addr=nowhere,
        inventory_addr=nowhere,
        booking_addr=nowhere,
        payments_addr=nowhere,
        **extra,
    )


@asynccontextmanager
async def serving(settings: GatewaySettings) -> AsyncIterator[Gateway]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield Gateway(app)


@pytest.fixture
async def gateway(tmp_path: Path, nats_server: NatsServer) -> AsyncIterator[Gateway]:
    """The gateway with the default limits, on SQLite (what is tested here does not
    depend on the database)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    async with serving(_settings(url, nats_server.url)) as gw:
        yield gw


def _limit(body: dict[str, Any]) -> str | None:
    """The limit an answer was refused for, if any."""
    for error in body.get("errors") or []:
        if (error.get("extensions") or {}).get("code") == "TOO_COMPLEX":
            return str(error["extensions"]["limit"])
    return None


def _nested(depth: int) -> str:
    """A query `depth` levels deep: organization { establishments { organization ..."""
    names = ["organization", "establishments"]
    opening = " ".join(f"{names[i % 2]} {{" for i in range(depth))
    return "{ " + opening + " id" + " }" * depth + " }"


def _aliases(count: int) -> str:
    return " ".join(f"a{i}: __typename" for i in range(count))


def _hours(count: int) -> str:
    """20 tokens around the list, 11 per opening hours: 360 make 3980, 363 make 4013."""
    hours = '{ weekday: 1, opens: "09:00", closes: "18:00" }' * count
    return f"mutation {{ setOpeningHours(input: {{ hours: [{hours}] }}) {{ errors {{ code }} }} }}"


async def test_depth_aliases_tokens_and_batches_are_refused(gateway: Gateway) -> None:
    deep = await gateway.gql(_nested(13))
    assert _limit(deep) == "depth" and deep["data"] is None
    assert deep["errors"][0]["extensions"]["actual"] == 13
    assert "13 levels deep; at most 12" in deep["errors"][0]["message"]
    # 12 levels pass the depth limit (lists in lists then cost too much to run).
    assert _limit(await gateway.gql(_nested(12))) == "cost"
    # A fragment adds no level of its own, but what it selects counts where it is spread.
    hidden = "query { ...Deep } fragment Deep on Query " + _nested(13)
    assert _limit(await gateway.gql(hidden)) == "depth"

    assert (await gateway.gql("{ " + _aliases(30) + " }"))["data"]["a29"] == "Query"
    refused = await gateway.gql("{ " + _aliases(31) + " }")
    assert _limit(refused) == "aliases" and refused["data"] is None
    # Spread twice, a fragment's aliases count twice.
    twice = "{ ...A ...A } fragment A on Query { " + _aliases(16) + " }"
    assert _limit(await gateway.gql(twice)) == "aliases"

    long = await gateway.gql(_hours(363))
    assert long["data"] is None
    assert "more than 4000 tokens" in long["errors"][0]["message"]
    [error] = (await gateway.gql(_hours(360)))["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"  # parsed, validated, executed

    async with gateway.http() as http:
        one = {"query": "{ __typename }"}
        batch = await http.post("/graphql", json=[one, one])
        single = await http.post("/graphql", json=one)
    assert batch.status_code == 400 and batch.text == "Batching is not enabled"
    assert single.status_code == 200 and single.json()["data"] == {"__typename": "Query"}


async def test_first_above_100_and_costly_operations_are_refused_before_any_call(
    gateway: Gateway,
) -> None:
    token = await gateway.sign_up(unique_email())
    for query, variables in [
        ("{ clients(first: 101) { totalCount } }", {}),
        (CLIENTS, {"n": 1000}),
    ]:
        body = await gateway.gql(query, token, **variables)
        [error] = body["errors"]
        assert error["extensions"] == {"code": "INVALID", "field": "first"}
        assert error["message"].startswith("clients: first must be at most 100")
        assert body["data"] is None and body["extensions"]["backendCalls"] == {}
    # At the cap, the request goes through (and fails at the backend nobody serves).
    assert (await gateway.gql(CLIENTS, token, n=100))["extensions"]["backendCalls"] == {
        "clients": 1
    }

    costly = await gateway.gql(COSTLY, token, n=100)
    assert _limit(costly) == "cost" and costly["data"] is None
    assert costly["extensions"] == {"backendCalls": {}, "cost": 22201}
    assert "costs 22201; at most 20000" in costly["errors"][0]["message"]
    allowed = await gateway.gql(COSTLY, token, n=50)
    assert _limit(allowed) is None
    assert allowed["extensions"] == {"backendCalls": {"clients": 1}, "cost": 11101}
    # `first` left out: the argument's default (50) counts.
    default = await gateway.gql(COSTLY.replace("($n: Int)", "").replace("(first: $n)", ""), token)
    assert default["extensions"]["cost"] == 11101

    # Fragments spreading each other twice, 40 deep: counted as expanded (2 * 2^40 fields),
    # each walked once, so the refusal is immediate.
    bomb = "query { ...F0 } " + " ".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40)
    )
    bomb += " fragment F40 on Query { me { role } }"
    refused = await gateway.gql(bomb, token)
    assert _limit(refused) == "cost"
    assert refused["extensions"] == {"backendCalls": {}, "cost": 2 * 2**40}


async def test_introspection_graphiql_and_suggestions_only_outside_production(
    gateway: Gateway, tmp_path: Path, nats_server: NatsServer
) -> None:
    introspection = "{ __schema { queryType { name } } }"
    typo = "{ organizatio { id } }"
    html = {"Accept": "text/html"}
    url = f"sqlite+aiosqlite:///{tmp_path / 'production.db'}"
    async with serving(_settings(url, nats_server.url, mode="production")) as production:
        async with gateway.http() as http:
            assert (await http.get("/graphql", headers=html)).status_code == 200
        async with production.http() as http:
            assert (await http.get("/graphql", headers=html)).status_code == 404
        development = await gateway.gql(introspection)
        assert development["data"]["__schema"]["queryType"]["name"] == "Query"
        refused = await production.gql(introspection)
        assert refused["data"] is None
        assert "introspection" in refused["errors"][0]["message"].lower()
        # Nor does a typo spell out the schema.
        [error] = (await gateway.gql(typo))["errors"]
        assert "Did you mean 'organization'?" in error["message"]
        [error] = (await production.gql(typo))["errors"]
        assert error["message"] == "Cannot query field 'organizatio' on type 'Query'."


async def test_request_bodies_above_the_cap_get_413_before_they_are_read(
    gateway: Gateway,
) -> None:
    cap = GatewaySettings().max_body_bytes
    pulled: list[int] = []

    async def body(chunks: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
        for i in range(chunks):
            pulled.append(i)
            yield b" " * size

    async with gateway.http() as http:
        # A declared length above the cap: refused before a byte is read.
        declared = await http.post(
            "/graphql",
            content=body(64),
            headers={"Content-Type": "application/json", "Content-Length": str(cap + 1)},
        )
        assert declared.status_code == 413 and pulled == []
        assert declared.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
        # Streamed without a length (chunked): counted as it arrives, cut past the cap.
        streamed = await http.post(
            "/graphql", content=body(64), headers={"Content-Type": "application/json"}
        )
        assert streamed.status_code == 413
        assert len(pulled) == cap // (64 * 1024) + 1
        # The webhook's route too.
        webhook = await http.post("/webhooks/mollie/org", content=b"id=" + b"x" * cap)
        assert webhook.status_code == 413
        # At the cap, the body is read and parsed as usual.
        padded = b'{"query": "{ __typename }"}'.ljust(cap, b" ")
        ok = await http.post(
            "/graphql", content=padded, headers={"Content-Type": "application/json"}
        )
        assert ok.status_code == 200 and ok.json()["data"] == {"__typename": "Query"}


async def test_failed_logins_are_throttled_per_email_and_per_client_address(
    database_url: str, nats_server: NatsServer
) -> None:
    settings = _settings(database_url, nats_server.url, login_max_failures_per_ip=8)
    assert settings.login_max_failures == 5 and settings.login_window_seconds == 15 * 60
    async with serving(settings) as gw:
        lena, tom = unique_email("lena"), unique_email("tom")
        await gw.sign_up(lena)
        await gw.sign_up(tom)
        here, there = "198.51.100.7", "2001:db8:1:2::7"
        for _ in range(4):
            assert (await gw.login(lena, "wrong", here))[0] == "INVALID"
        assert (await gw.login(lena, PASSWORD, here))[0] == "OK"
        # A success starts the e-mail's count again: 4 more failures are still answered.
        for _ in range(4):
            assert (await gw.login(lena, "wrong", here))[0] == "INVALID"
        # ... but not the address's: its 8 failures stop even a right password there.
        code, message = await gw.login(tom, PASSWORD, here)
        assert (code, message) == (
            "TOO_MANY_ATTEMPTS",
            "too many failed logins: try again in 15 minute(s)",
        )
        assert (await gw.login(unique_email("nobody"), "whatever", here))[0] == "TOO_MANY_ATTEMPTS"
        assert (await gw.login(tom, PASSWORD, there))[0] == "OK"
        # The fifth failure for one e-mail address, from anywhere, stops it everywhere, the
        # right password included, whatever the case of the address; others go on.
        assert (await gw.login(lena.upper(), "wrong", there))[0] == "INVALID"
        assert (await gw.login(lena, PASSWORD, there))[0] == "TOO_MANY_ATTEMPTS"
        # Another host of the same IPv6 /64 is the same client.
        assert client_key("2001:db8:1:2::8") == client_key(there) != client_key("2001:db8::7")

        # Fifteen minutes later (the failures moved back in time), both work again.
        async with _db(settings) as db, db.write() as conn:
            rows = (await conn.execute(select(login_failures.c.id, login_failures.c.at))).all()
            for row in rows:
                earlier = row.at - timedelta(minutes=15)
                table = login_failures
                await conn.execute(update(table).where(table.c.id == row.id).values(at=earlier))
        assert (await gw.login(lena, PASSWORD, there))[0] == "OK"
        assert (await gw.login(tom, PASSWORD, here))[0] == "OK"


@asynccontextmanager
async def _db(settings: GatewaySettings) -> AsyncIterator[Database]:
    db = Database(settings.database_url)
    try:
        yield db
    finally:
        await db.dispose()


async def test_concurrent_failed_logins_on_two_replicas_stop_at_the_limit(
    database_url: str, nats_server: NatsServer
) -> None:
    settings = _settings(database_url, nats_server.url)
    async with serving(settings) as one, serving(settings) as two:
        email = unique_email("target")
        await one.sign_up(email)
        outcomes = await asyncio.gather(
            *(
                (one if i % 2 else two).login(email, f"guess-{i}", f"203.0.113.{i}")
                for i in range(12)
            )
        )
        codes = sorted(code for code, _message in outcomes)
        assert codes == ["INVALID"] * 5 + ["TOO_MANY_ATTEMPTS"] * 7
        assert (await two.login(email, PASSWORD, "203.0.113.99"))[0] == "TOO_MANY_ATTEMPTS"


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_the_migrations_build_exactly_the_tables_of_tables_py(database_url: str) -> None:
    db = Database(database_url)
    try:
        await migrations.upgrade(db, MIGRATIONS)
        async with db.read() as conn:
            assert await conn.run_sync(_differences) == []
    finally:
        await db.dispose()


def test_subscriptions_over_websocket_get_the_first_cap_and_the_cost_limit() -> None:
    """Strawberry's subscription path skips the schema's CostLimit extension: the WebSocket
    handler applies the same check before it subscribes (its other refusal, queries and
    mutations over the socket, is shown end to end in tests/e2e/test_event_subscription.py)."""
    from types import SimpleNamespace

    from gateway.events.websocket import SubscriptionsOnly
    from gateway.protection import Limits
    from gateway.schema import build_schema

    limits = Limits(max_cost=4)
    handler = SubscriptionsOnly.__new__(SubscriptionsOnly)
    handler.view = SimpleNamespace(limits=limits)  # type: ignore[assignment]
    handler.schema = build_schema(limits=limits)

    def refused(query: str) -> list[str]:
        message: Any = {"id": "1", "type": "subscribe", "payload": {"query": query}}
        return [e.message for e in handler._refusals(message)]

    assert refused("subscription { events { id type } }") == []  # costs 3
    [costly] = refused("subscription { events { id type occurredAt data } }")  # costs 5
    assert "costs 5; at most 4" in costly
    [query] = refused("{ me { token } }")
    assert "only subscriptions" in query
