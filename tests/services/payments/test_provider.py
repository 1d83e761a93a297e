"""Terminals (R31), the payment provider connection (R32) and online deposits through it
(R17 + R32), over real gRPC on loopback with a real NATS, on SQLite and (with
TEST_DATABASE_URL) PostgreSQL, against a local HTTP server that plays Mollie's API
(tests/support/fake_mollie.py) and is reached by the official Mollie client."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import grpc
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from launcher.nats_server import NatsServer
from launcher.stack import free_port
from salon.payments.v1 import events_pb2, payments_pb2, payments_pb2_grpc
from services.common.db import utcnow
from services.common.errors import DomainError, ErrorCode, from_rpc_error
from services.common.rpc import PeerError
from services.common.runtime import ServiceContext
from services.common.scope import Role
from services.payments.api.provider import start_provider_payment
from services.payments.provider import crypto
from services.payments.service import SPEC as PAYMENTS
from services.payments.store.provider_tables import (
    payment_terminals,
    provider_connections,
    provider_payments,
)
from services.payments.store.tables import deposits, outbox
from tests.support.fake_mollie import FakeMollie, access_token, api_key, fake_mollie
from tests.support.services import Metadata, metadata, running

PUBLIC_URL = "https://salon.example"
PENDING = payments_pb2.DEPOSIT_STATUS_PENDING
PAID = payments_pb2.DEPOSIT_STATUS_PAID
FAILED = payments_pb2.DEPOSIT_STATUS_FAILED


@dataclass
class Till:
    stub: payments_pb2_grpc.PaymentsServiceStub
    ctx: ServiceContext
    mollie: FakeMollie


@pytest.fixture
def mollie(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeMollie]:
    with fake_mollie() as fake:
        monkeypatch.setenv("SALON_PAYMENTS_KEY", Fernet.generate_key().decode())
        monkeypatch.setenv("SALON_MOLLIE_API_URL", fake.url)
        monkeypatch.setenv("SALON_PUBLIC_URL", PUBLIC_URL)
        yield fake


@pytest.fixture
async def till(
    database_url: str, nats_server: NatsServer, mollie: FakeMollie
) -> AsyncIterator[Till]:
    async with running(nats_server.url, {"payments": database_url}, {"payments": PAYMENTS}) as up:
        yield Till(
            payments_pb2_grpc.PaymentsServiceStub(up.channel("payments")),
            up.processes["payments"].ctx,
            mollie,
        )


def _id() -> str:
    return secrets.token_hex(16)


def _md(org: str, est: str, role: Role = Role.MANAGER) -> Metadata:
    return metadata(org, est, role=role)


def _public(org: str, est: str) -> Metadata:
    """What the gateway's webhook sends: the organization, no user."""
    return metadata(org, est, user_id="")


async def _error(call: Awaitable[Any]) -> DomainError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error = from_rpc_error(caught.value)
    assert error is not None, caught.value
    return error


async def _assign(till: Till, md: Metadata, serial: str, name: str) -> payments_pb2.Terminal:
    return await till.stub.AssignTerminal(
        payments_pb2.AssignTerminalRequest(serial=serial, name=name), metadata=md, timeout=5
    )


async def _terminals(till: Till, md: Metadata) -> list[tuple[str, str, str]]:
    listed = await till.stub.ListTerminals(
        payments_pb2.ListTerminalsRequest(), metadata=md, timeout=5
    )
    return [(t.serial, t.name, t.establishment_id) for t in listed.terminals]


async def _connect(
    till: Till, md: Metadata, account: str, key: str, provider: str = "mollie"
) -> payments_pb2.ProviderConnection:
    return await till.stub.ConnectProvider(
        payments_pb2.ConnectProviderRequest(provider=provider, account_id=account, api_key=key),
        metadata=md,
        timeout=15,
    )


async def _connection(till: Till, md: Metadata) -> payments_pb2.ProviderConnection:
    return await till.stub.GetProviderConnection(
        payments_pb2.GetProviderConnectionRequest(), metadata=md, timeout=5
    )


async def _refresh(till: Till, md: Metadata, payment_id: str) -> payments_pb2.Deposit:
    return await till.stub.RefreshProviderPayment(
        payments_pb2.RefreshProviderPaymentRequest(provider="mollie", payment_id=payment_id),
        metadata=md,
        timeout=15,
    )


async def _events(till: Till, org: str, kind: str) -> list[tuple[str | None, bytes]]:
    """The events the service recorded (what its relay publishes): establishment, body."""
    async with till.ctx.db.read(organization_id=org) as conn:
        rows = await conn.execute(
            select(outbox.c.establishment_id, outbox.c.payload)
            .where(outbox.c.organization_id == org, outbox.c.type == kind)
            .order_by(outbox.c.seq)
        )
        return [(r.establishment_id, r.payload) for r in rows]


async def _count(till: Till, table: Any, org: str) -> int:
    async with till.ctx.db.read(organization_id=org) as conn:
        return int(
            (
                await conn.execute(
                    select(func.count()).select_from(table).where(table.c.organization_id == org)
                )
            ).scalar_one()
        )


async def _pending_deposit(till: Till, org: str, est: str, amount: str = "12.50") -> str:
    """A deposit as RecordDeposit writes it when the establishment has a connection:
    PENDING, committed before the provider is asked."""
    deposit_id = _id()
    async with till.ctx.db.write(organization_id=org) as conn:
        await conn.execute(
            deposits.insert().values(
                id=deposit_id,
                organization_id=org,
                establishment_id=est,
                appointment_id=_id(),
                client_id=_id(),
                amount=Decimal(amount),
                status="PENDING",
                created_at=utcnow(),
            )
        )
    return deposit_id


async def _deposit_status(till: Till, org: str, deposit_id: str) -> str:
    async with till.ctx.db.read(organization_id=org) as conn:
        return str(
            (
                await conn.execute(
                    select(deposits.c.status).where(
                        deposits.c.organization_id == org, deposits.c.id == deposit_id
                    )
                )
            ).scalar_one()
        )


async def _start(
    till: Till, org: str, est: str, deposit_id: str, redirect: str = "https://book.example/x"
) -> tuple[str, str] | None:
    return await start_provider_payment(
        till.ctx, None, org, est, deposit_id, Decimal("12.50"), "Deposit", redirect
    )


# --- terminals (R31) ---------------------------------------------------------------------


async def test_R31_a_terminal_is_assigned_in_the_session_establishment_only(till: Till) -> None:
    org, a, b = _id(), _id(), _id()
    terminal = await _assign(till, _md(org, a), " ab-123 ", "Front desk")
    assert (terminal.serial, terminal.name, terminal.establishment_id) == (
        "AB-123",
        "Front desk",
        a,
    )
    assert await _terminals(till, _md(org, a)) == [("AB-123", "Front desk", a)]
    assert await _terminals(till, _md(org, b)) == []
    events = await _events(till, org, "salon.payments.terminal.assigned.v1")
    assert [est for est, _ in events] == [a]
    assert events_pb2.TerminalAssigned.FromString(events[0][1]).terminal == terminal


async def test_R31_the_same_terminal_may_be_assigned_to_several_establishments(
    till: Till,
) -> None:
    org, a, b = _id(), _id(), _id()
    in_a = await _assign(till, _md(org, a), "AB-123", "Desk")
    in_b = await _assign(till, _md(org, b), "ab-123", "Desk B")
    assert in_a.id != in_b.id
    assert await _terminals(till, _md(org, a)) == [("AB-123", "Desk", a)]
    assert await _terminals(till, _md(org, b)) == [("AB-123", "Desk B", b)]


async def test_R31_assigning_again_renames_and_a_repeat_changes_nothing(till: Till) -> None:
    org, a = _id(), _id()
    first = await _assign(till, _md(org, a), "T-1", "Desk")
    renamed = await _assign(till, _md(org, a), "t-1", "Back room")
    again = await _assign(till, _md(org, a), "T-1", "Back room")
    assert first.id == renamed.id == again.id and again.name == "Back room"
    assert await _count(till, payment_terminals, org) == 1
    # Assigned, renamed: two events; the repeat publishes nothing.
    assert len(await _events(till, org, "salon.payments.terminal.assigned.v1")) == 2


BAD_TERMINALS = [
    ("", "Desk", "serial"),
    ("ab", "Desk", "serial"),
    ("AB 123", "Desk", "serial"),
    ("AB_123!", "Desk", "serial"),
    ("X" * 65, "Desk", "serial"),
    ("AB-123", "", "name"),
    ("AB-123", "   ", "name"),
    ("AB-123", "n" * 101, "name"),
]


async def test_a_bad_terminal_is_refused_and_nothing_is_written(till: Till) -> None:
    org, a = _id(), _id()
    for serial, name, field in BAD_TERMINALS:
        error = await _error(_assign(till, _md(org, a), serial, name))
        assert (error.code, error.field) == (ErrorCode.INVALID, field), (serial, name)
    assert await _count(till, payment_terminals, org) == 0
    assert await _events(till, org, "salon.payments.terminal.assigned.v1") == []


async def test_R01_terminals_of_another_organization_are_never_listed(till: Till) -> None:
    org, other, a = _id(), _id(), _id()
    await _assign(till, _md(org, a), "AB-123", "Desk")
    # The same establishment id under another organization (a forged or mistaken id).
    assert await _terminals(till, _md(other, a)) == []


# --- the provider connection (R32) -------------------------------------------------------


async def test_R32_connecting_checks_the_key_with_mollie_and_never_shows_it(
    till: Till, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    org, a = _id(), _id()
    key = till.mollie.add_key(api_key())
    connected = await _connect(till, _md(org, a), "acc-lena", key)
    assert connected.connected and connected.provider == "mollie"
    assert (connected.account_id, connected.establishment_id) == ("acc-lena", a)
    assert till.mollie.keys_used("GET", "/v2/methods") == [key]

    shown = await _connection(till, _md(org, a))
    assert shown == connected
    for message in (connected, shown):
        assert key.encode() not in message.SerializeToString()
    events = await _events(till, org, "salon.payments.provider.connected.v1")
    assert [est for est, _ in events] == [a]
    assert key.encode() not in events[0][1]
    assert events_pb2.ProviderConnected.FromString(events[0][1]).connection == connected
    async with till.ctx.db.read(organization_id=org) as conn:
        stored = (
            await conn.execute(
                select(provider_connections.c.api_key_encrypted).where(
                    provider_connections.c.organization_id == org
                )
            )
        ).scalar_one()
    assert key not in stored and crypto.decrypt(stored) == key
    deposit_id = await _pending_deposit(till, org, a)
    await _start(till, org, a, deposit_id)
    assert key not in caplog.text


async def test_R32_a_key_mollie_refuses_stores_nothing(
    till: Till, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    org, a = _id(), _id()
    refused = api_key()  # the right shape, unknown to Mollie: 401
    error = await _error(_connect(till, _md(org, a), "acc-lena", refused))
    assert (error.code, error.field) == (ErrorCode.INVALID, "apiKey")
    assert error.message == "the provider refused this API key"
    assert refused not in error.message
    assert till.mollie.keys_used("GET", "/v2/methods") == [refused]
    assert not (await _connection(till, _md(org, a))).connected
    assert await _count(till, provider_connections, org) == 0
    assert await _events(till, org, "salon.payments.provider.connected.v1") == []
    assert refused not in caplog.text


async def test_R32_the_same_account_may_be_connected_to_several_establishments(
    till: Till,
) -> None:
    org, a, b = _id(), _id(), _id()
    key = till.mollie.add_key(api_key("live"))
    in_a = await _connect(till, _md(org, a), "acc-lena", key)
    in_b = await _connect(till, _md(org, b), "acc-lena", key)
    assert (in_a.establishment_id, in_b.establishment_id) == (a, b)
    assert (await _connection(till, _md(org, a))).account_id == "acc-lena"
    assert (await _connection(till, _md(org, b))).account_id == "acc-lena"
    assert await _count(till, provider_connections, org) == 2


async def test_R32_a_connection_in_A_leaves_B_unconnected(till: Till) -> None:
    org, a, b = _id(), _id(), _id()
    await _connect(till, _md(org, a), "acc-a", till.mollie.add_key(api_key()))
    in_b = await _connection(till, _md(org, b))
    assert not in_b.connected
    assert (in_b.establishment_id, in_b.account_id, in_b.provider) == (b, "", "")
    # R01: the same establishment id under another organization is not connected either.
    assert not (await _connection(till, _md(_id(), a))).connected


async def test_R32_connecting_again_replaces_the_establishments_account(till: Till) -> None:
    org, a = _id(), _id()
    await _connect(till, _md(org, a), "acc-old", till.mollie.add_key(api_key()))
    new_key = till.mollie.add_key(api_key())
    await _connect(till, _md(org, a), "acc-new", new_key)
    assert (await _connection(till, _md(org, a))).account_id == "acc-new"
    assert await _count(till, provider_connections, org) == 1
    deposit_id = await _pending_deposit(till, org, a)
    await _start(till, org, a, deposit_id)
    assert till.mollie.keys_used("POST", "/v2/payments") == [new_key]


async def test_an_access_token_is_checked_against_its_profile(till: Till) -> None:
    org, a = _id(), _id()
    token = till.mollie.add_key(access_token(), "pfl_salon1")
    error = await _error(_connect(till, _md(org, a), "pfl_other", token))
    assert (error.code, error.field) == (ErrorCode.INVALID, "accountId")
    assert await _count(till, provider_connections, org) == 0
    connected = await _connect(till, _md(org, a), "pfl_salon1", token)
    assert connected.account_id == "pfl_salon1"
    deposit_id = await _pending_deposit(till, org, a)
    started = await _start(till, org, a, deposit_id)
    assert started is not None
    [created] = till.mollie.requests_to("POST", "/v2/payments")
    assert created.body is not None and created.body["profileId"] == "pfl_salon1"


BAD_CONNECTIONS = [
    ("stripe", "acc", "test_" + "a" * 30, "provider"),
    ("", "acc", "test_" + "a" * 30, "provider"),
    ("mollie", "", "test_" + "a" * 30, "accountId"),
    ("mollie", "a" * 65, "test_" + "a" * 30, "accountId"),
    ("mollie", "acc lena", "test_" + "a" * 30, "accountId"),
    ("mollie", "acc", "", "apiKey"),
    ("mollie", "acc", "sk_test_" + "a" * 30, "apiKey"),
    ("mollie", "acc", "test_" + "a" * 29, "apiKey"),
    ("mollie", "acc", "test_" + "a" * 29 + "!", "apiKey"),
    # An access token needs the profile id as the account.
    ("mollie", "acc", "access_" + "a" * 30, "accountId"),
]


async def test_bad_connection_input_asks_nothing_and_stores_nothing(till: Till) -> None:
    org, a = _id(), _id()
    for provider, account, key, field in BAD_CONNECTIONS:
        error = await _error(_connect(till, _md(org, a), account, key, provider))
        assert (error.code, error.field) == (ErrorCode.INVALID, field), (provider, account, key)
        if key:
            assert key not in error.message
    assert till.mollie.requests == []
    assert await _count(till, provider_connections, org) == 0


async def test_an_unreachable_provider_is_unavailable_and_stores_nothing(
    till: Till, monkeypatch: pytest.MonkeyPatch
) -> None:
    org, a = _id(), _id()
    monkeypatch.setenv("SALON_MOLLIE_API_URL", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _connect(till, _md(org, a), "acc", till.mollie.add_key(api_key()))
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    assert await _count(till, provider_connections, org) == 0
    assert await _events(till, org, "salon.payments.provider.connected.v1") == []


async def test_without_a_payments_key_no_provider_can_be_connected(
    till: Till, monkeypatch: pytest.MonkeyPatch
) -> None:
    org, a = _id(), _id()
    monkeypatch.setenv("SALON_PAYMENTS_KEY", "")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _connect(till, _md(org, a), "acc", till.mollie.add_key(api_key()))
    assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert from_rpc_error(caught.value).code is ErrorCode.NOT_CONFIGURED
    assert till.mollie.requests == []
    assert await _count(till, provider_connections, org) == 0


# --- online deposits through the connection (R17 + R32) ----------------------------------


async def test_R32_a_deposit_is_paid_through_its_appointments_establishment(
    till: Till,
) -> None:
    org, a, b = _id(), _id(), _id()
    key_a = till.mollie.add_key(api_key())
    key_b = till.mollie.add_key(api_key())
    await _connect(till, _md(org, a), "acc-a", key_a)
    await _connect(till, _md(org, b), "acc-b", key_b)

    deposit_id = await _pending_deposit(till, org, a, "12.50")
    started = await _start(till, org, a, deposit_id, "https://book.example/done")
    assert started is not None
    payment_id, checkout_url = started
    assert checkout_url.startswith("https://www.mollie.com/checkout/")

    [created] = till.mollie.requests_to("POST", "/v2/payments")
    assert created.key == key_a
    assert created.body == {
        "amount": {"currency": "EUR", "value": "12.50"},
        "description": "Deposit",
        "redirectUrl": "https://book.example/done",
        "webhookUrl": f"{PUBLIC_URL}/webhooks/mollie/{org}",
        "metadata": {"deposit_id": deposit_id, "organization_id": org},
    }
    async with till.ctx.db.read(organization_id=org) as conn:
        row = (
            await conn.execute(
                select(provider_payments).where(provider_payments.c.organization_id == org)
            )
        ).one()
    assert (row.payment_id, row.establishment_id, row.deposit_id) == (payment_id, a, deposit_id)
    assert (row.status, row.checkout_url) == ("open", checkout_url)

    # The webhook arrives while the client has not paid yet: nothing changes.
    waiting = await _refresh(till, _public(org, b), payment_id)
    assert (waiting.status, waiting.checkout_url) == (PENDING, checkout_url)
    assert till.mollie.keys_used("GET", f"/v2/payments/{payment_id}") == [key_a]


async def test_R32_a_refresh_marks_the_deposit_paid_once(till: Till) -> None:
    org, a = _id(), _id()
    await _connect(till, _md(org, a), "acc-a", till.mollie.add_key(api_key()))
    deposit_id = await _pending_deposit(till, org, a, "20.00")
    started = await _start(till, org, a, deposit_id)
    assert started is not None
    payment_id = started[0]

    till.mollie.set_status(payment_id, "paid")
    paid = await _refresh(till, _public(org, a), payment_id)
    again = await _refresh(till, _public(org, a), payment_id)
    # Mollie calls the webhook more than once, sometimes at the same time.
    racing = await asyncio.gather(*(_refresh(till, _public(org, a), payment_id) for _ in range(5)))
    assert paid.id == deposit_id and paid.status == PAID and paid.amount == "20.00"
    assert paid.establishment_id == a and paid.checkout_url == ""
    assert again == paid and all(r == paid for r in racing)
    assert await _deposit_status(till, org, deposit_id) == "PAID"
    events = await _events(till, org, "salon.payments.deposit.paid.v1")
    assert [est for est, _ in events] == [a]
    assert events_pb2.DepositPaid.FromString(events[0][1]).deposit == paid


async def test_a_payment_that_did_not_go_through_fails_its_deposit(till: Till) -> None:
    org, a = _id(), _id()
    await _connect(till, _md(org, a), "acc-a", till.mollie.add_key(api_key()))
    for outcome in ("failed", "expired", "canceled"):
        deposit_id = await _pending_deposit(till, org, a)
        started = await _start(till, org, a, deposit_id)
        assert started is not None
        till.mollie.set_status(started[0], outcome)
        failed = await _refresh(till, _public(org, a), started[0])
        assert (failed.id, failed.status) == (deposit_id, FAILED), outcome
        # A late "paid" never revives a failed deposit.
        till.mollie.set_status(started[0], "paid")
        assert (await _refresh(till, _public(org, a), started[0])).status == FAILED
        assert await _deposit_status(till, org, deposit_id) == "FAILED"
    assert await _events(till, org, "salon.payments.deposit.paid.v1") == []


async def test_R01_a_payment_of_another_organization_is_not_found(till: Till) -> None:
    org, other, a = _id(), _id(), _id()
    await _connect(till, _md(org, a), "acc-a", till.mollie.add_key(api_key()))
    deposit_id = await _pending_deposit(till, org, a)
    started = await _start(till, org, a, deposit_id)
    assert started is not None
    till.mollie.set_status(started[0], "paid")
    for md in (_public(other, a), _md(other, a)):
        error = await _error(_refresh(till, md, started[0]))
        assert (error.code, error.field) == (ErrorCode.NOT_FOUND, "paymentId")
    assert await _deposit_status(till, org, deposit_id) == "PENDING"
    unknown = await _error(_refresh(till, _public(org, a), "tr_unknown1"))
    assert unknown.code is ErrorCode.NOT_FOUND
    bad = await _error(_refresh(till, _public(org, a), "not-a-payment"))
    assert (bad.code, bad.field) == (ErrorCode.INVALID, "paymentId")


async def test_without_a_connection_no_payment_is_created(till: Till) -> None:
    org, a, b = _id(), _id(), _id()
    await _connect(till, _md(org, b), "acc-b", till.mollie.add_key(api_key()))
    deposit_id = await _pending_deposit(till, org, a)
    assert await _start(till, org, a, deposit_id) is None
    assert till.mollie.requests_to("POST", "/v2/payments") == []
    assert await _count(till, provider_payments, org) == 0


async def test_a_provider_failure_fails_the_deposit_and_stores_no_payment(
    till: Till, monkeypatch: pytest.MonkeyPatch
) -> None:
    org, a = _id(), _id()
    await _connect(till, _md(org, a), "acc-a", till.mollie.add_key(api_key()))
    refused = await _pending_deposit(till, org, a)
    with pytest.raises(DomainError) as caught:
        await _start(till, org, a, refused, redirect="ftp://nowhere")
    assert (caught.value.code, caught.value.field) == (ErrorCode.INVALID, "redirectUrl")
    assert await _deposit_status(till, org, refused) == "FAILED"

    monkeypatch.setenv("SALON_MOLLIE_API_URL", f"http://127.0.0.1:{free_port()}")
    unreachable = await _pending_deposit(till, org, a)
    with pytest.raises(PeerError) as down:
        await _start(till, org, a, unreachable)
    assert down.value.unavailable
    assert await _deposit_status(till, org, unreachable) == "FAILED"
    assert await _count(till, provider_payments, org) == 0


async def test_refresh_needs_no_user_and_other_calls_do(till: Till) -> None:
    org, a = _id(), _id()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _connection(till, _public(org, a))
    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED


async def test_R32_RecordDeposit_goes_through_the_establishment_connection_or_is_paid_without(
    till: Till,
) -> None:
    """The booking's call: in A (connected) the deposit waits for the provider and carries
    where the client pays it, also when read back; in B (not connected) it is paid on
    booking, as before; the provider's webhook then marks A's deposit PAID."""
    org, a, b = _id(), _id(), _id()
    key_a = till.mollie.add_key(api_key())
    await _connect(till, _md(org, a), "acc-a", key_a)
    appointment_a, appointment_b, client = _id(), _id(), _id()

    in_a = await till.stub.RecordDeposit(
        payments_pb2.RecordDepositRequest(
            appointment_id=appointment_a,
            client_id=client,
            amount="15.00",
            redirect_url="https://book.example/done",
        ),
        metadata=_public(org, a),
        timeout=10,
    )
    assert in_a.status == PENDING
    assert in_a.checkout_url.startswith("https://www.mollie.com/checkout/")
    [created] = till.mollie.requests_to("POST", "/v2/payments")
    assert created.key == key_a
    assert created.body is not None and created.body["amount"] == {
        "currency": "EUR",
        "value": "15.00",
    }
    # A retry of the booking's call answers the same deposit and payment, asks nothing new.
    again = await till.stub.RecordDeposit(
        payments_pb2.RecordDepositRequest(
            appointment_id=appointment_a, client_id=client, amount="15.00"
        ),
        metadata=_public(org, a),
        timeout=10,
    )
    assert (again.id, again.checkout_url) == (in_a.id, in_a.checkout_url)
    assert len(till.mollie.requests_to("POST", "/v2/payments")) == 1
    read = await till.stub.GetDepositsByAppointments(
        payments_pb2.GetDepositsByAppointmentsRequest(appointment_ids=[appointment_a]),
        metadata=_md(org, b),
        timeout=5,
    )
    assert [(d.status, d.checkout_url) for d in read.deposits] == [(PENDING, in_a.checkout_url)]
    # Pending deposits publish nothing yet: DepositPaid comes with the provider's word.
    assert await _events(till, org, "salon.payments.deposit.paid.v1") == []

    in_b = await till.stub.RecordDeposit(
        payments_pb2.RecordDepositRequest(
            appointment_id=appointment_b, client_id=client, amount="15.00"
        ),
        metadata=_public(org, b),
        timeout=10,
    )
    assert (in_b.status, in_b.checkout_url) == (PAID, "")
    assert len(till.mollie.requests_to("POST", "/v2/payments")) == 1

    [payment_id] = list(till.mollie.payments)
    till.mollie.set_status(payment_id, "paid")
    paid = await _refresh(till, _public(org, a), payment_id)
    assert (paid.id, paid.status) == (in_a.id, PAID)
