"""What the benchmarks in bench/ share: GraphQL over HTTP, signing up a tenant, the load loop
with its percentiles, the signed scope metadata for direct gRPC calls, and starting and
always stopping the whole system.

Not a script: the scripts next to it import it (``from harness import ...``), which works
because Python puts a script's own folder on ``sys.path``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson

from launcher.stack import Stack, free_port
from services.common.scope import Right, Role, Scope, ScopeSigner

SIGN_UP = """mutation($input: SignUpInput!) { signUp(input: $input) {
  session { token } errors { field code message } } }"""
ME = """{ me { role rights user { id } establishment { id organization { id } } } }"""


class BenchError(RuntimeError):
    """A response was not the expected success: the benchmark stops rather than measure it."""


# --- GraphQL over HTTP ---------------------------------------------------------------------


def http_client(concurrency: int, timeout: float = 30) -> httpx.AsyncClient:
    """Keep-alive HTTP/1.1 with one connection per request in flight."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(timeout=timeout, limits=limits, http1=True, http2=False)


def checked_body(reply: httpx.Response) -> dict[str, Any]:
    """The whole GraphQL response (data and extensions); BenchError on HTTP or GraphQL errors."""
    if reply.status_code != 200:
        raise BenchError(f"HTTP {reply.status_code}: {reply.text[:500]}")
    body: dict[str, Any] = orjson.loads(reply.content)
    if body.get("errors"):
        raise BenchError(f"GraphQL errors: {body['errors']}")
    return body


async def graphql(
    http: httpx.AsyncClient, url: str, query: str, token: str | None = None, **variables: Any
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    reply = await http.post(url, json={"query": query, "variables": variables}, headers=headers)
    data: dict[str, Any] = checked_body(reply)["data"]
    return data


async def mutate(
    http: httpx.AsyncClient,
    url: str,
    query: str,
    name: str,
    token: str | None = None,
    **variables: Any,
) -> dict[str, Any]:
    payload: dict[str, Any] = (await graphql(http, url, query, token, **variables))[name]
    if payload["errors"]:
        raise BenchError(f"{name} failed: {payload['errors']}")
    return payload


def query_request(query: str, token: str) -> tuple[bytes, dict[str, str]]:
    """A query's body and headers, encoded once for the load loop."""
    content = orjson.dumps({"query": query})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return content, headers


# --- tenants ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tenant:
    token: str
    scope: Scope


async def sign_up(
    http: httpx.AsyncClient,
    url: str,
    *,
    organization: str = "Bench Salon",
    establishment: str = "Bench Antwerpen",
    email: str = "owner@bench.example.com",
    name: str = "Bench Owner",
) -> str:
    """Sign up an organization with its owner; returns the owner's session token."""
    signed = await mutate(
        http,
        url,
        SIGN_UP,
        "signUp",
        input={
            "organizationName": organization,
            "establishmentName": establishment,
            "timezone": "Europe/Brussels",
            "email": email,
            "name": name,
            "password": "bench-owner-password-1",
        },
    )
    token: str = signed["session"]["token"]
    return token


async def tenant_of(http: httpx.AsyncClient, url: str, token: str) -> Tenant:
    """The session with the scope the gateway builds from it (for direct gRPC calls)."""
    me = (await graphql(http, url, ME, token))["me"]
    scope = Scope(
        organization_id=me["establishment"]["organization"]["id"],
        establishment_id=me["establishment"]["id"],
        user_id=me["user"]["id"],
        role=Role(me["role"]),
        rights=frozenset(Right(r) for r in me["rights"]),
        request_id="bench",
    )
    return Tenant(token=token, scope=scope)


# --- the load loop ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    name: str
    requests: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile of the latencies (ms)."""
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
        return ordered[rank - 1]

    def row(self, width: int) -> str:
        """Name, req/s, p50 and p99, as the tables print them."""
        return (
            f"{self.name:<{width}} {self.rps:>9.1f} "
            f"{self.percentile(50):>8.2f} {self.percentile(99):>8.2f}"
        )

    def ratios(self, base: Result) -> str:
        return (
            f"req/s x{self.rps / base.rps:.3f}"
            f", p50 x{self.percentile(50) / base.percentile(50):.1f}"
            f", p99 x{self.percentile(99) / base.percentile(99):.1f}"
        )


async def measure(
    name: str,
    call: Callable[[], Awaitable[None]],
    *,
    concurrency: int,
    warmup: float,
    seconds: float,
) -> Result:
    """Run ``call`` from ``concurrency`` workers. Throughput counts the calls that END inside
    the measuring window (steady state: a slow call started during the warm-up counts when
    it ends, one still in flight at the end does not), so slow queries are not under-counted
    by their own length; the latencies are those of the counted calls."""
    start = time.perf_counter()
    window_start = start + warmup
    window_end = window_start + seconds
    latencies: list[float] = []

    async def worker() -> None:
        while (began := time.perf_counter()) < window_end:
            await call()
            ended = time.perf_counter()
            if window_start <= ended <= window_end:
                latencies.append((ended - began) * 1000)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(name, len(latencies), seconds, latencies)


def timing(args: argparse.Namespace) -> dict[str, Any]:
    """measure()'s keyword arguments from the common options."""
    return {"concurrency": args.concurrency, "warmup": args.warmup, "seconds": args.seconds}


# --- direct gRPC -------------------------------------------------------------------------------


class FreshMetadata:
    """The signed scope metadata, signed again before it expires (the scope has a TTL)."""

    def __init__(self, signer: ScopeSigner, scope: Scope, refresh_seconds: float = 20) -> None:
        self._signer, self._scope, self._refresh = signer, scope, refresh_seconds
        self._signed_at = 0.0
        self._value: tuple[tuple[str, bytes], ...] = ()

    def __call__(self) -> tuple[tuple[str, bytes], ...]:
        now = time.monotonic()
        if now - self._signed_at > self._refresh:
            self._value, self._signed_at = self._signer.metadata(self._scope), now
        return self._value


def scope_metadata(stack: Stack, scope: Scope) -> FreshMetadata:
    """Metadata signed with the stack's secret (``<data_dir>/scope-secret``), as the gateway's."""
    secret = (stack.data_dir / "scope-secret").read_text().strip().encode()
    return FreshMetadata(ScopeSigner([secret]), scope)


# --- running ------------------------------------------------------------------------------------


def add_timing_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring time per case (5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up per case (1)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight (16)")


def check_timing_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.concurrency < 1 or args.seconds <= 0 or args.warmup < 0:
        parser.error("--concurrency must be >= 1, --seconds > 0, --warmup >= 0")


def loop_factory() -> tuple[Callable[[], asyncio.AbstractEventLoop] | None, str]:
    """uvloop when it is installed (as the gateway and the services use it), else asyncio's."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency off Windows
        return None, "asyncio"
    return uvloop.new_event_loop, "uvloop"


def log_tails(stack: Stack, names: tuple[str, ...]) -> None:
    for name in names:
        path = stack.data_dir / "logs" / f"{name}.log"
        if path.exists():
            tail = path.read_text(errors="replace")[-2000:]
            print(f"--- {name}.log (tail) ---\n{tail}", file=sys.stderr)


def run_on_stack(
    args: argparse.Namespace,
    bench: Callable[[Stack], Coroutine[Any, Any, None]],
    *,
    describe: str = "",
    logs: tuple[str, ...] = ("gateway",),
    extra_env: dict[str, str] | None = None,
) -> None:
    """Start the whole system in a temporary data folder (with ``extra_env`` added to every
    process's environment), print how it runs, run ``bench`` on the event loop the services
    use, and always stop the system; on failure, print the tails of the ``logs`` services'
    logs."""
    with tempfile.TemporaryDirectory(prefix="salon-bench-") as tmp:
        stack = Stack(data_dir=Path(tmp), port=free_port(), extra_env=dict(extra_env or {}))
        ok = False
        try:
            factory, loop = loop_factory()
            t0 = time.perf_counter()
            stack.start()
            print(
                f"stack up in {time.perf_counter() - t0:.1f}s ({stack.graphql_url}); "
                f"python {platform.python_version()}, {loop}, {os.cpu_count()} CPUs, "
                f"concurrency {args.concurrency}, {args.seconds:g}s per case "
                f"after {args.warmup:g}s warm-up{describe}",
                flush=True,
            )
            with asyncio.Runner(loop_factory=factory) as runner:
                runner.run(bench(stack))
            ok = True
        finally:
            if not ok:
                log_tails(stack, logs)
            stack.stop()


class SpanCounter:
    """A local OTLP/HTTP trace receiver (POST /v1/traces) that counts the spans it gets."""

    def __init__(self) -> None:
        self.spans = 0
        self.requests = 0

    @property
    def env(self) -> dict[str, str]:
        """What makes every part export its traces here, every operation traced."""
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.endpoint,
            "OTEL_TRACES_SAMPLER": "parentbased_always_on",
        }

    endpoint = ""


@contextmanager
def otlp_receiver() -> Iterator[SpanCounter]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
        ExportTraceServiceResponse,
    )

    counter = SpanCounter()
    lock = threading.Lock()
    reply = ExportTraceServiceResponse().SerializeToString()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            request = ExportTraceServiceRequest.FromString(body)
            spans = sum(
                len(scope.spans) for rs in request.resource_spans for scope in rs.scope_spans
            )
            with lock:
                counter.spans += spans
                counter.requests += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    counter.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield counter
    finally:
        server.shutdown()
        server.server_close()
