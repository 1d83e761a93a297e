"""The till's GraphQL edge and the provider's webhook, on the real gateway application
(its own database, a real NATS): what the gateway refuses before any backend call (bad
amounts, missing roles and rights), and how the webhook answers (R06, R28, R32, B03)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from gateway.app import create_app
from gateway.settings import GatewaySettings
from launcher.nats_server import NatsServer
from launcher.stack import free_port
from salon.payments.v1 import payments_pb2, payments_pb2_grpc
from services.payments.service import SPEC as PAYMENTS
from tests.support.fake_mollie import FakeMollie, api_key, fake_mollie
from tests.support.graphql import SIGN_UP, unique_email
from tests.support.services import SECRET, metadata, running

ERRORS = "errors { field code message }"
ISSUE = f"""mutation($input: IssueGiftCardInput!) {{ issueGiftCard(input: $input) {{
  giftCard {{ id }} {ERRORS} }} }}"""
CHECKOUT = f"""mutation($input: CheckoutInput!) {{ checkout(input: $input) {{
  receipt {{ id }} {ERRORS} }} }}"""
SELL = f"""mutation($input: SellSubscriptionInput!) {{ sellSubscription(input: $input) {{
  subscription {{ id }} {ERRORS} }} }}"""
TERMINAL = f"""mutation($input: AssignTerminalInput!) {{ assignPaymentTerminal(input: $input) {{
  terminal {{ id }} {ERRORS} }} }}"""
CONNECT = f"""mutation($input: ConnectPaymentProviderInput!) {{
  connectPaymentProvider(input: $input) {{ connection {{ provider accountId }} {ERRORS} }} }}"""
CREATE_EST = """mutation($input: CreateEstablishmentInput!) { createEstablishment(input: $input) {
  establishment { id } errors { code } } }"""
ADD_MEMBER = f"""mutation($input: AddMemberInput!) {{ addMember(input: $input) {{
  user {{ id }} {ERRORS} }} }}"""
LOGIN = """mutation($input: LoginInput!) { login(input: $input) { session { token } } }"""
RECEIPTS = """query($est: ID) { receipts(date: "2027-03-01", establishmentId: $est) { id } }"""
REPORT = """query($est: ID) { report(from: "2027-03-01", to: "2027-03-31", establishmentId: $est) {
  revenue } }"""
ORG_REPORT = """{ organizationReport(from: "2027-03-01", to: "2027-03-31") { totalRevenue } }"""
SETTLEMENTS = """{ settlementReport(from: "2027-03-01", to: "2027-03-31") { amount } }"""


@dataclass
class Gateway:
    http: httpx.AsyncClient

    async def gql(self, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        reply = await self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        assert reply.status_code == 200, reply.text
        body: dict[str, Any] = reply.json()
        return body

    async def sign_up(self) -> tuple[str, str, str]:
        """A new organization: the owner's token, its organization and establishment."""
        body = await self.gql(
            SIGN_UP,
            input={
                "organizationName": "Till Salon",
                "establishmentName": "A",
                "email": unique_email(),
                "name": "Owner",
                "password": "correct horse battery",
            },
        )
        session = body["data"]["signUp"]["session"]
        est = session["establishment"]
        return session["token"], est["organization"]["id"], est["id"]

    async def member(self, owner: str, role: str, *rights: str) -> str:
        email = unique_email(role.lower())
        added = await self.gql(
            ADD_MEMBER,
            owner,
            input={
                "email": email,
                "name": role,
                "password": "member-pass-1",
                "role": role,
                "rights": list(rights),
            },
        )
        assert added["data"]["addMember"]["errors"] == []
        login = await self.gql(LOGIN, input={"email": email, "password": "member-pass-1"})
        return str(login["data"]["login"]["session"]["token"])


async def _gateway(
    database_url: str, nats_url: str, payments_addr: str = ""
) -> AsyncIterator[Gateway]:
    nowhere = f"127.0.0.1:{free_port()}"
    settings = GatewaySettings(
        database_url=database_url,
        nats_url=nats_url,
        scope_secret=SECRET,
        grpc_deadline_seconds=10,
        clients_addr=nowhere,
        catalog_addr=nowhere,
        inventory_addr=nowhere,
        booking_addr=nowhere,
        payments_addr=payments_addr or nowhere,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield Gateway(http)


@pytest.fixture
async def gateway(database_url: str, nats_server: NatsServer) -> AsyncIterator[Gateway]:
    """The gateway application with its lifespan; no service listens at the backends'
    addresses, so anything that reaches one fails (and shows in backendCalls)."""
    async for gw in _gateway(database_url, nats_server.url):
        yield gw


@dataclass
class WithPayments:
    gateway: Gateway
    payments: payments_pb2_grpc.PaymentsServiceStub
    mollie: FakeMollie


@pytest.fixture
async def with_payments(
    database_url: str, nats_server: NatsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[WithPayments]:
    """The gateway (on `database_url`) over a real payments service (its own SQLite file)
    that talks to a local server playing Mollie."""
    with fake_mollie() as mollie:
        monkeypatch.setenv("SALON_PAYMENTS_KEY", Fernet.generate_key().decode())
        monkeypatch.setenv("SALON_MOLLIE_API_URL", mollie.url)
        monkeypatch.setenv("SALON_PUBLIC_URL", "https://salon.example")
        payments_db = f"sqlite+aiosqlite:///{tmp_path / 'payments.db'}"
        async with running(
            nats_server.url, {"payments": payments_db}, {"payments": PAYMENTS}
        ) as up:
            address = f"127.0.0.1:{up.ports['payments']}"
            async for gw in _gateway(database_url, nats_server.url, address):
                stub = payments_pb2_grpc.PaymentsServiceStub(up.channel("payments"))
                yield WithPayments(gw, stub, mollie)


def _codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def test_R28_bad_amounts_are_user_errors_before_any_backend_call(gateway: Gateway) -> None:
    token, _org, _est = await gateway.sign_up()
    for amount in ("12.345", "-5", "lots", "0", "NaN", "10000000"):
        body = await gateway.gql(ISSUE, token, input={"amount": amount})
        assert _codes(body["data"]["issueGiftCard"]) == [("INVALID", "amount")], amount
        assert body["extensions"]["backendCalls"] == {}
    cases: list[tuple[dict[str, Any], tuple[str, str]]] = [
        ({"payments": [{"method": "CASH", "amount": "1.001"}]}, ("INVALID", "payments")),
        ({"payments": [{"method": "DEPOSIT", "amount": "1.00"}]}, ("INVALID", "payments")),
        ({"payments": [{"method": "GIFT_CARD", "amount": "1.00"}]}, ("INVALID", "payments")),
        ({"payments": [{"method": "SUBSCRIPTION", "amount": "1.00"}]}, ("INVALID", "payments")),
        ({"lines": []}, ("INVALID", "lines")),
        ({"lines": [{"serviceId": "s", "productId": "p"}]}, ("INVALID", "lines")),
        ({"lines": [{"serviceId": "s", "quantity": 0}]}, ("INVALID", "lines")),
        ({"idempotencyKey": "  "}, ("INVALID", "idempotencyKey")),
        ({"idempotencyKey": "k" * 101}, ("INVALID", "idempotencyKey")),
    ]
    for change, expected in cases:
        values = {
            "lines": [{"serviceId": "s"}],
            "payments": [{"method": "CASH", "amount": "40.00"}],
            "idempotencyKey": "key-1",
            **change,
        }
        body = await gateway.gql(CHECKOUT, token, input=values)
        assert _codes(body["data"]["checkout"]) == [expected], change
        assert body["extensions"]["backendCalls"] == {}
    body = await gateway.gql(
        SELL, token, input={"clientId": "c", "name": "x", "visits": 3, "price": "1.234"}
    )
    assert _codes(body["data"]["sellSubscription"]) == [("INVALID", "price")]
    body = await gateway.gql(
        SELL, token, input={"clientId": "c", "name": "x", "visits": 0, "price": "10"}
    )
    assert _codes(body["data"]["sellSubscription"]) == [("INVALID", "visits")]
    body = await gateway.gql(TERMINAL, token, input={"serial": "", "name": "Counter"})
    assert _codes(body["data"]["assignPaymentTerminal"]) == [("INVALID", "serial")]
    body = await gateway.gql(CONNECT, token, input={"accountId": "acc", "apiKey": " "})
    assert _codes(body["data"]["connectPaymentProvider"]) == [("INVALID", "apiKey")]
    assert body["extensions"]["backendCalls"] == {}


async def test_the_till_needs_a_session(gateway: Gateway) -> None:
    cases: list[tuple[str, dict[str, Any]]] = [
        (ISSUE, {"input": {"amount": "10.00"}}),
        (RECEIPTS, {}),
        ("{ paymentTerminals { id } }", {}),
        ('{ giftCard(code: "X") { id } }', {}),
    ]
    for query, variables in cases:
        body = await gateway.gql(query, None, **variables)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_R06_another_establishments_till_and_report_need_SWITCH_REPORTS(
    gateway: Gateway,
) -> None:
    owner, _org, _a = await gateway.sign_up()
    created = await gateway.gql(CREATE_EST, owner, input={"name": "B"})
    b = created["data"]["createEstablishment"]["establishment"]["id"]
    staff = await gateway.member(owner, "STAFF")
    for query in (RECEIPTS, REPORT):
        body = await gateway.gql(query, staff, est=b)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert body["extensions"]["backendCalls"] == {}
        # An establishment of another organization (or none): not found, never forbidden.
        body = await gateway.gql(query, staff, est="no-such-establishment")
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # With the right the gateway lets it through to payments (unreachable here).
    reports = await gateway.member(owner, "STAFF", "SWITCH_REPORTS")
    body = await gateway.gql(RECEIPTS, reports, est=b)
    assert body["extensions"]["backendCalls"] == {"payments": 1}


async def test_B03_B08_organization_and_settlement_reports_are_refused_before_any_call(
    gateway: Gateway,
) -> None:
    owner, _org, _a = await gateway.sign_up()
    manager = await gateway.member(owner, "MANAGER", "SWITCH_REPORTS", "SWITCH_AGENDA")
    staff = await gateway.member(owner, "STAFF")
    body = await gateway.gql(ORG_REPORT, manager)
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["extensions"]["backendCalls"] == {}
    body = await gateway.gql(SETTLEMENTS, staff)
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    backwards = '{ organizationReport(from: "2027-03-31", to: "2027-03-01") { totalRevenue } }'
    body = await gateway.gql(backwards, owner)
    assert body["errors"][0]["extensions"]["code"] == "INVALID"
    assert body["extensions"]["backendCalls"] == {}


async def test_R32_the_webhook_answers_200_empty_404_unknown_400_without_id(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    _token, org, _est = await gateway.sign_up()
    url = f"/webhooks/mollie/{org}"
    with caplog.at_level(logging.WARNING, logger="salon.gateway"):
        known = await gateway.http.post(url, data={"id": "tr_WDqYK6vllg"})
    assert (known.status_code, known.content) == (200, b"")
    # The refresh ran after the answer, for that organization, and said why it failed.
    assert any("tr_WDqYK6vllg" in r.getMessage() and org in r.getMessage() for r in caplog.records)
    assert (await gateway.http.post(url, data={})).status_code == 400
    assert (await gateway.http.post(url, data={"id": "x" * 101})).status_code == 400
    assert (await gateway.http.post(url, data={"id": "tr_1\nforged line"})).status_code == 400
    assert (await gateway.http.post(url, content=b"id=" + b"x" * 5000)).status_code == 400
    unknown = await gateway.http.post("/webhooks/mollie/no-such-org", data={"id": "tr_1"})
    assert unknown.status_code == 404
    assert (await gateway.http.get(url)).status_code == 405


CONNECTION = "{ paymentProvider { provider accountId establishment { id } } }"


async def test_R32_connecting_the_provider_answers_no_key_and_logs_none(
    with_payments: WithPayments, caplog: pytest.LogCaptureFixture
) -> None:
    gw = with_payments.gateway
    token, _org, est = await gw.sign_up()
    assert (await gw.gql(CONNECTION, token))["data"]["paymentProvider"] is None
    key = with_payments.mollie.add_key(api_key())
    with caplog.at_level(logging.DEBUG):
        body = await gw.gql(CONNECT, token, input={"accountId": "acc_salon", "apiKey": key})
        assert body["data"]["connectPaymentProvider"] == {
            "connection": {"provider": "mollie", "accountId": "acc_salon"},
            "errors": [],
        }
        read = await gw.gql(CONNECTION, token)
        refused = await gw.gql(CONNECT, token, input={"accountId": "acc", "apiKey": "live_nope"})
    assert read["data"]["paymentProvider"] == {
        "provider": "mollie",
        "accountId": "acc_salon",
        "establishment": {"id": est},
    }
    assert [e["field"] for e in refused["data"]["connectPaymentProvider"]["errors"]] == ["apiKey"]
    assert key not in str(body) + str(read) and "live_nope" not in str(refused)
    assert key not in caplog.text and "live_nope" not in caplog.text


async def test_R32_the_webhook_refreshes_the_deposit_in_a_scope_without_a_user(
    with_payments: WithPayments,
) -> None:
    gw, payments, mollie = with_payments.gateway, with_payments.payments, with_payments.mollie
    token, org, est = await gw.sign_up()
    key = mollie.add_key(api_key())
    connected = await gw.gql(CONNECT, token, input={"accountId": "acc_salon", "apiKey": key})
    assert connected["data"]["connectPaymentProvider"]["errors"] == []
    appointment = secrets.token_hex(16)
    deposit = await payments.RecordDeposit(
        payments_pb2.RecordDepositRequest(
            appointment_id=appointment,
            client_id=secrets.token_hex(16),
            amount="10.00",
            redirect_url="https://book.example/done",
        ),
        metadata=metadata(org, est, user_id=""),
        timeout=15,
    )
    assert deposit.status == payments_pb2.DEPOSIT_STATUS_PENDING and deposit.checkout_url
    [payment_id] = list(mollie.payments)
    assert mollie.payments[payment_id]["webhookUrl"] == (
        f"https://salon.example/webhooks/mollie/{org}"
    )
    mollie.set_status(payment_id, "paid")

    async def status() -> int:
        found = await payments.GetDepositsByAppointments(
            payments_pb2.GetDepositsByAppointmentsRequest(appointment_ids=[appointment]),
            metadata=metadata(org, est),
            timeout=5,
        )
        return int(found.deposits[0].status)

    # Another organization's webhook address does not reach this payment (R01).
    _token2, other, _est2 = await gw.sign_up()
    elsewhere = await gw.http.post(f"/webhooks/mollie/{other}", data={"id": payment_id})
    assert elsewhere.status_code == 200
    await asyncio.sleep(0.5)
    assert await status() == payments_pb2.DEPOSIT_STATUS_PENDING

    answer = await gw.http.post(f"/webhooks/mollie/{org}", data={"id": payment_id})
    assert (answer.status_code, answer.content) == (200, b"")
    for _ in range(50):  # the refresh runs after the answer
        if await status() == payments_pb2.DEPOSIT_STATUS_PAID:
            break
        await asyncio.sleep(0.1)
    assert await status() == payments_pb2.DEPOSIT_STATUS_PAID
    # Mollie's retries change nothing more.
    again = await gw.http.post(f"/webhooks/mollie/{org}", data={"id": payment_id})
    assert again.status_code == 200 and await status() == payments_pb2.DEPOSIT_STATUS_PAID
