"""Starting services in-process for the service tests: each ServiceProcess on its own
database, a real NATS, real gRPC on loopback, peers found through SALON_<PEER>_ADDR-style
settings. New service tests use this instead of repeating the set-up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc

from services.common.runtime import ServiceProcess, ServiceSpec
from services.common.scope import Right, Role, Scope, ScopeSigner
from services.common.settings import ServiceSettings

SECRET = "k" * 40  # 32+ characters, as production mode demands
SIGNER = ScopeSigner([SECRET.encode()])

Metadata = tuple[tuple[str, bytes], ...]


def settings(database_url: str, nats_url: str, **extra: Any) -> ServiceSettings:
    return ServiceSettings(
        database_url=database_url,
        nats_url=nats_url,
        scope_secret=SECRET,
        grpc_port=0,
        shutdown_grace_seconds=1,
        **extra,
    )


def metadata(
    organization_id: str,
    establishment_id: str,
    *,
    user_id: str = "u-test",
    role: Role = Role.STAFF,
    rights: Iterable[Right] = (),
    verified_establishments: Iterable[str] = (),
) -> Metadata:
    """A signed scope, as the gateway would send it."""
    return SIGNER.metadata(
        Scope(
            organization_id=organization_id,
            establishment_id=establishment_id,
            user_id=user_id,
            role=role,
            rights=frozenset(rights),
            verified_establishments=frozenset(verified_establishments),
        )
    )


@dataclass
class Services:
    """Running services by name: their ports and one channel each."""

    ports: dict[str, int] = field(default_factory=dict)
    channels: dict[str, grpc.aio.Channel] = field(default_factory=dict)
    processes: dict[str, ServiceProcess] = field(default_factory=dict)

    def channel(self, name: str) -> grpc.aio.Channel:
        return self.channels[name]


@asynccontextmanager
async def running(
    nats_url: str,
    databases: dict[str, str],
    specs: dict[str, ServiceSpec],
    settings_extra: dict[str, dict[str, Any]] | None = None,
) -> AsyncIterator[Services]:
    """Start the given services in order (a peer before the services that call it). Each
    one learns the addresses of those started before it (``<name>_addr``)."""
    running = Services()
    async with AsyncExitStack() as stack:

        async def stop_all() -> None:
            # Together, as separate processes would stop: each waits for its consumers'
            # fetches under way, and one after the other would add those waits up.
            await asyncio.gather(*(p.stop() for p in running.processes.values()))

        stack.push_async_callback(stop_all)
        for name, spec in specs.items():
            peers = {f"{peer}_addr": f"127.0.0.1:{port}" for peer, port in running.ports.items()}
            extra = {**peers, **(settings_extra or {}).get(name, {})}
            process = ServiceProcess(spec, settings(databases[name], nats_url, **extra))
            port = await process.start()
            running.processes[name] = process
            channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
            stack.push_async_callback(channel.close)
            running.ports[name] = port
            running.channels[name] = channel
        yield running
