"""Products with their stock: through the gateway (HTTP GraphQL) against direct gRPC, for a
short and a long list, in one run; with the gRPC calls each gateway query makes.

Starts the whole system (NATS, the five services, the gateway) as separate processes in a
temporary data folder, signs up two organizations and creates, through the public API,
200 products in one and 20 in the other, each with some stock (``adjustStock``, reason
DELIVERY). Then, for 20 and for 200 products, it measures two cases, each for ``--seconds``
after a short warm-up, with ``--concurrency`` requests in flight:

* ``direct gRPC``: what the gateway does underneath, ``CatalogService.ListProducts`` then
  ``InventoryService.GetStock`` for the listed ids, on one ``grpc.aio`` channel per service,
  with the signed scope metadata the gateway would send (the HMAC secret is read from the
  stack's ``<data_dir>/scope-secret``): two gRPC calls per list by construction;
* ``gateway``: ``{ products { id name brand barcode price priceCustomized stock } }`` over one
  keep-alive HTTP/1.1 ``httpx.AsyncClient`` with the organization owner's bearer token. The
  gRPC calls it made are the response's ``extensions.backendCalls``, read from the first
  response of the case (and compared with every other one).

It prints requests/s, p50 and p99 latency, gRPC calls per query and the gateway/direct
ratios for each list length. Every response is checked (no errors, every product with the
stock it was given): a wrong one aborts the run instead of being measured. The stack is
always stopped.

Run from the repository root::

    .venv/bin/python bench/products_with_stock.py
    .venv/bin/python bench/products_with_stock.py --seconds 10 --concurrency 32

The load generator runs on the same machine as every server process and competes with them
for the CPU: compare figures from one run (or one machine), not across machines.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

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
    query_request,
    run_on_stack,
    scope_metadata,
    sign_up,
    tenant_of,
    timing,
)

from launcher.stack import Stack
from salon.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from salon.inventory.v1 import inventory_pb2, inventory_pb2_grpc

SIZES = (20, 200)
CREATE_PRODUCT = """mutation($input: CreateProductInput!) { createProduct(input: $input) {
  product { id } errors { field code message } } }"""
ADJUST_STOCK = """mutation($input: AdjustStockInput!) { adjustStock(input: $input) {
  product { id stock } errors { field code message } } }"""
PRODUCTS = "{ products { id name brand barcode price priceCustomized stock } }"
BRANDS = ["Kérastase", "L'Oréal", "Redken", "Davines", "Wella", "Schwarzkopf", "Aveda"]
KINDS = ["shampoo", "conditioner", "mask", "serum", "spray", "oil", "gel", "wax"]


def stock_of(i: int) -> int:
    """The stock product ``i`` is given: never 0, so that a missing level shows."""
    return 1 + i % 37


@dataclass(frozen=True)
class Catalog:
    """An organization with its products: id -> the stock it was given."""

    tenant: Tenant
    stock: dict[str, int]


async def seed(url: str, name: str, products: int, concurrency: int) -> Catalog:
    """Sign up an organization and create ``products`` products, each with its stock."""
    async with http_client(concurrency, timeout=60) as http:
        slug = name.lower().replace(" ", "-")
        token = await sign_up(
            http,
            url,
            organization=name,
            establishment=f"{name} Antwerpen",
            email=f"owner@{slug}.example.com",
            name=f"{name} Owner",
        )
        gate = asyncio.Semaphore(concurrency)
        stock: dict[str, int] = {}

        async def create(i: int) -> None:
            brand, kind = BRANDS[i % len(BRANDS)], KINDS[i // len(BRANDS) % len(KINDS)]
            async with gate:
                created = await mutate(
                    http,
                    url,
                    CREATE_PRODUCT,
                    "createProduct",
                    token,
                    input={
                        "name": f"{brand} {kind} {i}",
                        "brand": brand,
                        "barcode": f"54{i:011d}",
                        "price": f"{9 + i % 40}.{i % 100:02d}",
                    },
                )
                product_id: str = created["product"]["id"]
                adjusted = await mutate(
                    http,
                    url,
                    ADJUST_STOCK,
                    "adjustStock",
                    token,
                    input={"productId": product_id, "delta": stock_of(i), "reason": "DELIVERY"},
                )
                if adjusted["product"]["stock"] != stock_of(i):
                    raise BenchError(f"adjustStock left {adjusted['product']}, not {stock_of(i)}")
                stock[product_id] = stock_of(i)

        await asyncio.gather(*(create(i) for i in range(products)))
        return Catalog(await tenant_of(http, url, token), stock)


def direct_call(
    catalog_stub: catalog_pb2_grpc.CatalogServiceStub,
    inventory_stub: inventory_pb2_grpc.InventoryServiceStub,
    metadata: FreshMetadata,
    expected: dict[str, int],
) -> Callable[[], Awaitable[None]]:
    """ListProducts, then GetStock for the listed ids: the gateway's two calls."""
    list_request = catalog_pb2.ListProductsRequest()

    async def call() -> None:
        signed = metadata()
        listed = await catalog_stub.ListProducts(list_request, metadata=signed, timeout=30)
        ids = [p.id for p in listed.products]
        stock = await inventory_stub.GetStock(
            inventory_pb2.GetStockRequest(product_ids=ids), metadata=signed, timeout=30
        )
        found = {level.product_id: level.quantity for level in stock.levels}
        if len(ids) != len(expected) or found != expected:
            raise BenchError(
                f"ListProducts + GetStock returned {len(ids)} products and {len(found)} "
                f"levels, not the {len(expected)} seeded with their stock"
            )

    return call


@dataclass
class Calls:
    """The ``extensions.backendCalls`` of a case's first response, and any other seen."""

    first: dict[str, int] | None = None
    others: list[dict[str, int]] = field(default_factory=list)

    def see(self, calls: dict[str, int]) -> None:
        if self.first is None:
            self.first = calls
        elif calls != self.first and calls not in self.others:
            self.others.append(calls)

    @property
    def total(self) -> int:
        return sum((self.first or {}).values())

    def describe(self) -> str:
        first = ", ".join(f"{k} {v}" for k, v in sorted((self.first or {}).items()))
        line = f"{self.total} ({first})"
        if self.others:
            line += f"; also seen: {self.others}"
        return line


def gateway_call(
    http: httpx.AsyncClient, url: str, token: str, expected: dict[str, int], calls: Calls
) -> Callable[[], Awaitable[None]]:
    content, headers = query_request(PRODUCTS, token)

    async def call() -> None:
        body = checked_body(await http.post(url, content=content, headers=headers))
        products = body["data"]["products"]
        found = {p["id"]: p["stock"] for p in products}
        if len(products) != len(expected) or found != expected:
            raise BenchError(
                f"products returned {len(products)} products, "
                f"not the {len(expected)} seeded with their stock"
            )
        backend_calls = (body.get("extensions") or {}).get("backendCalls")
        if not isinstance(backend_calls, dict):
            raise BenchError(f"no extensions.backendCalls in {body.get('extensions')!r}")
        calls.see(backend_calls)

    return call


@dataclass(frozen=True)
class Case:
    size: int
    direct: Result
    gateway: Result
    calls: Calls


async def run(stack: Stack, args: argparse.Namespace) -> list[Case]:
    url = stack.graphql_url
    t0 = time.perf_counter()
    catalogs = {
        200: await seed(url, "Bench Salon", 200, args.concurrency),
        20: await seed(url, "Small Salon", 20, args.concurrency),
    }
    print(f"seeded 200 + 20 products with stock in {time.perf_counter() - t0:.1f}s", flush=True)
    cases = []
    async with (
        grpc.aio.insecure_channel(f"127.0.0.1:{stack.ports['catalog']}") as catalog_channel,
        grpc.aio.insecure_channel(f"127.0.0.1:{stack.ports['inventory']}") as inventory_channel,
        http_client(args.concurrency) as http,
    ):
        catalog_stub = catalog_pb2_grpc.CatalogServiceStub(catalog_channel)
        inventory_stub = inventory_pb2_grpc.InventoryServiceStub(inventory_channel)
        for size in SIZES:
            catalog = catalogs[size]
            metadata = scope_metadata(stack, catalog.tenant.scope)
            direct = await measure(
                f"direct gRPC, {size} products",
                direct_call(catalog_stub, inventory_stub, metadata, catalog.stock),
                **timing(args),
            )
            calls = Calls()
            gateway = await measure(
                f"gateway, {size} products",
                gateway_call(http, url, catalog.tenant.token, catalog.stock, calls),
                **timing(args),
            )
            cases.append(Case(size, direct, gateway, calls))
    return cases


def report(cases: list[Case]) -> None:
    print(
        f"{'case':<26} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'gRPC/query':>11}   gateway/direct"
    )
    for case in cases:
        print(f"{case.direct.row(26)} {2:>11}", flush=True)
        print(
            f"{case.gateway.row(26)} {case.calls.total:>11}   {case.gateway.ratios(case.direct)}",
            flush=True,
        )
    for case in cases:
        print(f"gateway backendCalls, {case.size} products: {case.calls.describe()}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_timing_options(parser)
    args = parser.parse_args(argv)
    check_timing_options(parser, args)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)

    async def bench(stack: Stack) -> None:
        report(await run(stack, args))

    run_on_stack(args, bench, logs=("gateway", "catalog", "inventory"))


if __name__ == "__main__":
    main()
