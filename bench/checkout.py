"""Checkout throughput and latency through the gateway under concurrency, with the receipts
checked gap-free at the end (R28).

Starts the whole system (NATS, the five services, the gateway) as separate processes in a
fresh temporary data folder and seeds, through the public API, one organization with a
service (25.00) and a product (12.50) with a large stock in the owner's session
establishment. Then, for ``--seconds`` after ``--warmup`` with ``--concurrency`` requests in
flight, each case sends ``checkout`` mutations, every one with a new idempotency key:

- ``service only``: one service line paid in cash (pricing, numbering, the receipt; no
  stock): the baseline;
- ``service + product``: the same plus a product line, so every checkout also reserves
  stock in inventory (the saga's extra gRPC round trip);
- ``replayed key``: the first checkout's idempotency key sent again and again (the till
  answers the stored receipt: nothing is written).

Every response is checked (no errors, the expected total). At the end it reads the day's
receipts (``receipts(date)``) and checks that their numbers are exactly 1..N with N the
number of checkouts that succeeded, and that the product's stock went down by exactly the
products sold; any mismatch aborts with an error. It prints requests/s, p50 and p99 for each
case and the ratios against the baseline.

Run from the repository root::

    .venv/bin/python bench/checkout.py
    .venv/bin/python bench/checkout.py --seconds 10 --concurrency 32

The load generator shares the machine with every server process: compare figures from one
run, not across machines.
"""

from __future__ import annotations

import argparse
import itertools
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
from harness import (
    BenchError,
    add_timing_options,
    check_timing_options,
    checked_body,
    graphql,
    http_client,
    measure,
    mutate,
    run_on_stack,
    sign_up,
    timing,
)

from launcher.stack import Stack

TIMEZONE = ZoneInfo("Europe/Brussels")  # what harness.sign_up gives the establishment
STOCK = 100_000

CREATE_SERVICE = """mutation($input: CreateServiceInput!) { createService(input: $input) {
  service { id } errors { field code message } } }"""
CREATE_PRODUCT = """mutation($input: CreateProductInput!) { createProduct(input: $input) {
  product { id } errors { field code message } } }"""
ADJUST_STOCK = """mutation($input: AdjustStockInput!) { adjustStock(input: $input) {
  errors { field code message } } }"""
CHECKOUT = """mutation($input: CheckoutInput!) { checkout(input: $input) {
  receipt { id number total } errors { field code message } } }"""
RECEIPTS = """query($d: Date!) { receipts(date: $d) { number total lines { quantity } } }"""
PRODUCTS = """{ products { id stock } }"""


async def seed(http: httpx.AsyncClient, url: str, token: str) -> tuple[str, str]:
    service = await mutate(
        http,
        url,
        CREATE_SERVICE,
        "createService",
        token,
        input={"name": "Cut", "price": "25.00", "durationMinutes": 30},
    )
    product = await mutate(
        http,
        url,
        CREATE_PRODUCT,
        "createProduct",
        token,
        input={"name": "Shampoo", "brand": "Bench", "price": "12.50"},
    )
    product_id: str = product["product"]["id"]
    await mutate(
        http,
        url,
        ADJUST_STOCK,
        "adjustStock",
        token,
        input={"productId": product_id, "delta": STOCK, "reason": "DELIVERY"},
    )
    return service["service"]["id"], product_id


class Checkouts:
    """Sends checkouts and counts those that succeeded (each a receipt)."""

    def __init__(self, http: httpx.AsyncClient, url: str, token: str) -> None:
        self.http, self.url = http, url
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.receipts = 0
        self.products_sold = 0

    async def send(self, lines: list[dict[str, Any]], total: str, key: str) -> dict[str, Any]:
        body = orjson.dumps(
            {
                "query": CHECKOUT,
                "variables": {
                    "input": {
                        "lines": lines,
                        "payments": [{"method": "CASH", "amount": total}],
                        "idempotencyKey": key,
                    }
                },
            }
        )
        reply = await self.http.post(self.url, content=body, headers=self.headers)
        payload: dict[str, Any] = checked_body(reply)["data"]["checkout"]
        if payload["errors"] or payload["receipt"]["total"] != total:
            raise BenchError(f"checkout failed: {payload}")
        receipt: dict[str, Any] = payload["receipt"]
        return receipt

    def case(self, lines: list[dict[str, Any]], total: str, products: int) -> Any:
        async def call() -> None:
            await self.send(lines, total, uuid.uuid4().hex)
            self.receipts += 1
            self.products_sold += products

        return call


async def bench(stack: Stack, args: argparse.Namespace) -> None:
    url = stack.graphql_url
    async with http_client(args.concurrency) as http:
        token = await sign_up(http, url)
        service_id, product_id = await seed(http, url, token)
        till = Checkouts(http, url, token)
        service_line = [{"serviceId": service_id, "quantity": 1}]
        both = [*service_line, {"productId": product_id, "quantity": 1}]

        baseline = await measure(
            "service only", till.case(service_line, "25.00", 0), **timing(args)
        )
        saga = await measure("service + product", till.case(both, "37.50", 1), **timing(args))

        first_key = uuid.uuid4().hex
        first = await till.send(service_line, "25.00", first_key)
        till.receipts += 1

        async def replay() -> None:
            again = await till.send(service_line, "25.00", first_key)
            if again["id"] != first["id"]:
                raise BenchError(f"the same key gave another receipt: {again} vs {first}")

        replayed = await measure("replayed key", replay, **timing(args))

        print(f"{'case':<20} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
        for result in (baseline, saga, replayed):
            print(result.row(20))
        print(f"service + product / service only: {saga.ratios(baseline)}")
        print(f"replayed key / service only: {replayed.ratios(baseline)}")
        await check_books(http, url, token, till, product_id)


async def check_books(
    http: httpx.AsyncClient, url: str, token: str, till: Checkouts, product_id: str
) -> None:
    """Receipts numbered 1..N without gaps or duplicates, N = the checkouts that succeeded
    (load-loop calls still in flight at a window's end also completed, and are counted), and
    the stock down by exactly the products sold."""
    today = datetime.now(TIMEZONE).date().isoformat()
    receipts = (await graphql(http, url, RECEIPTS, token, d=today))["receipts"]
    numbers = sorted(int(r["number"]) for r in receipts)
    expected = list(range(1, till.receipts + 1))
    if numbers != expected:
        missing = sorted(set(expected) - set(numbers))[:10]
        extra = [n for n, c in itertools.groupby(numbers) if len(list(c)) > 1][:10]
        raise BenchError(
            f"receipts are not 1..{till.receipts}: {len(numbers)} receipts, "
            f"missing {missing}, duplicated {extra}"
        )
    revenue = sum(Decimal(r["total"]) for r in receipts)
    products = {
        p["id"]: p["stock"] for p in (await graphql(http, url, PRODUCTS, token))["products"]
    }
    if products[product_id] != STOCK - till.products_sold:
        raise BenchError(
            f"stock {products[product_id]}, expected {STOCK - till.products_sold} "
            f"({till.products_sold} sold)"
        )
    print(
        f"books: {len(numbers)} receipts numbered 1..{numbers[-1] if numbers else 0} without gaps, "
        f"revenue {revenue}, stock {products[product_id]} = {STOCK} - {till.products_sold} sold"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_timing_options(parser)
    args = parser.parse_args()
    check_timing_options(parser, args)

    async def run(stack: Stack) -> None:
        await bench(stack, args)

    run_on_stack(args, run, logs=("gateway", "payments", "inventory"))


if __name__ == "__main__":
    main()
