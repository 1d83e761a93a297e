"""Running a service process: database and migrations, NATS and the outbox relay, event
consumers, the gRPC server, and a clean stop on SIGTERM / SIGINT.

Each service's ``__main__`` describes itself with a :class:`ServiceSpec` and calls
:func:`main`; nothing here knows any particular service.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import grpc
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from sqlalchemy import MetaData, Table

from services.common import logs, migrations, rpc, tracing
from services.common.consumer import EventConsumer
from services.common.db import Database
from services.common.grpc_server import GrpcServer
from services.common.metrics import MetricsRefresher, MetricsServer, PartMetrics
from services.common.nats_conn import connect
from services.common.outbox import OutboxRelay, ensure_stream
from services.common.scope import ScopeSigner, current_scope
from services.common.settings import ServiceSettings

log = logging.getLogger("salon.service")

T = TypeVar("T")


@dataclass
class ServiceContext:
    """What a service's API and consumers are given: its database, outbox and settings."""

    name: str
    settings: ServiceSettings
    db: Database
    outbox: Table
    processed: Table
    relay: OutboxRelay | None = None
    js: JetStreamContext | None = None
    signer: ScopeSigner | None = None
    channels: dict[str, grpc.aio.Channel] = field(default_factory=dict)

    def wake_relay(self) -> None:
        """After a commit that wrote events: publish now rather than at the next poll."""
        if self.relay is not None:
            self.relay.wake()

    async def call(self, peer: str, method: Callable[..., Awaitable[T]], request: Any) -> T:
        """Call another service (one that ARCHITECTURE.md lets this one ask) on behalf of
        the current caller: the scope travels on, re-signed, with the deadline."""
        assert self.signer is not None
        return await rpc.call(
            peer,
            method,
            request,
            self.signer.metadata(current_scope()),
            self.settings.grpc_deadline_seconds,
        )

    def channel(self, peer: str) -> grpc.aio.Channel:
        """One long-lived channel per peer per process."""
        if peer not in self.channels:
            self.channels[peer] = rpc.channel(self.settings.backend_addr(peer))
        return self.channels[peer]


class Worker(Protocol):
    def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class ServiceSpec:
    name: str
    grpc_service_names: Sequence[str]
    metadata: MetaData
    migrations: Path
    outbox: Table
    processed: Table
    register: Callable[[grpc.aio.Server, ServiceContext], None]
    consumers: Callable[[ServiceContext], list[EventConsumer]] = field(default=lambda _ctx: [])
    # Background work beside the RPCs (a mail sender, say): started after the consumers,
    # stopped before them.
    workers: Callable[[ServiceContext], list[Worker]] = field(default=lambda _ctx: [])
    # RPC names (e.g. "PublicBook") a scope without a user may call: the public booking
    # page and what it needs. Every other RPC refuses such a scope.
    public_methods: frozenset[str] = frozenset()


class ServiceProcess:
    def __init__(self, spec: ServiceSpec, settings: ServiceSettings) -> None:
        self.spec = spec
        self.settings = settings
        self.db = Database(settings.database_url, pool_size=settings.db_pool_size)
        self.ctx = ServiceContext(spec.name, settings, self.db, spec.outbox, spec.processed)
        self.nc: NatsClient | None = None
        self.consumers: list[EventConsumer] = []
        self.workers: list[Worker] = []
        self.server: GrpcServer | None = None
        self.metrics = PartMetrics(spec.name)
        self.metrics.watch_pool(self.db)
        self.refresher: MetricsRefresher | None = None
        self.metrics_server: MetricsServer | None = None

    @property
    def metrics_port(self) -> int | None:
        """The port /metrics answers on, None when off (SALON_METRICS_PORT=-1)."""
        return self.metrics_server.port if self.metrics_server is not None else None

    async def start(self) -> int:
        await migrations.upgrade(self.db, self.spec.migrations)
        self.nc = await connect(self.settings.nats_url, f"salon-{self.spec.name}")
        js = self.nc.jetstream()
        await ensure_stream(
            js,
            self.settings.events_stream,
            self.settings.events_max_age_days,
            self.settings.events_replicas,
        )
        self.ctx.js = js
        self.ctx.relay = OutboxRelay(self.db, self.spec.outbox, js)
        self.ctx.relay.start()
        self.consumers = self.spec.consumers(self.ctx)
        for consumer in self.consumers:
            consumer.metrics = self.metrics
            consumer.start()
        self.refresher = MetricsRefresher(
            self.metrics,
            outbox=self.ctx.relay,
            consumers=lambda: self.consumers,
            interval=self.settings.metrics_refresh_seconds,
        )
        self.refresher.start()
        self.workers = self.spec.workers(self.ctx)
        for worker in self.workers:
            worker.start()
        self.ctx.signer = ScopeSigner(
            self.settings.scope_secrets(), self.settings.scope_ttl_seconds
        )
        self.server = GrpcServer(
            signer=self.ctx.signer,
            service_names=self.spec.grpc_service_names,
            register=lambda server: self.spec.register(server, self.ctx),
            host=self.settings.grpc_host,
            port=self.settings.grpc_port,
            reflection_enabled=not self.settings.production,
            max_rpc_seconds=self.settings.max_rpc_seconds,
            public_methods=self.spec.public_methods,
            metrics=self.metrics,
        )
        await self.server.start()
        if self.settings.metrics_port >= 0:
            self.metrics_server = MetricsServer(
                self.metrics.registry, self.settings.grpc_host, self.settings.metrics_port
            )
            self.metrics_server.start()
        return self.server.port

    async def stop(self) -> None:
        """Drain calls, then stop consuming, flush the outbox, close connections."""
        if self.server is not None:
            await self.server.stop(self.settings.shutdown_grace_seconds)
        # Together: each consumer lets its fetch under way end (up to FETCH_WAIT), so one
        # after the other would add those waits up.
        await asyncio.gather(*(worker.stop() for worker in self.workers))
        await asyncio.gather(*(consumer.stop() for consumer in self.consumers))
        if self.refresher is not None:
            await self.refresher.stop()
        if self.metrics_server is not None:
            self.metrics_server.stop()
        if self.ctx.relay is not None:
            await self.ctx.relay.stop()
        for channel in self.ctx.channels.values():
            await channel.close()
        if self.nc is not None:
            try:
                await asyncio.wait_for(self.nc.drain(), timeout=5)
            except Exception as exc:  # already closed, unreachable or slow: close anyway
                log.debug("nats drain: %s", exc)
                await self.nc.close()
        await self.db.dispose()


def configure_logging(name: str, level: str, fmt: str = "text") -> None:
    """Logs to stderr, text or JSON lines, secrets redacted (services/common/logs.py)."""
    logs.configure(name, level, fmt)


async def serve(spec: ServiceSpec, settings: ServiceSettings) -> None:
    process = ServiceProcess(spec, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    port = await process.start()
    log.info("%s serving gRPC on %s:%s", spec.name, settings.grpc_host, port)
    if process.metrics_port is not None:
        log.info(
            "%s metrics on http://%s:%s/metrics",
            spec.name,
            settings.grpc_host,
            process.metrics_port,
        )
    await stop.wait()
    log.info("%s stopping", spec.name)
    await process.stop()
    # The spans still queued go out (the exporter's own timeout bounds it).
    await asyncio.to_thread(tracing.shutdown)
    log.info("%s stopped", spec.name)


def main(spec: ServiceSpec) -> None:
    settings = ServiceSettings()
    configure_logging(spec.name, settings.log_level, settings.log_format)
    # OTEL_* variables: OTLP export of traces when an endpoint is set (before the gRPC
    # server is built: its tracing interceptor is installed only then).
    tracing.configure(spec.name)
    try:
        import uvloop

        uvloop.run(serve(spec, settings))
    except ImportError:  # pragma: no cover - uvloop is a dependency off Windows
        asyncio.run(serve(spec, settings))
