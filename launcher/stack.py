"""The whole system as separate processes: NATS, each service, the gateway.

Used by ``salon up`` and by the end-to-end tests. Every child runs in its own process
group (the launcher decides the order of shutdown: gateway, services, NATS last, so that
relays can flush) and gets SIGTERM if the launcher dies (no orphans).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from launcher import partners
from launcher.nats_server import NatsServer, start_nats

log = logging.getLogger("salon.launcher")

SERVICES = ("clients", "catalog", "inventory", "booking", "payments")


def dying_with_launcher(argv: list[str]) -> list[str]:
    """The command line that runs ``argv`` and has it get SIGTERM if this process dies
    (launcher/die_with_parent.py: no preexec_fn, so no Python runs between fork and exec)."""
    return [sys.executable, "-m", "launcher.die_with_parent", str(os.getpid()), *argv]


def _ephemeral_start() -> int:
    """Where the kernel starts handing out ports for port-0 binds and outgoing connections."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A free port below the kernel's ephemeral range: a port picked now and bound by a
    child a moment later must not be handed meanwhile to someone's outgoing connection or
    port-0 bind (other services, test workers), which all draw from the ephemeral range."""
    top = _ephemeral_start()
    if top > 20000:
        pick = random.Random()  # noqa: S311 - a port number, not a secret
        for _ in range(100):
            port = pick.randrange(20000, top)
            if port_is_free(port):
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class Child:
    name: str
    module: str
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    next_start: float = 0.0

    def spawn(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                dying_with_launcher([sys.executable, "-m", self.module]),
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started_at = time.monotonic()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def terminate(self) -> None:
        if self.alive():
            assert self.process is not None
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0fs; killing it", self.name, timeout)
            self.process.kill()
            self.process.wait()


@dataclass
class Stack:
    data_dir: Path
    port: int | None = None
    nats_url: str | None = None
    restart: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)
    # Where each part keeps its data ("gateway", "clients", ...): a SQLAlchemy URL. A part
    # not named here uses SALON_<PART>_DATABASE_URL when set, else its SQLite file in
    # data_dir (the embedded default).
    database_urls: dict[str, str] = field(default_factory=dict)
    nats: NatsServer | None = None
    children: dict[str, Child] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    # Each service's Prometheus /metrics port (the gateway serves /metrics on its own port).
    metrics_ports: dict[str, int] = field(default_factory=dict)
    stopping: bool = False

    @property
    def graphql_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}/graphql"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    @property
    def nats_public_url(self) -> str:
        """The NATS address without the system user's credentials (what may be shown)."""
        return partners.without_credentials(self.nats_url or "")

    @property
    def metrics_urls(self) -> dict[str, str]:
        """Where each part answers GET /metrics."""
        urls = {"gateway": f"{self.base_url}/metrics"}
        urls.update({n: f"http://127.0.0.1:{p}/metrics" for n, p in self.metrics_ports.items()})
        return urls

    def _secret(self) -> str:
        return self._kept_secret("scope-secret", lambda: secrets.token_urlsafe(48))

    def _payments_key(self) -> str:
        """The Fernet key that encrypts payment providers' API keys (R32): kept in the data
        folder, so a restart can still read what it stored."""
        return self._kept_secret(
            "payments-key", lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        )

    def _webhooks_key(self) -> str:
        """The Fernet key that encrypts webhook signing secrets (B06), kept like the above."""
        return self._kept_secret(
            "webhooks-key", lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        )

    def _kept_secret(self, name: str, make: Callable[[], str]) -> str:
        path = self.data_dir / name
        if not path.exists():
            path.write_text(make())
            path.chmod(0o600)
        return path.read_text().strip()

    def database_url(self, part: str) -> str:
        return (
            self.database_urls.get(part)
            or os.environ.get(f"SALON_{part.upper()}_DATABASE_URL")
            or f"sqlite+aiosqlite:///{self.data_dir / (part + '.db')}"
        )

    def _pick_ports(self) -> None:
        for name in SERVICES:
            wanted = os.environ.get(f"SALON_{name.upper()}_PORT")
            self.ports[name] = int(wanted) if wanted else free_port()
            wanted = os.environ.get(f"SALON_{name.upper()}_METRICS_PORT")
            self.metrics_ports[name] = int(wanted) if wanted else free_port()
        if self.port is not None:
            self.ports["gateway"] = self.port
        else:
            wanted = os.environ.get("SALON_PORT")
            default = int(wanted) if wanted else 8000
            self.ports["gateway"] = default if wanted or port_is_free(default) else free_port()

    def start(self, timeout: float = 60) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.data_dir.resolve()
        self._pick_ports()
        # The provider's webhooks (R32) reach the gateway here unless told otherwise.
        public_url = os.environ.get("SALON_PUBLIC_URL") or self.base_url
        nats_url = self.nats_url or os.environ.get("NATS_URL") or None
        if nats_url is None:
            # The embedded NATS requires a user (B06): the parts connect as the system
            # user (credentials inside SALON_NATS_URL, redacted in logs), partners as the
            # users of `salon partner add`, each limited to its organization's subjects.
            config = partners.write_config(self.data_dir)
            user, password = partners.system_credentials(self.data_dir)
            self.nats = start_nats(
                self.data_dir / "nats", config_file=config, wrap=dying_with_launcher
            )
            nats_url = partners.with_credentials(self.nats.url, user, password)
        self.nats_url = nats_url
        base_env = {
            **os.environ,
            "SALON_NATS_URL": nats_url,
            "SALON_SCOPE_SECRET": self._secret(),
            "SALON_PAYMENTS_KEY": os.environ.get("SALON_PAYMENTS_KEY") or self._payments_key(),
            "SALON_WEBHOOKS_KEY": os.environ.get("SALON_WEBHOOKS_KEY") or self._webhooks_key(),
            "PYTHONUNBUFFERED": "1",
            "SALON_PUBLIC_URL": public_url,
            "SALON_MAILBOX_DIR": os.environ.get(
                "SALON_MAILBOX_DIR", str(self.data_dir / "mailbox")
            ),
            # R30: campaign SMS without SALON_SMS_URL, one JSON file each.
            "SALON_SMS_DIR": os.environ.get("SALON_SMS_DIR", str(self.data_dir / "sms")),
            **{f"SALON_{n.upper()}_ADDR": f"127.0.0.1:{self.ports[n]}" for n in SERVICES},
            **self.extra_env,
        }
        for name in SERVICES:
            env = {
                **base_env,
                "SALON_DATABASE_URL": self.database_url(name),
                "SALON_GRPC_HOST": "127.0.0.1",
                "SALON_GRPC_PORT": str(self.ports[name]),
                "SALON_METRICS_PORT": str(self.metrics_ports[name]),
                # Traces (when OTEL_EXPORTER_OTLP_ENDPOINT is set): each part by its name.
                "OTEL_SERVICE_NAME": f"salon-{name}",
            }
            self.children[name] = Child(
                name, f"services.{name}", env, self.data_dir / "logs" / f"{name}.log"
            )
        gateway_env = {
            **base_env,
            "SALON_DATABASE_URL": self.database_url("gateway"),
            "SALON_HOST": "127.0.0.1",
            "SALON_PORT": str(self.ports["gateway"]),
            "OTEL_SERVICE_NAME": "salon-gateway",
        }
        self.children["gateway"] = Child(
            "gateway", "gateway", gateway_env, self.data_dir / "logs" / "gateway.log"
        )
        for child in self.children.values():
            child.spawn()
        self.wait_ready(timeout)
        self._write_state()

    def _write_state(self) -> None:
        state = {
            "graphql_url": self.graphql_url,
            # Without the system user's password (in nats-system); `salon partner add`
            # signals nats_pid to reload its users.
            "nats_url": self.nats_public_url,
            "nats_pid": self.nats.process.pid if self.nats is not None else None,
            "ports": self.ports,
            "metrics_ports": self.metrics_ports,
            "metrics_urls": self.metrics_urls,
            "pids": {name: c.pid for name, c in self.children.items()},
            "launcher_pid": os.getpid(),
        }
        (self.data_dir / "run.json").write_text(json.dumps(state, indent=2))

    def service_ready(self, name: str) -> bool:
        with grpc.insecure_channel(f"127.0.0.1:{self.ports[name]}") as channel:
            try:
                reply = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=""), timeout=1
                )
            except grpc.RpcError:
                return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    def gateway_ready(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = set(self.children)
        while pending:
            for name in sorted(pending):
                child = self.children[name]
                if not child.alive():
                    tail = child.log_path.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{name} exited during start-up:\n{tail}")
                ok = self.gateway_ready() if name == "gateway" else self.service_ready(name)
                if ok:
                    pending.discard(name)
            if pending and time.monotonic() > deadline:
                raise RuntimeError(f"not ready after {timeout:.0f}s: {', '.join(sorted(pending))}")
            if pending:
                time.sleep(0.2)

    def supervise_once(self) -> list[str]:
        """Restart crashed children (with backoff); returns the notices to print."""
        notices = []
        now = time.monotonic()
        for child in self.children.values():
            if child.alive() or self.stopping or not self.restart:
                continue
            if child.next_start == 0.0:
                code = child.process.returncode if child.process else None
                if now - child.started_at > 60:
                    child.restarts = 0
                delay = min(2.0**child.restarts - 1, 30.0)
                child.next_start = now + delay
                notices.append(
                    f"{child.name} exited with code {code}; restarting"
                    + (f" in {delay:.0f}s" if delay >= 1 else "")
                    + f" (see {child.log_path})"
                )
            if now >= child.next_start:
                child.restarts += 1
                child.next_start = 0.0
                child.spawn()
                self._write_state()
        return notices

    def stop_child(self, name: str, timeout: float = 15) -> None:
        child = self.children[name]
        child.terminate()
        child.wait(timeout)

    def stop(self, timeout: float = 15) -> None:
        """Gateway first (no new work), then the services (drain, flush outboxes), NATS last."""
        self.stopping = True
        if "gateway" in self.children:
            self.stop_child("gateway", timeout)
        services = [self.children[n] for n in SERVICES if n in self.children]
        for child in services:
            child.terminate()
        for child in services:
            child.wait(timeout)
        if self.nats is not None:
            self.nats.stop()
        (self.data_dir / "run.json").unlink(missing_ok=True)
