"""The payments service over real gRPC on loopback: deposits shown in the client record of
the appointment's establishment only (R17) but found by appointment from any establishment,
one deposit per appointment (retries answered, other amounts refused, races), bad amounts,
isolation between organizations (R01), the event published; unknown receipts left out."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any

import grpc
import nats
import pytest

from launcher.nats_server import NatsServer
from salon.payments.v1 import events_pb2, payments_pb2, payments_pb2_grpc
from services.common.errors import DomainError, ErrorCode, from_rpc_error
from services.common.events import Event
from services.common.runtime import ServiceProcess
from services.common.scope import Role, Scope, ScopeSigner
from services.common.settings import ServiceSettings
from services.payments.service import SPEC as PAYMENTS

SECRET = "k" * 40  # 32+ characters, as production mode demands
SIGNER = ScopeSigner([SECRET.encode()])

PAID = payments_pb2.DEPOSIT_STATUS_PAID


@dataclass
class Stack:
    payments: payments_pb2_grpc.PaymentsServiceStub
    nats_url: str


@pytest.fixture
async def stack(database_url: str, nats_server: NatsServer) -> AsyncIterator[Stack]:
    payments = ServiceProcess(
        PAYMENTS,
        ServiceSettings(
            database_url=database_url,
            nats_url=nats_server.url,
            scope_secret=SECRET,
            grpc_port=0,
            shutdown_grace_seconds=1,
        ),
    )
    port = await payments.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield Stack(payments_pb2_grpc.PaymentsServiceStub(channel), nats_server.url)
    finally:
        await channel.close()
        await payments.stop()


def _id() -> str:
    return secrets.token_hex(16)


def _md(org: str, est: str, role: Role = Role.STAFF) -> tuple[tuple[str, bytes], ...]:
    return SIGNER.metadata(Scope(org, est, "u1", role))


async def _error(call: Awaitable[Any]) -> DomainError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error = from_rpc_error(caught.value)
    assert error is not None, caught.value
    return error


async def _record(
    stack: Stack, org: str, est: str, appointment: str, client: str, amount: str
) -> payments_pb2.Deposit:
    return await stack.payments.RecordDeposit(
        payments_pb2.RecordDepositRequest(
            appointment_id=appointment, client_id=client, amount=amount
        ),
        metadata=_md(org, est),
        timeout=5,
    )


async def _by_appointments(
    stack: Stack, org: str, est: str, *appointments: str
) -> list[payments_pb2.Deposit]:
    reply = await stack.payments.GetDepositsByAppointments(
        payments_pb2.GetDepositsByAppointmentsRequest(appointment_ids=list(appointments)),
        metadata=_md(org, est),
        timeout=5,
    )
    return list(reply.deposits)


async def _of_client(
    stack: Stack, org: str, est: str, client: str, role: Role = Role.STAFF
) -> list[payments_pb2.Deposit]:
    reply = await stack.payments.ListClientDeposits(
        payments_pb2.ListClientDepositsRequest(client_id=client),
        metadata=_md(org, est, role),
        timeout=5,
    )
    return list(reply.deposits)


async def test_calls_without_a_valid_scope_are_unauthenticated(stack: Stack) -> None:
    forged = ScopeSigner([b"not the secret" * 3]).metadata(Scope("o", "e", "u", Role.OWNER))
    for metadata in [None, forged]:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stack.payments.RecordDeposit(
                payments_pb2.RecordDepositRequest(appointment_id="a", client_id="c", amount="5"),
                metadata=metadata,
                timeout=5,
            )
        assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_R17_a_deposit_shows_in_the_client_record_of_its_establishment_only(
    stack: Stack,
) -> None:
    org, a, b, appointment, client = _id(), _id(), _id(), _id(), _id()

    deposit = await _record(stack, org, a, appointment, client, "15")

    assert (deposit.appointment_id, deposit.client_id) == (appointment, client)
    assert (deposit.establishment_id, deposit.amount, deposit.status) == (a, "15.00", PAID)
    assert deposit.id and deposit.created_at.seconds > 0
    assert await _of_client(stack, org, a, client) == [deposit]
    # Not in B's client record, even for the owner.
    assert await _of_client(stack, org, b, client) == []
    assert await _of_client(stack, org, b, client, Role.OWNER) == []
    # But found by appointment from B: a checkout in B shows and applies it.
    assert await _by_appointments(stack, org, b, appointment) == [deposit]


async def test_R17_a_client_record_lists_its_establishment_deposits_newest_first(
    stack: Stack,
) -> None:
    org, a, b, client = _id(), _id(), _id(), _id()
    first = await _record(stack, org, a, _id(), client, "10.00")
    await _record(stack, org, b, _id(), client, "20.00")
    await _record(stack, org, a, _id(), _id(), "30.00")  # another client
    second = await _record(stack, org, a, _id(), client, "40.00")

    assert await _of_client(stack, org, a, client) == [second, first]
    assert [d.amount for d in await _of_client(stack, org, b, client)] == ["20.00"]


async def test_a_repeated_deposit_for_an_appointment_answers_the_first_one(stack: Stack) -> None:
    org, a, appointment, client = _id(), _id(), _id(), _id()

    first = await _record(stack, org, a, appointment, client, "12.50")
    again = await _record(stack, org, a, appointment, client, "12.5")

    assert again == first
    assert await _by_appointments(stack, org, a, appointment) == [first]
    assert await _of_client(stack, org, a, client) == [first]


async def test_another_amount_for_an_appointment_is_a_conflict_and_changes_nothing(
    stack: Stack,
) -> None:
    org, a, b, appointment, client = _id(), _id(), _id(), _id(), _id()
    first = await _record(stack, org, a, appointment, client, "12.50")

    conflicts = [
        await _error(_record(stack, org, a, appointment, client, "13.00")),
        # Recording it again while working in another establishment changes nothing either.
        await _error(_record(stack, org, b, appointment, client, "13.00")),
    ]

    assert {(e.code, e.field) for e in conflicts} == {(ErrorCode.CONFLICT, "deposit")}
    assert await _by_appointments(stack, org, a, appointment) == [first]
    assert await _of_client(stack, org, a, client) == [first]
    assert await _of_client(stack, org, b, client) == []


async def test_twenty_concurrent_deposits_for_one_appointment_record_exactly_one(
    stack: Stack,
) -> None:
    org, a, appointment, client = _id(), _id(), _id(), _id()

    answers = await asyncio.gather(
        *(_record(stack, org, a, appointment, client, "25.00") for _ in range(20))
    )

    assert all(answer == answers[0] for answer in answers)
    assert await _by_appointments(stack, org, a, appointment) == [answers[0]]
    assert await _of_client(stack, org, a, client) == [answers[0]]


@pytest.mark.parametrize("amount", ["-5", "abc", "1.234", "0", "", "0.00", "1000000.01"])
async def test_bad_deposit_amounts_are_invalid_and_record_nothing(
    stack: Stack, amount: str
) -> None:
    org, a, appointment, client = _id(), _id(), _id(), _id()

    error = await _error(_record(stack, org, a, appointment, client, amount))

    assert (error.code, error.field) == (ErrorCode.INVALID, "deposit")
    assert await _by_appointments(stack, org, a, appointment) == []
    assert await _of_client(stack, org, a, client) == []


async def test_missing_ids_and_oversized_batches_are_invalid(stack: Stack) -> None:
    org, a = _id(), _id()
    cases = [
        (_record(stack, org, a, "", _id(), "10"), "appointmentId"),
        (_record(stack, org, a, _id(), "", "10"), "clientId"),
        (_record(stack, org, a, "x" * 33, _id(), "10"), "appointmentId"),
        (
            stack.payments.ListClientDeposits(
                payments_pb2.ListClientDepositsRequest(client_id=""),
                metadata=_md(org, a),
                timeout=5,
            ),
            "clientId",
        ),
        (
            stack.payments.GetDepositsByAppointments(
                payments_pb2.GetDepositsByAppointmentsRequest(
                    appointment_ids=[str(i) for i in range(1001)]
                ),
                metadata=_md(org, a),
                timeout=5,
            ),
            "appointmentIds",
        ),
    ]
    for call, field in cases:
        error = await _error(call)
        assert (error.code, error.field) == (ErrorCode.INVALID, field)
    # A full batch of 1000 is fine.
    assert await _by_appointments(stack, org, a, *(str(i) for i in range(1000))) == []


async def test_R01_another_organization_sees_nothing_of_our_deposits(stack: Stack) -> None:
    org, other_org, a, appointment, client = _id(), _id(), _id(), _id(), _id()
    ours = await _record(stack, org, a, appointment, client, "10.00")

    # The same establishment, appointment and client ids, signed for another organization.
    assert await _by_appointments(stack, other_org, a, appointment) == []
    assert await _of_client(stack, other_org, a, client, Role.OWNER) == []
    # Their appointment with the same id is theirs: no conflict with ours, no change to it.
    theirs = await _record(stack, other_org, a, appointment, client, "99.00")
    assert theirs.id != ours.id and theirs.amount == "99.00"
    assert await _by_appointments(stack, org, a, appointment) == [ours]
    assert await _of_client(stack, org, a, client) == [ours]


async def test_a_deposit_is_published_once_as_deposit_paid(stack: Stack) -> None:
    org, a, appointment, client = _id(), _id(), _id(), _id()
    nc = await nats.connect(stack.nats_url)
    received: list[Event] = []

    async def collect(msg: Any) -> None:
        received.append(Event.from_message(msg.subject, msg.headers, msg.data))

    sub = await nc.subscribe(f"salon.{org}.>", cb=collect)
    try:
        deposit = await _record(stack, org, a, appointment, client, "15.00")
        await _record(stack, org, a, appointment, client, "15.00")  # a retry publishes nothing
        await _error(_record(stack, org, a, appointment, client, "16.00"))  # nor a conflict
        for _ in range(100):
            if received:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
    finally:
        await sub.unsubscribe()
        await nc.close()

    assert [(e.type, e.subject, e.establishment_id) for e in received] == [
        ("salon.payments.deposit.paid.v1", f"salon.{org}.{a}.payments.deposit.paid", a)
    ]
    assert received[0].organization_id == org and received[0].actor_id == "u1"
    assert received[0].parse(events_pb2.DepositPaid).deposit == deposit


async def test_unknown_receipt_ids_are_left_out_of_the_batch_read(stack: Stack) -> None:
    """GetReceipts is built (tests/services/payments/test_checkout.py): ids it does not
    know, or another organization's, are simply not in the answer."""
    reply = await stack.payments.GetReceipts(
        payments_pb2.GetReceiptsRequest(ids=[_id(), _id()]), metadata=_md(_id(), _id()), timeout=5
    )
    assert list(reply.receipts) == []


async def test_R17_a_list_of_clients_reads_its_deposits_in_one_call(stack: Stack) -> None:
    """The client list's batch read: every client's deposits of the session establishment
    in one call, each carrying its client; one client or a list, not both."""
    org, a, b = _id(), _id(), _id()
    ann, bob, cas = _id(), _id(), _id()
    await _record(stack, org, a, _id(), ann, "10.00")
    await _record(stack, org, a, _id(), bob, "15.00")
    await _record(stack, org, b, _id(), cas, "20.00")
    reply = await stack.payments.ListClientDeposits(
        payments_pb2.ListClientDepositsRequest(client_ids=[ann, bob, cas, ann]),
        metadata=_md(org, a),
        timeout=5,
    )
    assert sorted((d.client_id, d.amount) for d in reply.deposits) == sorted(
        [(ann, "10.00"), (bob, "15.00")]
    )
    both = payments_pb2.ListClientDepositsRequest(client_id=ann, client_ids=[bob])
    error = await _error(stack.payments.ListClientDeposits(both, metadata=_md(org, a), timeout=5))
    assert (error.code, error.field) == (ErrorCode.INVALID, "clientIds")
    too_many = payments_pb2.ListClientDepositsRequest(client_ids=[_id() for _ in range(1001)])
    error = await _error(
        stack.payments.ListClientDeposits(too_many, metadata=_md(org, a), timeout=5)
    )
    assert (error.code, error.field) == (ErrorCode.INVALID, "clientIds")
