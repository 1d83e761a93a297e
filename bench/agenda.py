"""A day's agenda through the gateway, with DataLoaders on against off, in one run; with the
gRPC calls each query makes.

For each mode, one after the other, starts the whole system (NATS, the five services, the
gateway) as separate processes in a fresh temporary data folder, the gateway with
``SALON_DATALOADERS=true`` (the default: one batched call per backend and query) or
``false`` (every DataLoader calls its backend once per key, uncached), and seeds one day
through the public API: opening hours 08:00-20:00 every day, 4 staff members (the owner is
given staff hours without Mondays, so that online bookings go to the 4), 3 services of 30
minutes and, on a Monday at least 7 days ahead, 40 appointments of 40 distinct clients at 10
times (08:00, 09:00, ... 17:00), one per staff member at each time: 2 of the 4 booked by the
owner with ``bookAppointment`` (a client made with ``createClient``, a chosen staff member),
the other 2 with ``publicBook`` and a deposit of 10.00 (a new client, the first free staff
member). Then it measures, for ``--seconds`` after ``--warmup`` with ``--concurrency``
requests in flight, over one keep-alive HTTP/1.1 ``httpx.AsyncClient`` with the owner's
bearer token::

    query($d: Date!) { agenda(date: $d) { id start end status client { id firstName lastName }
      service { id name price durationMinutes } staff { id name } deposit { amount status } } }

Every response is checked (no errors; the 40 appointments, each BOOKED with its client,
service and staff, 10 per staff member; 20 deposits of 10.00, PAID): a wrong one aborts the
run instead of being measured. The gRPC calls a query made are the response's
``extensions.backendCalls``, read from the first response of a mode (and compared with every
other one). It prints requests/s, p50 and p99 latency and gRPC calls per query for both
modes, the on/off ratios and the calls per service. The stacks are always stopped.

``counted`` is how many queries measure() counted: those that end inside the window. With
DataLoaders off (121 gRPC calls per query) a query can take seconds at 16 in flight on a
small machine: give it a window several times that long, or few queries are counted.

Run from the repository root::

    .venv/bin/python bench/agenda.py
    .venv/bin/python bench/agenda.py --seconds 10 --concurrency 32

The load generator runs on the same machine as every server process and competes with them
for the CPU: compare figures from one run (or one machine), not across machines.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
from harness import (
    BenchError,
    Result,
    add_timing_options,
    check_timing_options,
    checked_body,
    http_client,
    measure,
    mutate,
    run_on_stack,
    sign_up,
    tenant_of,
    timing,
)

from launcher.stack import Stack

TIMEZONE = ZoneInfo("Europe/Brussels")  # what harness.sign_up gives the establishment
STAFF = 4
TIMES = 10  # appointments per staff member, one an hour from 08:00
EXPLICIT_PER_TIME = 2  # of the STAFF appointments at each time; the others are booked online
APPOINTMENTS = STAFF * TIMES
DEPOSITS = (STAFF - EXPLICIT_PER_TIME) * TIMES
DEPOSIT = "10.00"
SERVICES = (("Cut", "40.00"), ("Colour", "55.00"), ("Blow-dry", "30.00"))
DURATION = 30
WEEK = [{"weekday": d, "opens": "08:00", "closes": "20:00"} for d in range(1, 8)]

SET_OPENING_HOURS = """mutation($input: SetOpeningHoursInput!) { setOpeningHours(input: $input) {
  errors { field code message } } }"""
SET_STAFF_HOURS = """mutation($input: SetStaffHoursInput!) { setStaffHours(input: $input) {
  errors { field code message } } }"""
ADD_MEMBER = """mutation($input: AddMemberInput!) { addMember(input: $input) {
  user { id } errors { field code message } } }"""
CREATE_SERVICE = """mutation($input: CreateServiceInput!) { createService(input: $input) {
  service { id } errors { field code message } } }"""
CREATE_CLIENT = """mutation($input: CreateClientInput!) { createClient(input: $input) {
  client { id } errors { field code message } } }"""
BOOK = """mutation($input: BookAppointmentInput!) { bookAppointment(input: $input) {
  appointment { id staff { id } } errors { field code message } } }"""
PUBLIC_BOOK = """mutation($input: PublicBookInput!) { publicBook(input: $input) {
  appointment { id staff { id } deposit { amount } } errors { field code message } } }"""
AGENDA = """query($d: Date!) { agenda(date: $d) { id start end status
  client { id firstName lastName } service { id name price durationMinutes }
  staff { id name } deposit { amount status } } }"""
FIRST = ["Emma", "Noah", "Louise", "Liam", "Olivia", "Arthur", "Mila", "Jules", "Elena", "Lucas"]
LAST = ["Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens"]


def bench_day(today: date) -> date:
    """The first Monday at least 7 days after ``today``."""
    day = today + timedelta(days=7)
    return day + timedelta(days=-day.weekday() % 7)


def start_at(day: date, slot: int) -> str:
    """ISO start, with the establishment's offset, of the appointments at time ``slot``."""
    return datetime(day.year, day.month, day.day, 8 + slot, tzinfo=TIMEZONE).isoformat()


def client_input(i: int) -> dict[str, str]:
    first, last = FIRST[i % len(FIRST)], LAST[i // len(FIRST) % len(LAST)]
    return {"firstName": first, "lastName": last, "email": f"{first}.{last}.{i}@example.com"}


def member_input(s: int) -> dict[str, Any]:
    return {
        "email": f"staff{s}@bench.example.com",
        "name": f"Staff {s}",
        "password": "bench-staff-password-1",
        "role": "STAFF",
        "rights": [],
    }


@dataclass(frozen=True)
class Day:
    """The seeded day, with the owner's token and the ids of the 4 staff members."""

    token: str
    day: date
    staff: frozenset[str]


async def seed(url: str, concurrency: int) -> Day:
    async with http_client(concurrency, timeout=60) as http:
        token = await sign_up(http, url)
        tenant = await tenant_of(http, url, token)
        est, owner = tenant.scope.establishment_id, tenant.scope.user_id
        gate = asyncio.Semaphore(concurrency)

        async def call(
            query: str, mutation: str, fields: dict[str, Any], *, public: bool = False
        ) -> dict[str, Any]:
            """``mutation`` with ``fields`` as its input, as the owner or (public) no one."""
            async with gate:
                return await mutate(
                    http, url, query, mutation, None if public else token, input=fields
                )

        await call(SET_OPENING_HOURS, "setOpeningHours", {"hours": WEEK})
        # The owner is a member too, and the first one free online: not on the bench's Monday.
        await call(SET_STAFF_HOURS, "setStaffHours", {"userId": owner, "hours": WEEK[1:]})
        members = await asyncio.gather(
            *(call(ADD_MEMBER, "addMember", member_input(s)) for s in range(STAFF))
        )
        staff: list[str] = [m["user"]["id"] for m in members]
        created = await asyncio.gather(
            *(
                call(
                    CREATE_SERVICE,
                    "createService",
                    {"name": name, "price": price, "durationMinutes": DURATION},
                )
                for name, price in SERVICES
            )
        )
        services: list[str] = [c["service"]["id"] for c in created]
        explicit = TIMES * EXPLICIT_PER_TIME
        files = await asyncio.gather(
            *(call(CREATE_CLIENT, "createClient", client_input(i)) for i in range(explicit))
        )
        clients: list[str] = [c["client"]["id"] for c in files]
        day = bench_day(datetime.now(TIMEZONE).date())

        async def book_time(slot: int) -> None:
            """The STAFF appointments at one time: the chosen staff members first, then the
            online ones, which go to the others."""
            start = start_at(day, slot)
            first = slot * EXPLICIT_PER_TIME
            chosen = [staff[(first + k) % STAFF] for k in range(EXPLICIT_PER_TIME)]
            for k, staff_id in enumerate(chosen):
                booked = await call(
                    BOOK,
                    "bookAppointment",
                    {
                        "clientId": clients[first + k],
                        "serviceId": services[(first + k) % len(services)],
                        "start": start,
                        "staffId": staff_id,
                    },
                )
                if booked["appointment"]["staff"]["id"] != staff_id:
                    raise BenchError(f"bookAppointment gave {booked['appointment']}")
            others = set(staff) - set(chosen)
            for k in range(STAFF - EXPLICIT_PER_TIME):
                n = explicit + slot * (STAFF - EXPLICIT_PER_TIME) + k
                booked = await call(
                    PUBLIC_BOOK,
                    "publicBook",
                    {
                        "establishmentId": est,
                        "serviceId": services[n % len(services)],
                        "start": start,
                        "deposit": DEPOSIT,
                        **client_input(n),
                    },
                    public=True,
                )
                appointment = booked["appointment"]
                if appointment["staff"]["id"] not in others or not appointment["deposit"]:
                    raise BenchError(f"publicBook gave {appointment}")

        # One time after the other: the bookings at one time compete for the same staff.
        for slot in range(TIMES):
            await book_time(slot)
        return Day(token, day, frozenset(staff))


@dataclass
class Calls:
    """The ``extensions.backendCalls`` of a mode's first response, and any other seen."""

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


def check_agenda(appointments: list[dict[str, Any]], seeded: Day) -> None:
    if len(appointments) != APPOINTMENTS:
        raise BenchError(f"agenda returned {len(appointments)} appointments, not {APPOINTMENTS}")
    per_staff: Counter[str] = Counter()
    clients: set[str] = set()
    deposits = 0
    for a in appointments:
        if not (a["client"] and a["service"] and a["staff"]) or a["status"] != "BOOKED":
            raise BenchError(f"an appointment without client, service or staff: {a}")
        per_staff[a["staff"]["id"]] += 1
        clients.add(a["client"]["id"])
        if a["deposit"] is not None:
            if a["deposit"] != {"amount": DEPOSIT, "status": "PAID"}:
                raise BenchError(f"a deposit other than {DEPOSIT} PAID: {a}")
            deposits += 1
    if set(per_staff) != seeded.staff or set(per_staff.values()) != {TIMES}:
        raise BenchError(f"appointments per staff member {dict(per_staff)}, not {TIMES} each")
    if len(clients) != APPOINTMENTS or deposits != DEPOSITS:
        raise BenchError(
            f"{len(clients)} clients and {deposits} deposits, not {APPOINTMENTS} and {DEPOSITS}"
        )


def agenda_call(
    http: httpx.AsyncClient, url: str, seeded: Day, calls: Calls
) -> Callable[[], Awaitable[None]]:
    content = orjson.dumps({"query": AGENDA, "variables": {"d": seeded.day.isoformat()}})
    headers = {"Authorization": f"Bearer {seeded.token}", "Content-Type": "application/json"}

    async def call() -> None:
        body = checked_body(await http.post(url, content=content, headers=headers))
        check_agenda(body["data"]["agenda"], seeded)
        backend_calls = (body.get("extensions") or {}).get("backendCalls")
        if not isinstance(backend_calls, dict):
            raise BenchError(f"no extensions.backendCalls in {body.get('extensions')!r}")
        calls.see(backend_calls)

    return call


@dataclass(frozen=True)
class Mode:
    result: Result
    calls: Calls


async def run(stack: Stack, args: argparse.Namespace, name: str) -> Mode:
    url = stack.graphql_url
    t0 = time.perf_counter()
    seeded = await seed(url, args.concurrency)
    print(
        f"seeded {APPOINTMENTS} appointments ({DEPOSITS} with a deposit) on "
        f"{seeded.day.isoformat()} in {time.perf_counter() - t0:.1f}s",
        flush=True,
    )
    calls = Calls()
    async with http_client(args.concurrency) as http:
        result = await measure(name, agenda_call(http, url, seeded, calls), **timing(args))
    return Mode(result, calls)


def report(on: Mode, off: Mode, seconds: float) -> None:
    print(
        f"{'case':<20} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'gRPC/query':>11} {'counted':>8}"
    )
    for mode in (on, off):
        print(f"{mode.result.row(20)} {mode.calls.total:>11} {mode.result.requests:>8}", flush=True)
    if on.result.requests and off.result.requests:
        print(f"on/off: {on.result.ratios(off.result)}")
    else:
        print("on/off: n/a")
    for mode in (on, off):
        print(f"backendCalls, {mode.result.name}: {mode.calls.describe()}")
    for mode in (on, off):
        if mode.result.requests < 10:
            print(
                f"warning: {mode.result.name}: only {mode.result.requests} queries ended in "
                f"the {seconds:g}s window: run with a larger --seconds"
            )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_timing_options(parser)
    args = parser.parse_args(argv)
    check_timing_options(parser, args)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    modes: dict[bool, Mode] = {}
    for dataloaders in (True, False):
        name = f"DataLoaders {'on' if dataloaders else 'off'}"

        async def bench(stack: Stack, dataloaders: bool = dataloaders, name: str = name) -> None:
            modes[dataloaders] = await run(stack, args, name)

        run_on_stack(
            args,
            bench,
            describe=f", {name}",
            logs=("gateway", "booking", "clients", "catalog", "payments"),
            extra_env={"SALON_DATALOADERS": str(dataloaders).lower()},
        )
    report(modes[True], modes[False], args.seconds)


if __name__ == "__main__":
    main()
