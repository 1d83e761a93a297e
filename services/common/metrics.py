"""Prometheus metrics shared by every part (the services and the gateway).

Each process part gets its own :class:`PartMetrics` (its own registry: tests run several
services in one interpreter). No label ever carries an organization or establishment id:
labels are bounded sets (RPC method names, status codes, durables, event types).

What is measured where:
- gRPC requests and latency: :class:`services.common.grpc_server.ScopeInterceptor`;
- events handled per durable, type and outcome: :class:`services.common.consumer.EventConsumer`;
- outbox backlog and age, consumer lag: :class:`MetricsRefresher`, a task that asks the
  database (one COUNT/MIN query) and JetStream (consumer info) every few seconds, never per
  message nor per scrape;
- DB pool use: read from SQLAlchemy's pools at scrape time (:class:`PoolCollector`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from services.common.db import Database

log = logging.getLogger("salon.metrics")

# Seconds; RPCs and GraphQL operations of this system take milliseconds to a few seconds.
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class PoolCollector(Collector):
    """Checked-out connections and pool size of each of a database's engines."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterable[GaugeMetricFamily]:
        used = GaugeMetricFamily("salon_db_pool_checked_out", "Connections in use", labels=["pool"])
        size = GaugeMetricFamily(
            "salon_db_pool_size", "Connections the pool keeps (overflow excluded)", labels=["pool"]
        )
        for name, (checked_out, pool_size) in self.db.pool_stats().items():
            used.add_metric([name], checked_out)
            size.add_metric([name], pool_size)
        yield used
        yield size


class PartMetrics:
    """One part's registry and the metrics every part has."""

    def __init__(self, part: str) -> None:
        self.part = part
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.grpc_requests = Counter(
            "salon_grpc_server_requests",
            "gRPC calls handled, by method and status code",
            ["method", "code"],
            registry=self.registry,
        )
        self.grpc_latency = Histogram(
            "salon_grpc_server_request_seconds",
            "Time to handle a gRPC call, by method",
            ["method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.events_handled = Counter(
            "salon_consumer_events",
            "Events a durable consumer received, by outcome "
            "(handled, duplicate, ignored, retried, failed, poison)",
            ["durable", "type", "outcome"],
            registry=self.registry,
        )
        self.consumer_pending = Gauge(
            "salon_consumer_pending_messages",
            "Messages of the stream the durable consumer has not been delivered yet",
            ["durable"],
            registry=self.registry,
        )
        self.consumer_ack_pending = Gauge(
            "salon_consumer_ack_pending_messages",
            "Messages delivered to the durable consumer and not acknowledged yet",
            ["durable"],
            registry=self.registry,
        )
        self.outbox_backlog = Gauge(
            "salon_outbox_backlog", "Outbox rows not yet published", registry=self.registry
        )
        self.outbox_oldest_age = Gauge(
            "salon_outbox_oldest_age_seconds",
            "Age of the oldest unpublished outbox row (0 when none)",
            registry=self.registry,
        )
        self.refreshed_at = Gauge(
            "salon_metrics_refreshed_timestamp_seconds",
            "When the outbox and consumer gauges were last refreshed",
            registry=self.registry,
        )
        self._pool: PoolCollector | None = None

    def watch_pool(self, db: Database) -> None:
        if self._pool is None:
            self._pool = PoolCollector(db)
            self.registry.register(self._pool)

    def observe_rpc(self, method: str, code: str, seconds: float) -> None:
        self.grpc_requests.labels(method, code).inc()
        self.grpc_latency.labels(method).observe(seconds)

    def event(self, durable: str, event_type: str, outcome: str) -> None:
        self.events_handled.labels(durable, event_type, outcome).inc()


class Backlog(Protocol):
    async def backlog(self) -> tuple[int, float]: ...


class Lagging(Protocol):
    durable: str

    async def lag(self) -> tuple[int, int]: ...


class MetricsRefresher:
    """Every `interval` seconds: the outbox backlog and each consumer's lag into the gauges."""

    def __init__(
        self,
        metrics: PartMetrics,
        *,
        outbox: Backlog | None,
        consumers: Callable[[], Sequence[Lagging]],
        interval: float,
    ) -> None:
        self.metrics = metrics
        self.outbox = outbox
        self.consumers = consumers
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def refresh(self) -> None:
        if self.outbox is not None:
            try:
                count, age = await self.outbox.backlog()
                self.metrics.outbox_backlog.set(count)
                self.metrics.outbox_oldest_age.set(age)
            except Exception as exc:  # database away: keep the last values, say so
                log.debug("outbox backlog: %s", exc)
        for consumer in self.consumers():
            try:
                pending, ack_pending = await consumer.lag()
            except Exception as exc:  # not subscribed yet, NATS away: next time
                log.debug("consumer %s lag: %s", consumer.durable, exc)
                continue
            self.metrics.consumer_pending.labels(consumer.durable).set(pending)
            self.metrics.consumer_ack_pending.labels(consumer.durable).set(ack_pending)
        self.metrics.refreshed_at.set_to_current_time()

    def start(self) -> None:
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="metrics-refresher")

    async def stop(self) -> None:
        """Let the refresh under way end rather than cancel it: a database query cancelled
        half-way (asyncpg) can leave its connection for the pool's dispose to wait on."""
        if self._task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=10)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    async def _run(self) -> None:
        while not self._stopping.is_set():
            await self.refresh()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval)


class MetricsServer:
    """GET /metrics of one registry over HTTP, in prometheus_client's own thread (the event
    loop never serves a scrape)."""

    def __init__(self, registry: CollectorRegistry, host: str, port: int) -> None:
        self.registry = registry
        self.host = host
        self.requested_port = port
        self.port = 0
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> int:
        server, thread = start_http_server(self.requested_port, self.host, self.registry)
        self._server, self._thread = server, thread
        self.port = int(server.server_port)
        return self.port

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def status_name(code: Any) -> str:
    """A grpc.StatusCode as its name ("OK", "NOT_FOUND")."""
    return str(getattr(code, "name", code))
