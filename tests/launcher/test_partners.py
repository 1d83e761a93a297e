"""NATS credentials for partners (B06) on a real nats-server started with the config the
launcher generates: a partner of organization A receives A's events and nothing else; the
server refuses its subscriptions to B's subjects (or to all of them) and any publish;
removing the partner and reloading closes its access; a malformed organization id writes
nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from launcher import partners
from launcher.cli import main
from launcher.nats_server import NatsServer, start_nats
from services.common.db import new_id
from services.common.logs import redact


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[tuple[Path, NatsServer]]:
    """A data folder and the NATS started from its generated config, as `salon up` does."""
    server = start_nats(tmp_path / "nats", config_file=partners.write_config(tmp_path))
    try:
        yield tmp_path, server
    finally:
        server.stop()


class Errors:
    """What the server reports to a client asynchronously (-ERR lines)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def record(self, error: Exception) -> None:
        self.seen.append(str(error))

    async def wait_for(self, text: str, timeout: float = 5) -> None:
        for _ in range(int(timeout / 0.05)):
            if any(text in seen for seen in self.seen):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"no error containing {text!r} in {self.seen}")


async def _collect(nc: Client, subject: str) -> list[Msg]:
    got: list[Msg] = []

    async def keep(msg: Msg) -> None:
        got.append(msg)

    await nc.subscribe(subject, cb=keep)
    return got


async def test_B06_partner_of_A_receives_A_and_the_server_refuses_B_and_publishing(
    secured: tuple[Path, NatsServer], capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir, server = secured
    org_a, org_b = new_id(), new_id()
    # The launcher's state as `salon up` writes it: the command finds the server there.
    (data_dir / "run.json").write_text(
        json.dumps({"nats_url": server.url, "nats_pid": server.process.pid})
    )
    assert main(["partner", "add", org_a, "--name", "Books & Co", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert f"NATS (pid {server.process.pid}) reloaded its users" in out
    assert f"subject:  salon.{org_a}.>" in out and f"url:      {server.url}" in out
    assert "does not know the organizations" in out
    (partner,) = partners.list_partners(data_dir)
    assert partner.organization_id == org_a and partner.name == "Books & Co"
    assert f"user:     {partner.user}" in out and f"password: {partner.password}" in out

    # The salon parts: the system user in the URL, every permission (what `salon up` gives).
    user, password = partners.system_credentials(data_dir)
    system_url = partners.with_credentials(server.url, user, password)
    assert password not in redact(f"connecting to {system_url}")
    system = await nats.connect(system_url)
    errors = Errors()
    partner_nc = await nats.connect(
        server.url, user=partner.user, password=partner.password, error_cb=errors.record
    )
    try:
        mine = await _collect(partner_nc, f"salon.{org_a}.>")
        await _collect(partner_nc, f"salon.{org_b}.>")
        await errors.wait_for(f'permissions violation for subscription to "salon.{org_b}.>"')
        await _collect(partner_nc, "salon.>")
        await errors.wait_for('permissions violation for subscription to "salon.>"')
        await partner_nc.publish(f"salon.{org_a}.org.clients.client.created", b"forged")
        await errors.wait_for(f'permissions violation for publish to "salon.{org_a}.org')

        # What the system user publishes reaches the partner for A only.
        everything = await _collect(system, "salon.>")
        await system.flush()
        await system.publish(f"salon.{org_b}.est.clients.client.created", b"b")
        await system.publish(f"salon.{org_a}.est.clients.client.created", b"a")
        await system.flush()
        for _ in range(100):
            if len(everything) == 2 and mine:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # anything else on its way has arrived by now
        assert [m.data for m in mine] == [b"a"]
        # The forged publish never reached anyone.
        assert sorted(m.data for m in everything) == [b"a", b"b"]

        # Nobody without a user gets in.
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await nats.connect(server.url, allow_reconnect=False, connect_timeout=2)

        # Removed: the running server drops the partner's connection and refuses it again.
        assert main(["partner", "remove", partner.user, "--data-dir", str(data_dir)]) == 0
        assert "reloaded its users" in capsys.readouterr().out
        assert partners.list_partners(data_dir) == []
        for _ in range(100):
            if not partner_nc.is_connected:
                break
            await asyncio.sleep(0.05)
        assert not partner_nc.is_connected
        await system.publish(f"salon.{org_a}.est.clients.client.created", b"after")
        await system.flush()
        await asyncio.sleep(0.3)
        assert [m.data for m in mine] == [b"a"]
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await nats.connect(
                server.url,
                user=partner.user,
                password=partner.password,
                allow_reconnect=False,
                connect_timeout=2,
            )
        assert main(["partner", "remove", partner.user, "--data-dir", str(data_dir)]) == 2
    finally:
        await partner_nc.close()
        await system.close()


def test_B06_a_malformed_organization_id_is_refused_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for bad in ("acme", "salon.>", "*", f"{new_id()}.x", ""):
        assert main(["partner", "add", bad, "--data-dir", str(tmp_path)]) == 2
        assert "not an organization id" in capsys.readouterr().err
    assert not (tmp_path / partners.PARTNERS_FILE).exists()
    assert not (tmp_path / partners.CONFIG_FILE).exists()
    # Other spellings of a UUID become the id the salon writes in its subjects.
    org = new_id()
    spelled = f"{org[:8]}-{org[8:12]}-{org[12:16]}-{org[16:20]}-{org[20:]}".upper()
    partner = partners.add_partner(tmp_path, spelled)
    assert partner.subject == f"salon.{org}.>"
    # Without a running launcher the command says when it takes effect.
    assert main(["partner", "add", org, "--data-dir", str(tmp_path)]) == 0
    assert "takes effect at the next `salon up" in capsys.readouterr().out
    assert len(partners.list_partners(tmp_path)) == 2
    assert (tmp_path / partners.CONFIG_FILE).stat().st_mode & 0o077 == 0
