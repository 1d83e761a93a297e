"""`salon up` as a user runs it: demo data, a crashed child restarted, two launchers side by
side, Ctrl-C stops every process and leaves no event unsent."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from launcher import demo
from launcher.stack import free_port
from tests.support.graphql import Gql

pytestmark = pytest.mark.e2e

SALON = str(Path(sys.executable).parent / "salon")


class Launcher:
    def __init__(self, data_dir: Path, *args: str) -> None:
        self.data_dir = data_dir
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [SALON, "up", "--start-timeout", "150", "--data-dir", str(data_dir), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={k: v for k, v in os.environ.items() if k != "NATS_URL"},
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip())

    def wait_for(self, text: str, timeout: float = 90) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if text in line:
                    return line
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"no {text!r} in output:\n" + "\n".join(self.lines))

    def state(self) -> dict:
        return json.loads((self.data_dir / "run.json").read_text())

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(60)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not alive
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _unsent(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0])


def test_salon_up_demo_restart_side_by_side_and_clean_stop(tmp_path: Path) -> None:
    port = free_port()
    first = Launcher(tmp_path / "one", "--demo", "--port", str(port))
    second = Launcher(tmp_path / "two")  # no --port: 8000, or a free one when taken
    try:
        url_line = first.wait_for("ready. GraphQL:")
        assert url_line.endswith(f"http://127.0.0.1:{port}/graphql")
        first.wait_for(demo.OWNER_EMAIL)
        second_url = second.wait_for("ready. GraphQL:").split("GraphQL: ")[1]
        assert second_url != url_line.split("GraphQL: ")[1]

        gql = Gql(f"http://127.0.0.1:{port}/graphql")
        login = gql(
            """mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p})
          { session { token } errors { code } } }""",
            e=demo.OWNER_EMAIL,
            p=demo.OWNER_PASSWORD,
        )
        owner = gql.as_(login["login"]["session"]["token"])
        data = owner("{ organization { establishments { name } } clients { totalCount } }")
        assert len(data["organization"]["establishments"]) == 3
        assert data["clients"]["totalCount"] == 36
        staff = owner("{ staff { email } }")["staff"]
        assert {s["email"] for s in staff} >= {"manager@demo.salon", "lotte@demo.salon"}
        # The second launcher's system is another, empty one.
        other = Gql(second_url)
        assert other.raw("{ me { role } }")["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

        # A crashed child is reported and restarted.
        clients_pid = first.state()["pids"]["clients"]
        os.kill(clients_pid, signal.SIGKILL)
        first.wait_for("clients exited with code -9; restarting")
        deadline = time.monotonic() + 30
        while (
            first.state()["pids"]["clients"] == clients_pid
            or httpx.get(f"http://127.0.0.1:{port}/readyz").status_code != 200
        ):
            assert time.monotonic() < deadline, "clients was not restarted"
            time.sleep(0.2)
        assert owner("{ clients { totalCount } }")["clients"]["totalCount"] == 36
        pids = list(first.state()["pids"].values())
    finally:
        codes = (first.stop(), second.stop())
    assert codes == (0, 0)
    assert "salon: stopped" in first.lines
    time.sleep(0.2)
    assert [p for p in pids if _alive(p)] == []
    for db in ["gateway.db", "clients.db"]:
        assert _unsent(tmp_path / "one" / db) == 0, f"{db} kept unsent events"
    assert not (tmp_path / "one" / "run.json").exists()

    # A second `salon up --demo` on the same data folder keeps the data, seeds nothing twice.
    again = Launcher(tmp_path / "one", "--demo", "--port", str(port))
    try:
        again.wait_for("demo data already there")
        again.wait_for("ready. GraphQL:")
        login = Gql(f"http://127.0.0.1:{port}/graphql")(
            """mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p})
            { session { token } } }""",
            e=demo.OWNER_EMAIL,
            p=demo.OWNER_PASSWORD,
        )
        owner = Gql(f"http://127.0.0.1:{port}/graphql", login["login"]["session"]["token"])
        assert owner("{ clients { totalCount } }")["clients"]["totalCount"] == 36
    finally:
        assert again.stop() == 0
