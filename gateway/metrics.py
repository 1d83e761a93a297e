"""The gateway's Prometheus metrics: GraphQL operations (by operation name, bounded, and
outcome) and their latency, backend gRPC calls by service and status, plus what every part
has (services/common/metrics.py: outbox backlog, audit consumer lag, DB pool, process).

GET /metrics answers on the gateway's own port; with SALON_METRICS_TOKEN set it needs
``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from strawberry.extensions import SchemaExtension

from services.common.metrics import LATENCY_BUCKETS, PartMetrics

# Distinct operation names kept as labels; any further name is counted as "other".
MAX_OPERATION_NAMES = 200
ANONYMOUS, OTHER = "anonymous", "other"
NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")


class GatewayMetrics(PartMetrics):
    def __init__(self, max_operation_names: int = MAX_OPERATION_NAMES) -> None:
        super().__init__("gateway")
        self.max_operation_names = max_operation_names
        self._names: set[str] = set()
        self._lock = threading.Lock()
        self.graphql_operations = Counter(
            "salon_graphql_operations",
            "GraphQL operations, by operation name and outcome (ok, error)",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.graphql_latency = Histogram(
            "salon_graphql_operation_seconds",
            "Time to run a GraphQL operation, by operation name",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.backend_calls = Counter(
            "salon_gateway_backend_calls",
            "gRPC calls the gateway made to the services, by service and status code",
            ["service", "code"],
            registry=self.registry,
        )
        self.backend_latency = Histogram(
            "salon_gateway_backend_call_seconds",
            "Time of the gateway's gRPC calls, by service",
            ["service"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def operation_label(self, name: str | None) -> str:
        """The label of an operation name: "anonymous" when none (or not a GraphQL name),
        "other" once MAX_OPERATION_NAMES names are known (clients choose names: without
        a cap the series would grow without bound)."""
        if not name or not NAME.fullmatch(name):
            return ANONYMOUS
        with self._lock:
            if name in self._names:
                return name
            if len(self._names) < self.max_operation_names:
                self._names.add(name)
                return name
        return OTHER

    def observe_operation(self, name: str | None, ok: bool, seconds: float) -> None:
        label = self.operation_label(name)
        self.graphql_operations.labels(label, "ok" if ok else "error").inc()
        self.graphql_latency.labels(label).observe(seconds)

    def observe_backend(self, service: str, code: str, seconds: float) -> None:
        self.backend_calls.labels(service, code).inc()
        self.backend_latency.labels(service).observe(seconds)


class GraphQLMetrics(SchemaExtension):
    """Counts and times each operation; the result (with its errors) is known when the
    extensions' results are asked for, at the end of every operation."""

    started = 0.0

    def on_operation(self) -> Iterator[None]:
        self.started = time.perf_counter()
        yield

    def get_results(self) -> dict[str, Any]:
        ctx = self.execution_context
        metrics = getattr(getattr(ctx.context, "state", None), "metrics", None)
        if isinstance(metrics, GatewayMetrics) and self.started:
            try:
                name = ctx.operation_name
            except Exception:  # an unparsable document has no name
                name = None
            ok = not ctx.pre_execution_errors
            metrics.observe_operation(name, ok, time.perf_counter() - self.started)
        return {}


def authorized(request: Request, token: str) -> bool:
    if not token:
        return True
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        value.strip().encode(), token.encode()
    )


async def metrics_response(request: Request, metrics: GatewayMetrics, token: str) -> Response:
    if not authorized(request, token):
        return Response(
            "metrics need the bearer token\n",
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    body = await run_in_threadpool(generate_latest, metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
