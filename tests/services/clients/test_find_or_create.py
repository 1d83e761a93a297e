"""Online booking finds the client in the shared file by e-mail, or creates one (R10, R16)."""

from __future__ import annotations

import asyncio
import secrets

import grpc
import pytest

from salon.clients.v1 import clients_pb2
from tests.services.clients.test_grpc import _md, clients_stub  # noqa: F401 - fixture


async def test_R10_online_booking_finds_the_shared_client_by_email(clients_stub) -> None:  # noqa: F811
    org = secrets.token_hex(16)
    ann = await clients_stub.CreateClient(
        clients_pb2.CreateClientRequest(
            first_name="Ann", last_name="Peeters", email="Ann@Example.com"
        ),
        metadata=_md(org),
        timeout=5,
    )
    online = clients_pb2.CreateClientRequest(
        first_name="Annie", last_name="P", email="ann@example.COM"
    )
    found = await clients_stub.FindOrCreateClient(online, metadata=_md(org), timeout=5)
    assert (found.client.id, found.created) == (ann.id, False)
    assert found.client.first_name == "Ann"  # the file is not overwritten by a web form
    elsewhere = await clients_stub.FindOrCreateClient(online, metadata=_md(), timeout=5)
    assert elsewhere.created and elsewhere.client.id != ann.id  # R01: another organization


async def test_concurrent_online_bookings_of_a_new_client_create_one(clients_stub) -> None:  # noqa: F811
    org = secrets.token_hex(16)
    request = clients_pb2.CreateClientRequest(
        first_name="Bob", last_name="Maes", email="bob@example.com"
    )
    replies = await asyncio.gather(
        *(
            clients_stub.FindOrCreateClient(request, metadata=_md(org), timeout=10)
            for _ in range(10)
        )
    )
    assert len({r.client.id for r in replies}) == 1
    assert sum(r.created for r in replies) == 1


async def test_an_email_is_needed_and_checked(clients_stub) -> None:  # noqa: F811
    for email in ["", "not-an-email"]:
        request = clients_pb2.CreateClientRequest(first_name="A", last_name="B")
        if email:
            request.email = email
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await clients_stub.FindOrCreateClient(request, metadata=_md(), timeout=5)
        assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
