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

With ``--traces`` every part exports every trace (``parentbased_always_on``) by OTLP/HTTP
to a receiver in this process that counts the spans; without it no OTEL endpoint is set
and tracing is off (what it costs then: README.md, "Benchmarks").

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
import time
from collections.abc import Awaitable, Callable

import grpc
import httpx
from harness import (
    BenchError,
    FreshMetadata,
    Result,
    Tenant,
    add_timing_options,
    check_timing_options,
    checked_body,
    http_client,
    measure,
    mutate,
    otlp_receiver,
    query_request,
    run_on_stack,
    scope_metadata,
    sign_up,
    tenant_of,
    timing,
)

from launcher.stack import Stack
from salon.clients.v1 import clients_pb2, clients_pb2_grpc
from salon.common.v1 import page_pb2

PAGE = 50
CREATE_CLIENT = """mutation($input: CreateClientInput!) { createClient(input: $input) {
  client { id } errors { field code message } } }"""
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


async def seed(url: str, clients: int, concurrency: int) -> Tenant:
    """Sign up an organization and create ``clients`` clients; returns its session and scope."""
    async with http_client(concurrency, timeout=60) as http:
        token = await sign_up(http, url)
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
        return await tenant_of(http, url, token)


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
    content, headers = query_request(query, token)

    async def call() -> None:
        body = checked_body(await http.post(url, content=content, headers=headers))
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
    metadata = scope_metadata(stack, tenant.scope)
    results = []

    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.ports['clients']}") as channel:
        stub = clients_pb2_grpc.ClientsServiceStub(channel)
        results.append(
            await measure(
                "direct gRPC ListClients", direct_call(stub, metadata, expected), **timing(args)
            )
        )

    async with http_client(args.concurrency) as http:
        for name, query, with_est in (
            ("gateway clients", CLIENTS, False),
            ("gateway + establishments", CLIENTS_WITH_ESTABLISHMENTS, True),
        ):
            call = gateway_call(http, url, tenant.token, query, expected, args.clients, with_est)
            results.append(await measure(name, call, **timing(args)))
    return results


def report(results: list[Result]) -> None:
    direct = results[0]
    print(f"{'case':<26} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}   gateway/direct")
    for r in results:
        line = r.row(26)
        if r is not direct:
            line += f"   {r.ratios(direct)}"
        print(line, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=200, help="clients to create (200)")
    parser.add_argument(
        "--traces",
        action="store_true",
        help="every part exports every trace by OTLP/HTTP to a local receiver (off: no "
        "OTEL endpoint, the default)",
    )
    add_timing_options(parser)
    args = parser.parse_args(argv)
    if args.clients < 1:
        parser.error("--clients must be >= 1")
    check_timing_options(parser, args)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)

    async def bench(stack: Stack) -> None:
        report(await run(stack, args))

    if not args.traces:
        run_on_stack(
            args, bench, describe=f", page of {PAGE}, traces off", logs=("gateway", "clients")
        )
        return
    with otlp_receiver() as receiver:
        run_on_stack(
            args,
            bench,
            describe=f", page of {PAGE}, every trace exported",
            logs=("gateway", "clients"),
            extra_env=receiver.env,
        )
        time.sleep(1)  # the last batches (the processor's delay is 5 s; the stop flushes)
    print(f"traces: {receiver.spans} spans received in {receiver.requests} OTLP requests")


if __name__ == "__main__":
    main()
