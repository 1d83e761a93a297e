"""Client-list throughput: through the gateway (HTTP GraphQL) against direct gRPC, in one run.

Starts the whole system (NATS, the five services, the gateway) as separate processes in a
temporary data folder, signs up an organization, creates ``--clients`` clients through the
public API, then measures three cases, each for ``--seconds`` after a short warm-up, with
``--concurrency`` requests in flight:

* ``direct gRPC``: ``ClientsService.ListClients(page.first=50)`` on one ``grpc.aio`` channel,
  with the signed scope metadata the gateway would send (the HMAC secret is read from the
  stack's ``<data_dir>/scope-secret``);
* ``gateway clients``: ``{ clients(first: 50) { totalCount edges { node { ... } } } }`` over
  one keep-alive HTTP/1.1 ``httpx.AsyncClient`` with the bearer token;
* ``gateway + establishments``: the same with ``establishments { name }`` on every node
  (the cost of the establishment DataLoader).

It prints requests/s, p50 and p99 latency and the gateway/direct ratios. Every response is
checked: an error aborts the run instead of being measured. The stack is always stopped.

Run from the repository root::

    .venv/bin/python bench/client_list.py
    .venv/bin/python bench/client_list.py --clients 500 --seconds 10 --concurrency 32

The load generator runs on the same machine as every server process and competes with them
for the CPU: compare figures from one run (or one machine), not across machines.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import orjson

from launcher.stack import Stack, free_port
from salon.clients.v1 import clients_pb2, clients_pb2_grpc
from salon.common.v1 import page_pb2
from services.common.scope import Right, Role, Scope, ScopeSigner

PAGE = 50
SIGN_UP = """mutation($input: SignUpInput!) { signUp(input: $input) {
  session { token } errors { field code message } } }"""
CREATE_CLIENT = """mutation($input: CreateClientInput!) { createClient(input: $input) {
  client { id } errors { field code message } } }"""
ME = """{ me { role rights user { id } establishment { id organization { id } } } }"""
# first: 50 in both queries, as PAGE.
CLIENTS = (
    "{ clients(first: 50) { totalCount edges { node { id firstName lastName email phone } } } }"
)
CLIENTS_WITH_ESTABLISHMENTS = (
    "{ clients(first: 50) { totalCount edges { node { id firstName lastName email phone "
    "establishments { name } } } } }"
)
FIRST = ["Emma", "Noah", "Louise", "Liam", "Olivia", "Arthur", "Mila", "Jules", "Elena", "Lucas"]
LAST = ["Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens"]


class BenchError(RuntimeError):
    """A response was not the expected success: the benchmark stops rather than measure it."""


# --- GraphQL over HTTP ---------------------------------------------------------------------


async def graphql(
    http: httpx.AsyncClient, url: str, query: str, token: str | None = None, **variables: Any
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    reply = await http.post(url, json={"query": query, "variables": variables}, headers=headers)
    if reply.status_code != 200:
        raise BenchError(f"HTTP {reply.status_code}: {reply.text[:500]}")
    body: dict[str, Any] = orjson.loads(reply.content)
    if body.get("errors"):
        raise BenchError(f"GraphQL errors: {body['errors']}")
    data: dict[str, Any] = body["data"]
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


@dataclass(frozen=True)
class Tenant:
    token: str
    scope: Scope


async def seed(url: str, clients: int, concurrency: int) -> Tenant:
    """Sign up an organization and create ``clients`` clients; returns its session and scope."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        signed = await mutate(
            http,
            url,
            SIGN_UP,
            "signUp",
            input={
                "organizationName": "Bench Salon",
                "establishmentName": "Bench Antwerpen",
                "timezone": "Europe/Brussels",
                "email": "owner@bench.example.com",
                "name": "Bench Owner",
                "password": "bench-owner-password-1",
            },
        )
        token: str = signed["session"]["token"]
        gate = asyncio.Semaphore(concurrency)

        async def create(i: int) -> None:
            first, last = FIRST[i % len(FIRST)], LAST[i // len(FIRST) % len(LAST)]
            async with gate:
                await mutate(
                    http,
                    url,
                    CREATE_CLIENT,
                    "createClient",
                    token,
                    input={
                        "firstName": first,
                        "lastName": last,
                        "email": f"{first}.{last}.{i}@example.com".lower(),
                        "phone": f"+32470{i:06d}",
                    },
                )

        await asyncio.gather(*(create(i) for i in range(clients)))
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


async def measure(
    name: str,
    call: Callable[[], Awaitable[None]],
    *,
    concurrency: int,
    warmup: float,
    seconds: float,
) -> Result:
    """Run ``call`` from ``concurrency`` workers; only calls that start after the warm-up and
    end inside the measuring window count (the ones still in flight at its end do not)."""
    start = time.perf_counter()
    window_start = start + warmup
    window_end = window_start + seconds
    latencies: list[float] = []

    async def worker() -> None:
        while (began := time.perf_counter()) < window_end:
            await call()
            ended = time.perf_counter()
            if began >= window_start and ended <= window_end:
                latencies.append((ended - began) * 1000)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(name, len(latencies), seconds, latencies)


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


def direct_call(
    stub: clients_pb2_grpc.ClientsServiceStub, metadata: FreshMetadata, expected: int
) -> Callable[[], Awaitable[None]]:
    request = clients_pb2.ListClientsRequest(page=page_pb2.PageRequest(first=PAGE))

    async def call() -> None:
        reply = await stub.ListClients(request, metadata=metadata(), timeout=30)
        if len(reply.clients) != expected:
            raise BenchError(f"ListClients returned {len(reply.clients)} clients, not {expected}")

    return call


def gateway_call(
    http: httpx.AsyncClient,
    url: str,
    token: str,
    query: str,
    expected: int,
    total: int,
    with_establishments: bool,
) -> Callable[[], Awaitable[None]]:
    content = orjson.dumps({"query": query})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def call() -> None:
        reply = await http.post(url, content=content, headers=headers)
        if reply.status_code != 200:
            raise BenchError(f"HTTP {reply.status_code}: {reply.text[:500]}")
        body = orjson.loads(reply.content)
        if body.get("errors"):
            raise BenchError(f"GraphQL errors: {body['errors']}")
        connection = body["data"]["clients"]
        edges = connection["edges"]
        if len(edges) != expected or connection["totalCount"] != total:
            raise BenchError(
                f"clients returned {len(edges)} of {connection['totalCount']}, "
                f"not {expected} of {total}"
            )
        if with_establishments and any(not e["node"]["establishments"] for e in edges):
            raise BenchError("a client without establishments")

    return call


async def run(stack: Stack, args: argparse.Namespace) -> list[Result]:
    url = stack.graphql_url
    t0 = time.perf_counter()
    tenant = await seed(url, args.clients, args.concurrency)
    print(f"seeded {args.clients} clients in {time.perf_counter() - t0:.1f}s", flush=True)
    expected = min(PAGE, args.clients)
    secret = (stack.data_dir / "scope-secret").read_text().strip().encode()
    metadata = FreshMetadata(ScopeSigner([secret]), tenant.scope)
    timing = {"concurrency": args.concurrency, "warmup": args.warmup, "seconds": args.seconds}
    results = []

    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.ports['clients']}") as channel:
        stub = clients_pb2_grpc.ClientsServiceStub(channel)
        results.append(
            await measure(
                "direct gRPC ListClients", direct_call(stub, metadata, expected), **timing
            )
        )

    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    async with httpx.AsyncClient(timeout=30, limits=limits, http1=True, http2=False) as http:
        for name, query, with_est in (
            ("gateway clients", CLIENTS, False),
            ("gateway + establishments", CLIENTS_WITH_ESTABLISHMENTS, True),
        ):
            call = gateway_call(http, url, tenant.token, query, expected, args.clients, with_est)
            results.append(await measure(name, call, **timing))
    return results


def report(results: list[Result]) -> None:
    direct = results[0]
    print(f"{'case':<26} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}   gateway/direct")
    for r in results:
        line = f"{r.name:<26} {r.rps:>9.1f} {r.percentile(50):>8.2f} {r.percentile(99):>8.2f}"
        if r is not direct:
            line += (
                f"   req/s x{r.rps / direct.rps:.3f}"
                f", p50 x{r.percentile(50) / direct.percentile(50):.1f}"
                f", p99 x{r.percentile(99) / direct.percentile(99):.1f}"
            )
        print(line, flush=True)


def loop_factory() -> tuple[Callable[[], asyncio.AbstractEventLoop] | None, str]:
    """uvloop when it is installed (as the gateway and the services use it), else asyncio's."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency off Windows
        return None, "asyncio"
    return uvloop.new_event_loop, "uvloop"


def log_tails(stack: Stack, names: tuple[str, ...] = ("gateway", "clients")) -> None:
    for name in names:
        path = stack.data_dir / "logs" / f"{name}.log"
        if path.exists():
            tail = path.read_text(errors="replace")[-2000:]
            print(f"--- {name}.log (tail) ---\n{tail}", file=sys.stderr)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=200, help="clients to create (200)")
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring time per case (5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up per case (1)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight (16)")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.concurrency < 1 or args.seconds <= 0 or args.warmup < 0:
        parser.error("--clients and --concurrency must be >= 1, --seconds > 0, --warmup >= 0")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="salon-bench-") as tmp:
        stack = Stack(data_dir=Path(tmp), port=free_port())
        ok = False
        try:
            factory, loop = loop_factory()
            t0 = time.perf_counter()
            stack.start()
            print(
                f"stack up in {time.perf_counter() - t0:.1f}s ({stack.graphql_url}); "
                f"python {platform.python_version()}, {loop}, {os.cpu_count()} CPUs, "
                f"concurrency {args.concurrency}, {args.seconds:g}s per case "
                f"after {args.warmup:g}s warm-up, page of {PAGE}",
                flush=True,
            )
            with asyncio.Runner(loop_factory=factory) as runner:
                results = runner.run(run(stack, args))
            report(results)
            ok = True
        finally:
            if not ok:
                log_tails(stack)
            stack.stop()


if __name__ == "__main__":
    main()
