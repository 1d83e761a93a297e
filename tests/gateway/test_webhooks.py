"""Webhooks for partners (B06), through the in-process gateway with a real NATS, a real
database and a real HTTP receiver on loopback: registration and its URL checks in
production mode, signed deliveries that verify with an independent check, retries with
growing delays, one organization's events never at another's endpoint, owners only, the
secret shown once and never logged, one claim per delivery across replicas."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import logging
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import orjson
import pytest
import uvicorn
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.settings import GatewaySettings
from gateway.store.tables import webhook_endpoints
from gateway.webhooks import signing, store
from launcher.nats_server import NatsServer
from launcher.stack import free_port
from services.common import migrations
from services.common.db import Database, utcnow
from tests.gateway.test_protection import MIGRATIONS, PASSWORD, Gateway, _settings, serving
from tests.support.graphql import SIGN_UP, unique_email

REGISTER = """mutation($input: RegisterWebhookInput!) { registerWebhook(input: $input) {
  webhook { id url eventTypes enabled createdAt } secret errors { field code message } } }"""
WEBHOOKS = "{ webhooks { id url eventTypes enabled createdAt } }"
DELIVERIES = """query($id: ID!) { webhookDeliveries(webhookId: $id, first: 50) {
  id eventId eventType status attempts nextAttemptAt lastStatusCode lastError deliveredAt } }"""
DELETE = """mutation($id: ID!) { deleteWebhook(input: {id: $id}) {
  deletedWebhookId errors { field code message } } }"""
CREATE_ESTABLISHMENT = """mutation($name: String!) { createEstablishment(input: {name: $name}) {
  establishment { id } errors { code } } }"""
ADD_MEMBER = """mutation($input: AddMemberInput!) { addMember(input: $input) {
  user { id } errors { field code message } } }"""
LOGIN = """mutation($input: LoginInput!) { login(input: $input) { session { token } } }"""
ESTABLISHMENT_CREATED = "salon.tenancy.establishment.created.v1"


# ------------------------------------------------------------------ the receiver


@dataclass
class Arrival:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """A partner's HTTP server on loopback: records every request; answers each path with
    the next of its scripted statuses (then 200)."""

    url: str
    arrivals: list[Arrival] = field(default_factory=list)
    script: dict[str, list[int]] = field(default_factory=dict)

    def at(self, path: str) -> list[Arrival]:
        return [a for a in self.arrivals if a.path == path]


@pytest.fixture
def nats_server(fresh_nats_server: NatsServer) -> NatsServer:
    """The gateway's consumers read the stream from its start: a server of their own."""
    return fresh_nats_server


@asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    port = free_port()
    receiver = Receiver(f"http://127.0.0.1:{port}")

    async def hook(request: Request) -> Response:
        path = request.url.path
        receiver.arrivals.append(
            Arrival(path, dict(request.headers), await request.body(), time.monotonic())
        )
        statuses = receiver.script.get(path) or [200]
        status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
        if status in (301, 302, 307):
            return Response(status_code=status, headers={"location": "/redirected"})
        return Response(status_code=status)

    app = Starlette(routes=[Route("/{path:path}", hook, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    # uvicorn offers no event to wait on.
    while not server.started:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task


# ------------------------------------------------------------------ helpers


def verify(secret: str, headers: dict[str, str], body: bytes, tolerance: int = 300) -> bool:
    """A receiver's check, written from the Standard Webhooks specification, not from
    gateway/webhooks/signing.py."""
    key = base64.b64decode(secret.split("_", 1)[1])
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = base64.b64encode(
        hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    ).decode()
    return any(
        version == "v1" and hmac.compare_digest(signature, expected)
        for version, _, signature in (
            part.partition(",") for part in headers["webhook-signature"].split()
        )
    )


async def sign_up(gw: Gateway, name: str) -> tuple[str, str]:
    """(owner token, organization id)."""
    body = await gw.gql(
        SIGN_UP,
        input={
            "organizationName": name,
            "establishmentName": "Antwerpen",
            "email": unique_email(),
            "name": "Owner",
            "password": PASSWORD,
        },
    )
    session = body["data"]["signUp"]["session"]
    return session["token"], session["establishment"]["organization"]["id"]


async def data(gw: Gateway, query: str, token: str, **variables: Any) -> dict[str, Any]:
    body = await gw.gql(query, token, **variables)
    assert not body.get("errors"), body["errors"]
    result: dict[str, Any] = body["data"]
    return result


async def register(
    gw: Gateway, token: str, url: str, types: list[str] | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = (
        await data(gw, REGISTER, token, input={"url": url, "eventTypes": types or []})
    )["registerWebhook"]
    return payload


async def eventually(check: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.05)


def dev_settings(database_url: str, nats_url: str, **extra: Any) -> GatewaySettings:
    return _settings(
        database_url,
        nats_url,
        webhook_poll_seconds=0.05,
        webhook_retry_seconds=[0.3, 0.9],
        **extra,
    )


# ------------------------------------------------------------------ tests


def test_B06_signature_matches_the_standard_webhooks_example() -> None:
    # The specification's published example vector.
    assert (
        signing.sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            b'{"test": 2432232314}',
        )
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )
    secret = signing.new_secret()
    assert secret.startswith("whsec_") and len(signing.key_of(secret)) == 32
    headers = signing.headers(secret, "evt1", int(time.time()), b"{}")
    assert verify(secret, headers, b"{}")
    assert not verify(secret, headers, b"{ }")
    assert not verify(signing.new_secret(), headers, b"{}")


async def test_B06_registration_refuses_unsafe_urls_in_production_and_non_owners(
    tmp_path: Any, nats_server: NatsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = socket.getaddrinfo
    answers = {
        "hooks.partner.example": ["93.184.216.34", "2606:2800:220:1::1"],
        "mixed.partner.example": ["93.184.216.34", "10.0.0.5"],
        "rebound.partner.example": ["::ffff:127.0.0.1"],
    }

    def fake_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in answers:
            return [
                (
                    socket.AF_INET6 if ":" in a else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (a, 443),
                )
                for a in answers[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    settings = _settings(url, nats_server.url, mode="production")
    async with serving(settings) as gw:
        token, _org = await sign_up(gw, "Production Salon")
        refused = {
            "http://hooks.partner.example/in": "https",
            "https://127.0.0.1/in": "non-public",
            "https://localhost:8443/in": "non-public",
            "https://10.1.2.3/in": "non-public",
            "https://169.254.169.254/latest": "non-public",
            "https://[::1]/in": "non-public",
            "https://224.0.0.1/in": "non-public",
            "https://mixed.partner.example/in": "non-public",
            "https://rebound.partner.example/in": "non-public",
            "https://user:pw@hooks.partner.example/in": "credentials",
            "https://no-such-host.invalid/in": "does not resolve",
            "not a url": "https",
        }
        for bad, words in refused.items():
            payload = await register(gw, token, bad)
            assert payload["webhook"] is None and payload["secret"] is None, bad
            [error] = payload["errors"]
            assert (error["field"], error["code"]) == ("url", "INVALID"), bad
            assert words in error["message"], (bad, error["message"])
        unknown = await register(
            gw, token, "https://hooks.partner.example/in", ["salon.nope.x.y.v1"]
        )
        assert [(e["field"], e["code"]) for e in unknown["errors"]] == [("eventTypes", "INVALID")]
        # Nothing was written by any refusal.
        assert (await data(gw, WEBHOOKS, token))["webhooks"] == []

        good = await register(
            gw, token, "https://hooks.partner.example/in", [ESTABLISHMENT_CREATED]
        )
        assert good["errors"] == []
        assert good["webhook"]["eventTypes"] == [ESTABLISHMENT_CREATED]
        assert good["secret"].startswith("whsec_")
        webhook_id = good["webhook"]["id"]

        # A staff member of the same organization: refused everywhere.
        staff_email = unique_email("staff")
        added = await data(
            gw,
            ADD_MEMBER,
            token,
            input={"email": staff_email, "name": "Sam", "password": PASSWORD, "role": "STAFF"},
        )
        assert added["addMember"]["errors"] == []
        staff = (await data(gw, LOGIN, "", input={"email": staff_email, "password": PASSWORD}))[
            "login"
        ]["session"]["token"]
        denied = await register(gw, staff, "https://hooks.partner.example/other")
        assert [e["code"] for e in denied["errors"]] == ["FORBIDDEN"]
        for query, variables in ((WEBHOOKS, {}), (DELIVERIES, {"id": webhook_id})):
            body = await gw.gql(query, staff, **variables)
            assert body["data"] is None
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        deleted = (await gw.gql(DELETE, staff, id=webhook_id))["data"]["deleteWebhook"]
        assert [e["code"] for e in deleted["errors"]] == ["FORBIDDEN"]
        assert [w["id"] for w in (await data(gw, WEBHOOKS, token))["webhooks"]] == [webhook_id]


async def test_B06_deliveries_are_signed_and_stay_in_their_organization(
    database_url: str, nats_server: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with receiving() as receiver, serving(dev_settings(database_url, nats_server.url)) as gw:
        token_a, org_a = await sign_up(gw, "Salon A")
        token_b, org_b = await sign_up(gw, "Salon B")
        a = await register(gw, token_a, f"{receiver.url}/a", [ESTABLISHMENT_CREATED])
        b = await register(gw, token_b, f"{receiver.url}/b")  # every type
        secret_a, secret_b = a["secret"], b["secret"]

        await data(gw, CREATE_ESTABLISHMENT, token_a, name="Gent")
        await data(gw, CREATE_ESTABLISHMENT, token_b, name="Brugge")
        await data(gw, CREATE_ESTABLISHMENT, token_b, name="Leuven")

        async def arrived() -> bool:
            at_b = [orjson.loads(x.body)["type"] for x in receiver.at("/b")]
            return len(receiver.at("/a")) >= 1 and at_b.count(ESTABLISHMENT_CREATED) >= 2

        assert await eventually(arrived)
        await asyncio.sleep(0.5)  # anything misrouted would arrive by now

        # A's endpoint: A's one new establishment, signed with A's secret, nothing of B.
        [delivery] = receiver.at("/a")
        body = orjson.loads(delivery.body)
        assert verify(secret_a, delivery.headers, delivery.body)
        assert not verify(secret_b, delivery.headers, delivery.body)
        assert delivery.headers["webhook-id"] == body["id"]
        assert delivery.headers["content-type"] == "application/json"
        assert set(body) == {"type", "id", "timestamp", "organizationId", "establishmentId", "data"}
        assert (body["type"], body["organizationId"]) == (ESTABLISHMENT_CREATED, org_a)
        assert body["data"]["name"] == "Gent"
        assert body["data"]["establishmentId"] == body["establishmentId"]
        # B's endpoint: every type, B's only.
        assert all(verify(secret_b, x.headers, x.body) for x in receiver.at("/b"))
        assert {orjson.loads(x.body)["organizationId"] for x in receiver.at("/b")} == {org_b}
        names = [
            orjson.loads(x.body)["data"]["name"]
            for x in receiver.at("/b")
            if orjson.loads(x.body)["type"] == ESTABLISHMENT_CREATED
        ]
        assert sorted(names) == ["Brugge", "Leuven"]

        # Recorded: A's deliveries, DELIVERED once; B's webhook is not A's to read.
        [row] = (await data(gw, DELIVERIES, token_a, id=a["webhook"]["id"]))["webhookDeliveries"]
        assert (row["eventId"], row["status"], row["attempts"]) == (body["id"], "DELIVERED", 1)
        assert row["lastStatusCode"] == 200 and row["deliveredAt"] and row["nextAttemptAt"] is None
        other = await gw.gql(DELIVERIES, token_a, id=b["webhook"]["id"])
        assert other["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        gone = (await gw.gql(DELETE, token_a, id=b["webhook"]["id"]))["data"]["deleteWebhook"]
        assert [e["code"] for e in gone["errors"]] == ["NOT_FOUND"]

        # The secret is shown once: not in later answers, not in the database, not logged.
        listed = await gw.gql(WEBHOOKS, token_a)
        assert secret_a not in orjson.dumps(listed).decode()
        assert [w["id"] for w in listed["data"]["webhooks"]] == [a["webhook"]["id"]]
        db = Database(database_url)
        try:
            async with db.read(across_organizations=True) as conn:  # every organization's
                stored = (await conn.execute(select(webhook_endpoints.c.secret))).scalars().all()
        finally:
            await db.dispose()
        assert len(stored) == 2
        for secret in (secret_a, secret_b):
            assert all(secret not in s and secret[6:] not in s for s in stored)
            assert secret not in caplog.text and secret[6:] not in caplog.text

        # Deleted: its deliveries go, and no later event is sent there.
        deleted = (await gw.gql(DELETE, token_a, id=a["webhook"]["id"]))["data"]["deleteWebhook"]
        assert deleted == {"deletedWebhookId": a["webhook"]["id"], "errors": []}
        assert (await data(gw, WEBHOOKS, token_a))["webhooks"] == []


async def test_B06_failures_are_retried_with_growing_delays(
    tmp_path: Any, nats_server: NatsServer
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    async with receiving() as receiver, serving(dev_settings(url, nats_server.url)) as gw:
        receiver.script["/flaky"] = [500, 503, 200]
        receiver.script["/moved"] = [302]
        token, _org = await sign_up(gw, "Retried Salon")
        flaky = await register(gw, token, f"{receiver.url}/flaky", [ESTABLISHMENT_CREATED])
        moved = await register(gw, token, f"{receiver.url}/moved", [ESTABLISHMENT_CREATED])
        await data(gw, CREATE_ESTABLISHMENT, token, name="Gent")

        async def rows(webhook: dict[str, Any]) -> list[dict[str, Any]]:
            found = await data(gw, DELIVERIES, token, id=webhook["webhook"]["id"])
            result: list[dict[str, Any]] = found["webhookDeliveries"]
            return result

        async def done() -> bool:
            both = (await rows(flaky)) + (await rows(moved))
            return len(both) == 2 and all(r["status"] != "PENDING" for r in both)

        assert await eventually(done), (
            [(r["status"], r["attempts"], r["lastError"]) for r in await rows(flaky)],
            [(r["status"], r["attempts"], r["lastError"]) for r in await rows(moved)],
            [a.path for a in receiver.arrivals],
        )
        # 500, 503, then 200: three attempts, the waits growing (0.3 s, then 0.9 s).
        attempts = receiver.at("/flaky")
        assert len(attempts) == 3
        gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(attempts)]
        assert 0.3 <= gaps[0] < gaps[1] and gaps[1] >= 0.9, gaps
        assert len({a.headers["webhook-id"] for a in attempts}) == 1
        [row] = await rows(flaky)
        assert (row["status"], row["attempts"], row["lastStatusCode"]) == ("DELIVERED", 3, 200)
        # A redirect is not followed and counts as a failure: FAILED after the last retry.
        assert len(receiver.at("/moved")) == 3 and receiver.at("/redirected") == []
        [row] = await rows(moved)
        assert (row["status"], row["attempts"], row["lastStatusCode"]) == ("FAILED", 3, 302)
        assert row["lastError"] == "HTTP 302" and row["deliveredAt"] is None


async def test_B06_two_replicas_never_claim_one_delivery_at_once(database_url: str) -> None:
    one, two = Database(database_url), Database(database_url)
    try:
        await migrations.upgrade(one, MIGRATIONS)
        async with one.write(organization_id="org1") as conn:
            await store.add_endpoint(conn, "org1", "https://example.com/in", [], "sealed")
            before, now = utcnow() - timedelta(seconds=1), utcnow()
            # An event older than the endpoint is not sent to it.
            assert (
                await store.enqueue(conn, "org1", "old", ESTABLISHMENT_CREATED, "{}", before) == 0
            )
            assert (
                await store.enqueue(conn, "org1", "event1", ESTABLISHMENT_CREATED, "{}", now) == 1
            )
        async with one.write(organization_id="org2") as conn:
            # Another organization's endpoint gets nothing of org1's event...
            await store.add_endpoint(conn, "org2", "https://example.com/in", [], "sealed")
        async with one.write(organization_id="org1") as conn:
            # ...and a redelivery adds nothing.
            assert (
                await store.enqueue(conn, "org1", "event1", ESTABLISHMENT_CREATED, "{}", now) == 0
            )
        # As the sender scans and claims: across organizations.
        async with one.read(across_organizations=True) as conn:
            [delivery_id] = await store.due(conn, utcnow(), 10)

        async def claim(db: Database) -> Any:
            async with db.write(across_organizations=True) as conn:
                return await store.claim(conn, delivery_id, utcnow(), timedelta(seconds=60))

        results = await asyncio.gather(claim(one), claim(two), claim(one), claim(two))
        assert sum(r is not None for r in results) == 1
        async with one.read(across_organizations=True) as conn:
            assert await store.due(conn, utcnow(), 10) == []
            # Once the lease ran out, it is due again for whoever comes.
            assert await store.due(conn, utcnow() + timedelta(seconds=61), 10) == [delivery_id]
    finally:
        await one.dispose()
        await two.dispose()
