"""A partner on the launcher's NATS (B06), end to end: `salon partner add` against the
running system (auth on: every part connects as the system user) gives credentials with
which the partner receives its organization's real events as the relays publish them,
never another organization's, and the server refuses its subscription to that one."""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats
import pytest
from nats.aio.msg import Msg

from launcher import partners
from launcher.cli import main
from launcher.stack import Stack
from tests.e2e.test_agenda import _ok
from tests.support.graphql import Gql, sign_up

pytestmark = pytest.mark.e2e

CREATE_CLIENT = """mutation($input: CreateClientInput!) { createClient(input: $input) {
  client { id } errors { code } } }"""


async def test_B06_partner_command_gives_its_organization_events_only(
    stack: Stack, gql: Gql, capsys: pytest.CaptureFixture[str]
) -> None:
    if stack.nats is None:
        pytest.skip("the stack runs on an external NATS (NATS_URL): no launcher-managed users")
    data_dir = Path(stack.data_dir)
    a, b = sign_up(gql, "Partnered"), sign_up(gql, "Other")
    # No anonymous access to the launcher's NATS any more.
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(stack.nats_public_url, allow_reconnect=False, connect_timeout=2)

    assert main(["partner", "add", a.organization_id, "--data-dir", str(data_dir)]) == 0
    assert "reloaded its users" in capsys.readouterr().out
    (partner,) = [
        p for p in partners.list_partners(data_dir) if p.organization_id == a.organization_id
    ]
    errors: list[str] = []

    async def on_error(error: Exception) -> None:
        errors.append(str(error))

    nc = await nats.connect(
        stack.nats_public_url, user=partner.user, password=partner.password, error_cb=on_error
    )
    got: list[Msg] = []

    async def keep(msg: Msg) -> None:
        got.append(msg)

    try:
        await nc.subscribe(partner.subject, cb=keep)
        await nc.subscribe(f"salon.{b.organization_id}.>", cb=keep)
        await nc.flush()
        for api, name in ((b.api, "Bea"), (a.api, "Ann")):
            created = await asyncio.to_thread(
                api, CREATE_CLIENT, input={"firstName": name, "lastName": "Peeters"}
            )
            _ok(created, "createClient")
        for _ in range(200):
            if any(m.subject.endswith(".clients.client.created") for m in got):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # B's event, published first, would be here by now
        assert got, "the partner received none of its organization's events"
        assert {m.subject.split(".")[1] for m in got} == {a.organization_id}
        assert all(m.header and m.header["ce-organizationid"] == a.organization_id for m in got)
        assert any(m.subject.endswith(".clients.client.created") for m in got)
        assert any(
            f'permissions violation for subscription to "salon.{b.organization_id}.>"' in e
            for e in errors
        ), errors
    finally:
        await nc.close()
        assert main(["partner", "remove", partner.user, "--data-dir", str(data_dir)]) == 0
