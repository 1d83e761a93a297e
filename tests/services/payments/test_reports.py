"""Reports (R27, R06, B03) over real gRPC with a real NATS, on SQLite and (with
TEST_DATABASE_URL) PostgreSQL: receipts are written through the store as the till writes
them; appointments and establishments arrive as the booking service's and the gateway's
events, published to the stream with their CloudEvents headers. Also: the appointment
projection applies each event once and in any order, and migration 0003 matches the
tables."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import grpc
import nats
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import MetaData, select

from launcher.nats_server import NatsServer
from salon.booking.v1 import booking_pb2
from salon.booking.v1 import events_pb2 as booking_events
from salon.payments.v1 import payments_pb2, payments_pb2_grpc
from salon.tenancy.v1 import events_pb2 as tenancy_events
from services.common import migrations
from services.common.db import Database, new_id
from services.common.errors import DomainError, ErrorCode, from_rpc_error
from services.common.events import Event, EventType
from services.common.runtime import ServiceContext
from services.common.scope import Right, Role
from services.payments.domain.reports import (
    AppointmentFact,
    AppointmentStatus,
    check_period,
    supersedes,
)
from services.payments.service import SPEC as PAYMENTS
from services.payments.store import provider_tables, reports_repository
from services.payments.store.tables import receipt_lines, receipts
from tests.support.services import Metadata, metadata, running

T = TypeVar("T")
_numbers = itertools.count(1)

VERBS: dict[str, tuple[type[Message], int]] = {
    "booked": (booking_events.AppointmentBooked, booking_pb2.APPOINTMENT_STATUS_BOOKED),
    "moved": (booking_events.AppointmentMoved, booking_pb2.APPOINTMENT_STATUS_BOOKED),
    "cancelled": (booking_events.AppointmentCancelled, booking_pb2.APPOINTMENT_STATUS_CANCELLED),
    "completed": (booking_events.AppointmentCompleted, booking_pb2.APPOINTMENT_STATUS_COMPLETED),
}


@dataclass
class Till:
    stub: payments_pb2_grpc.PaymentsServiceStub
    ctx: ServiceContext
    nats_url: str


@pytest.fixture
async def till(database_url: str, nats_server: NatsServer) -> AsyncIterator[Till]:
    async with running(nats_server.url, {"payments": database_url}, {"payments": PAYMENTS}) as up:
        yield Till(
            payments_pb2_grpc.PaymentsServiceStub(up.channel("payments")),
            up.processes["payments"].ctx,
            nats_server.url,
        )


def _id() -> str:
    return secrets.token_hex(16)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _ts(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


async def _error(call: Awaitable[Any]) -> DomainError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error = from_rpc_error(caught.value)
    assert error is not None, caught.value
    return error


async def _eventually(check: Callable[[], Awaitable[T]], timeout: float = 15.0) -> T:
    """Effects that travel by events: wait for them, within reason."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await check()
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)


async def _publish(nats_url: str, *events: Event) -> None:
    """Into the stream, as the other services' outbox relays do."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for event in events:
            await js.publish(event.subject, event.data, headers=event.headers())
    finally:
        await nc.close()


def _event(kind: EventType, org: str, est: str, body: Message, at: datetime | None = None) -> Event:
    return Event(
        id=new_id(),
        type=kind.name,
        source=f"/salon/{kind.service}",
        time=at or datetime.now(UTC),
        organization_id=org,
        establishment_id=est,
        actor_id=None,
        subject=kind.subject(org, est),
        data=body.SerializeToString(),
    )


def established(org: str, est: str, timezone: str = "Europe/Brussels") -> Event:
    """The gateway's tenancy.establishment.created."""
    return _event(
        EventType("tenancy", "establishment", "created"),
        org,
        est,
        tenancy_events.EstablishmentCreated(
            organization_id=org, establishment_id=est, name="Salon", slug="s", timezone=timezone
        ),
    )


def appointment(
    verb: str, org: str, est: str, appointment_id: str, start: datetime, at: datetime | None = None
) -> Event:
    """The booking service's appointment event with the appointment as it then is."""
    message_type, status = VERBS[verb]
    body = message_type(
        appointment=booking_pb2.Appointment(
            id=appointment_id,
            establishment_id=est,
            client_id=new_id(),
            service_id=new_id(),
            staff_id=new_id(),
            start=_ts(start),
            end=_ts(start + timedelta(minutes=30)),
            status=status,  # type: ignore[arg-type]
        )
    )
    return _event(EventType("booking", "appointment", verb), org, est, body, at)


async def _receipt(
    till: Till, org: str, est: str, at: str, total: str, products: tuple[int, ...] = ()
) -> str:
    """A receipt as the till writes it: a service line for the rest of the total, and a
    product line per quantity in `products`."""
    receipt_id = _id()
    number = next(_numbers)
    async with till.ctx.db.write(organization_id=org) as conn:
        await conn.execute(
            receipts.insert().values(
                id=receipt_id,
                organization_id=org,
                establishment_id=est,
                number=number,
                client_id=None,
                appointment_id=None,
                total=Decimal(total),
                user_id="u-test",
                idempotency_key=f"k{number}",
                request_hash="h" * 64,
                reservation_id=None,
                created_at=_at(at),
            )
        )
        lines = [("SERVICE", 1)] + [("PRODUCT", q) for q in products]
        for position, (kind, quantity) in enumerate(lines, start=1):
            await conn.execute(
                receipt_lines.insert().values(
                    id=_id(),
                    organization_id=org,
                    receipt_id=receipt_id,
                    position=position,
                    kind=kind,
                    item_id=_id(),
                    description=kind.title(),
                    quantity=quantity,
                    unit_price=Decimal("1.00"),
                    total=Decimal(quantity),
                )
            )
    return receipt_id


def _md(
    org: str,
    est: str,
    role: Role = Role.STAFF,
    rights: tuple[Right, ...] = (),
    vouched: tuple[str, ...] = (),
) -> Metadata:
    return metadata(org, est, role=role, rights=rights, verified_establishments=vouched)


async def _report(
    till: Till, md: Metadata, first: str, last: str, est: str = ""
) -> payments_pb2.Report:
    return await till.stub.GetReport(
        payments_pb2.ReportRequest(establishment_id=est, **{"from": first, "to": last}),
        metadata=md,
        timeout=5,
    )


async def _organization(
    till: Till, md: Metadata, first: str, last: str
) -> payments_pb2.OrganizationReport:
    return await till.stub.GetOrganizationReport(
        payments_pb2.OrganizationReportRequest(**{"from": first, "to": last}),
        metadata=md,
        timeout=5,
    )


def _figures(report: payments_pb2.Report) -> tuple[str, str, int, int, int]:
    return (
        report.establishment_id,
        report.revenue,
        report.receipts,
        report.products_sold,
        report.appointments,
    )


async def _counts_appointments(
    till: Till, md: Metadata, first: str, last: str, expected: int, est: str = ""
) -> None:
    async def check() -> None:
        assert (await _report(till, md, first, last, est)).appointments == expected

    await _eventually(check)


async def _known(till: Till, org: str, *establishments: str) -> None:
    """The establishments' tenancy events have been applied."""

    async def check() -> None:
        async with till.ctx.db.read(organization_id=org) as conn:
            zones = await reports_repository.establishments(conn, org)
        assert set(establishments) <= set(zones)

    await _eventually(check)


async def test_R27_reports_are_per_establishment(till: Till) -> None:
    org, a, b = _id(), _id(), _id()
    await _publish(till.nats_url, established(org, a), established(org, b))
    await _receipt(till, org, a, "2030-01-07T10:00:00+01:00", "40.00")
    await _receipt(till, org, a, "2030-01-07T17:00:00+01:00", "25.50", products=(2, 1))
    await _receipt(till, org, b, "2030-01-07T12:00:00+01:00", "100.00", products=(5,))
    # Outside the period, either side.
    await _receipt(till, org, a, "2030-01-06T23:59:00+01:00", "7.00", products=(9,))
    await _receipt(till, org, a, "2030-01-08T00:00:00+01:00", "8.00", products=(9,))

    monday = _at("2030-01-07T10:00:00+01:00")
    kept, cancelled, done, in_b = _id(), _id(), _id(), _id()
    await _publish(
        till.nats_url,
        appointment("booked", org, a, kept, monday),
        appointment("booked", org, a, cancelled, monday + timedelta(hours=1)),
        appointment("cancelled", org, a, cancelled, monday + timedelta(hours=1)),
        appointment("booked", org, a, done, monday + timedelta(hours=2)),
        appointment("completed", org, a, done, monday + timedelta(hours=2)),
        appointment("booked", org, b, in_b, monday),
        appointment("booked", org, a, _id(), monday + timedelta(days=1)),
    )
    await _counts_appointments(till, _md(org, b), "2030-01-07", "2030-01-07", 1)
    await _counts_appointments(till, _md(org, a), "2030-01-08", "2030-01-08", 1)

    in_a = await _report(till, _md(org, a), "2030-01-07", "2030-01-07")
    assert _figures(in_a) == (a, "65.50", 2, 3, 2)
    assert (getattr(in_a, "from"), in_a.to) == ("2030-01-07", "2030-01-07")
    assert _figures(await _report(till, _md(org, b), "2030-01-07", "2030-01-07")) == (
        b,
        "100.00",
        1,
        5,
        1,
    )
    week = await _report(till, _md(org, a), "2030-01-06", "2030-01-08")
    assert _figures(week) == (a, "80.50", 4, 21, 3)
    empty = await _report(till, _md(org, a), "2029-01-07", "2029-01-07")
    assert _figures(empty) == (a, "0.00", 0, 0, 0)


async def test_R27_a_report_counts_the_establishments_own_local_days(till: Till) -> None:
    org, brussels, new_york = _id(), _id(), _id()
    await _publish(
        till.nats_url,
        established(org, brussels, "Europe/Brussels"),
        established(org, new_york, "America/New_York"),
    )
    await _known(till, org, brussels, new_york)
    # 23:30 UTC on 1 January is 2 January in Brussels and still 1 January in New York.
    late = "2030-01-01T23:30:00+00:00"
    await _receipt(till, org, brussels, late, "10.00")
    await _receipt(till, org, new_york, late, "20.00")
    await _publish(
        till.nats_url,
        appointment("booked", org, brussels, _id(), _at(late)),
        appointment("booked", org, new_york, _id(), _at(late)),
    )
    await _counts_appointments(till, _md(org, brussels), "2030-01-02", "2030-01-02", 1)
    await _counts_appointments(till, _md(org, new_york), "2030-01-01", "2030-01-01", 1)

    b1 = await _report(till, _md(org, brussels), "2030-01-01", "2030-01-01")
    b2 = await _report(till, _md(org, brussels), "2030-01-02", "2030-01-02")
    n1 = await _report(till, _md(org, new_york), "2030-01-01", "2030-01-01")
    n2 = await _report(till, _md(org, new_york), "2030-01-02", "2030-01-02")
    assert (b1.revenue, b1.appointments, b2.revenue, b2.appointments) == ("0.00", 0, "10.00", 1)
    assert (n1.revenue, n1.appointments, n2.revenue, n2.appointments) == ("20.00", 1, "0.00", 0)

    # The organization's report takes each establishment's own days in one go.
    owner = _md(org, brussels, Role.OWNER)
    day1 = {
        r.establishment_id: r.revenue
        for r in (await _organization(till, owner, "2030-01-01", "2030-01-01")).establishments
    }
    assert day1 == {brussels: "0.00", new_york: "20.00"}


async def test_R06_another_establishments_report_needs_SWITCH_REPORTS(till: Till) -> None:
    org, a, b = _id(), _id(), _id()
    await _publish(till.nats_url, established(org, a), established(org, b))
    await _known(till, org, a, b)
    await _receipt(till, org, b, "2030-01-07T12:00:00+01:00", "30.00")

    refused = await _error(_report(till, _md(org, a), "2030-01-07", "2030-01-07", b))
    assert (refused.code, refused.field) == (ErrorCode.FORBIDDEN, "establishmentId")
    # Vouched for by the gateway or not, the right is what counts.
    vouched = await _error(_report(till, _md(org, a, vouched=(b,)), "2030-01-07", "2030-01-07", b))
    assert vouched.code is ErrorCode.FORBIDDEN

    allowed = _md(org, a, rights=(Right.SWITCH_REPORTS,))
    seen = await _report(till, allowed, "2030-01-07", "2030-01-07", b)
    assert _figures(seen) == (b, "30.00", 1, 0, 0)
    by_owner = await _report(till, _md(org, a, Role.OWNER), "2030-01-07", "2030-01-07", b)
    assert by_owner == seen
    # The session establishment named explicitly needs no right.
    own = await _report(till, _md(org, a), "2030-01-07", "2030-01-07", a)
    assert own.establishment_id == a


async def test_R01_an_unknown_or_foreign_establishment_is_not_found(till: Till) -> None:
    org, other, a, theirs = _id(), _id(), _id(), _id()
    await _publish(till.nats_url, established(org, a), established(other, theirs))
    await _known(till, other, theirs)
    await _receipt(till, other, theirs, "2030-01-07T12:00:00+01:00", "99.00")
    owner = _md(org, a, Role.OWNER, rights=(Right.SWITCH_REPORTS,))
    for est in (theirs, _id()):
        error = await _error(_report(till, owner, "2030-01-07", "2030-01-07", est))
        assert (error.code, error.field) == (ErrorCode.NOT_FOUND, "establishmentId")
    # Another organization's data never shows, even under the same establishment id.
    forged = await _report(till, _md(org, theirs), "2030-01-07", "2030-01-07")
    assert _figures(forged) == (theirs, "0.00", 0, 0, 0)
    listed = await _organization(till, owner, "2030-01-07", "2030-01-07")
    assert [r.establishment_id for r in listed.establishments] == [a]
    assert listed.total_revenue == "0.00"


async def test_B03_the_organization_report_is_the_sum_of_the_establishments(
    till: Till,
) -> None:
    org, a, b, quiet, unknown = _id(), _id(), _id(), _id(), _id()
    await _publish(
        till.nats_url,
        established(org, a),
        established(org, b, "Europe/London"),
        established(org, quiet),
    )
    await _known(till, org, a, b, quiet)
    await _receipt(till, org, a, "2030-03-01T10:00:00+01:00", "45.00", products=(1,))
    await _receipt(till, org, a, "2030-03-31T23:30:00+02:00", "15.25")
    await _receipt(till, org, b, "2030-03-15T09:00:00+00:00", "60.10", products=(3, 4))
    # An establishment the tenancy events have not told about yet: its data still counts.
    await _receipt(till, org, unknown, "2030-03-20T11:00:00+01:00", "5.00", products=(2,))
    start = _at("2030-03-10T10:00:00+01:00")
    await _publish(
        till.nats_url,
        appointment("booked", org, a, _id(), start),
        appointment("booked", org, b, _id(), start),
        appointment("booked", org, b, _id(), start + timedelta(days=1)),
        appointment("booked", org, unknown, _id(), start),
    )
    owner = _md(org, a, Role.OWNER, vouched=(unknown,))
    await _counts_appointments(till, owner, "2030-03-01", "2030-03-31", 2, b)

    total = await _organization(till, owner, "2030-03-01", "2030-03-31")
    assert [r.establishment_id for r in total.establishments] == [a, b, quiet, unknown]
    separately = [
        await _report(till, owner, "2030-03-01", "2030-03-31", est)
        for est in (a, b, quiet, unknown)
    ]
    assert list(total.establishments) == separately
    assert total.total_revenue == str(sum(Decimal(r.revenue) for r in separately))
    assert total.total_appointments == sum(r.appointments for r in separately)
    assert total.total_products_sold == sum(r.products_sold for r in separately)
    assert (total.total_revenue, total.total_appointments, total.total_products_sold) == (
        "125.35",
        4,
        10,
    )
    assert (getattr(total, "from"), total.to) == ("2030-03-01", "2030-03-31")


async def test_B03_only_an_owner_sees_the_organization_report(till: Till) -> None:
    org, a = _id(), _id()
    for role in (Role.STAFF, Role.MANAGER):
        md = _md(org, a, role, rights=(Right.SWITCH_REPORTS,))
        error = await _error(_organization(till, md, "2030-01-01", "2030-01-31"))
        assert error.code is ErrorCode.FORBIDDEN


BAD_PERIODS = [
    ("", "2030-01-01", "from"),
    ("2030-01-01", "", "to"),
    ("2030-13-01", "2030-12-31", "from"),
    ("2030-1-1", "2030-01-02", "from"),
    ("01/01/2030", "2030-01-02", "from"),
    ("2030-01-01", "2030-02-30", "to"),
    ("2030-01-02", "2030-01-01", "to"),
    ("2030-01-01", "2031-01-02", "to"),
]


async def test_bad_periods_are_refused(till: Till) -> None:
    org, a = _id(), _id()
    owner = _md(org, a, Role.OWNER)
    for first, last, field in BAD_PERIODS:
        for call in (_report(till, owner, first, last), _organization(till, owner, first, last)):
            error = await _error(call)
            assert (error.code, error.field) == (ErrorCode.INVALID, field), (first, last)
    # 366 days is the most a report covers (a leap year).
    leap = await _report(till, owner, "2032-01-01", "2032-12-31")
    assert leap.receipts == 0


def test_a_period_is_local_days_of_the_establishment() -> None:
    period = check_period("2030-03-31", "2030-03-31")  # DST starts in Brussels: 23 hours
    start, end = period.window("Europe/Brussels")
    assert (start, end) == (_at("2030-03-30T23:00:00+00:00"), _at("2030-03-31T22:00:00+00:00"))
    assert period.window(None) == (start, end)
    assert period.window("Not/AZone") == (start, end)
    with pytest.raises(DomainError):
        check_period("2030-01-01", "2031-01-02")  # 367 days
    assert check_period("2030-01-01", "2031-01-01").last.year == 2031  # 366 days


def _fact(
    verb: str, status: AppointmentStatus, at: datetime, start: datetime | None = None
) -> AppointmentFact:
    return AppointmentFact(
        id="a1",
        establishment_id="e1",
        start=start or at,
        status=status,
        at=at,
        first=verb == "booked",
    )


def test_an_ended_appointment_is_never_brought_back() -> None:
    t0 = _at("2030-01-01T10:00:00+00:00")
    later = t0 + timedelta(minutes=5)
    booked = AppointmentStatus.BOOKED
    cancelled = AppointmentStatus.CANCELLED
    assert not supersedes(_fact("booked", booked, later), cancelled, t0)
    assert not supersedes(_fact("booked", booked, later), booked, t0)
    assert not supersedes(_fact("moved", booked, later), cancelled, t0)
    assert supersedes(_fact("cancelled", cancelled, t0), booked, later)
    assert supersedes(_fact("moved", booked, later), booked, t0)
    assert not supersedes(_fact("moved", booked, t0), booked, later)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await migrations.upgrade(database, PAYMENTS.migrations)
    yield database
    await database.dispose()


async def test_the_projection_applies_events_once_in_any_order(db: Database) -> None:
    org = _id()
    t0 = _at("2030-01-01T10:00:00+00:00")
    start, moved_to = _at("2030-02-01T10:00:00+00:00"), _at("2030-02-03T10:00:00+00:00")

    def fact(verb: str, status: AppointmentStatus, at: datetime, when: datetime) -> AppointmentFact:
        return AppointmentFact("a1", "e1", when, status, at, verb == "booked")

    booked = fact("booked", AppointmentStatus.BOOKED, t0, start)
    moved = fact("moved", AppointmentStatus.BOOKED, t0 + timedelta(minutes=1), moved_to)
    cancelled = fact("cancelled", AppointmentStatus.CANCELLED, t0 + timedelta(minutes=2), moved_to)
    # Out of order: moved first, then booked (older), then cancelled twice, then moved again.
    changes = []
    async with db.write(organization_id=org) as conn:
        for f in (moved, booked, cancelled, cancelled, moved):
            changes.append(await reports_repository.record_appointment(conn, org, f))
    # The second cancelled (a re-publish: the consumer drops a redelivery by its event id
    # before this) rewrites the same values; the older move never comes back.
    assert changes == [True, False, True, True, False]
    async with db.read(organization_id=org) as conn:
        row = (
            await conn.execute(
                select(provider_tables.report_appointments).where(
                    provider_tables.report_appointments.c.organization_id == org
                )
            )
        ).one()
    assert (row.status, row.start, row.establishment_id) == ("CANCELLED", moved_to, "e1")


def _mine(metadata: MetaData) -> MetaData:
    tables = MetaData(naming_convention=metadata.naming_convention)
    for name in (
        "payment_terminals",
        "provider_connections",
        "provider_payments",
        "report_appointments",
    ):
        metadata.tables[name].to_metadata(tables)
    return tables


async def test_migration_0003_matches_the_tables(db: Database) -> None:
    mine = _mine(provider_tables.metadata)

    def only_mine(obj: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
        # The rest of the schema is the till's (0001, 0002) and compared by its own test.
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
        return table in mine.tables

    def diff(sync_conn: Any) -> list[Any]:
        context = MigrationContext.configure(
            sync_conn, opts={"compare_type": True, "include_object": only_mine}
        )
        return list(compare_metadata(context, mine))

    async with db.write_engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []
