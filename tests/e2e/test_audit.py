"""The audit log (B04) from the event to the query: the gateway's audit consumer on a real
NATS and real databases (SQLite, and PostgreSQL with TEST_DATABASE_URL), then end to end
through the gateway with every process running: a change in each service shows up with
user, establishment, action, subject and time; per establishment; organization-wide and
other establishments for owners only; never another organization's entries (R01)."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import nats
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from nats.js import JetStreamContext
from sqlalchemy import Connection, func, select

from gateway.app import MIGRATIONS
from gateway.events.audit import AuditConsumer
from gateway.store import audit, tenancy
from gateway.store.tables import audit_entries, metadata, outbox
from launcher.nats_server import NatsServer
from salon.booking.v1 import booking_pb2
from salon.booking.v1 import events_pb2 as booking_events
from services.common import migrations
from services.common.db import Database, new_id, utcnow
from services.common.events import Event, EventType
from services.common.outbox import OutboxRelay, ensure_stream
from tests.e2e.test_agenda import Salon, _ok
from tests.support.graphql import Gql, sign_up

STREAM = "SALON"
BOOKED = EventType("booking", "appointment", "booked")


# ------------------------------------------------------------------ the consumer and store


@pytest.fixture
def nats_server(fresh_nats_server: NatsServer) -> NatsServer:
    """This file's consumers read the stream from its start: a server of their own."""
    return fresh_nats_server


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await migrations.upgrade(database, MIGRATIONS)
    yield database
    await database.dispose()


@pytest.fixture
async def js(nats_server: NatsServer) -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(nats_server.url)
    context = nc.jetstream()
    await ensure_stream(context, STREAM, 1)
    yield context
    await nc.close()


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_B04_the_gateway_migrations_build_exactly_its_tables(db: Database) -> None:
    async with db.read() as conn:
        assert await conn.run_sync(_diff) == []


def _event(
    organization_id: str,
    establishment_id: str | None,
    *,
    type_: str,
    data: bytes = b"",
    actor_id: str | None = None,
    at: datetime,
) -> Event:
    event_type = EventType.parse(type_)
    return Event(
        id=new_id(),
        type=type_,
        source=f"/salon/{event_type.service}",
        time=at,
        organization_id=organization_id,
        establishment_id=establishment_id,
        actor_id=actor_id,
        subject=event_type.subject(organization_id, establishment_id),
        data=data,
    )


async def _publish(js: JetStreamContext, event: Event, msg_id: str | None = None) -> None:
    headers = event.headers()
    if msg_id:
        headers["Nats-Msg-Id"] = msg_id  # a re-publish outside the duplicate window
    await js.publish(event.subject, event.data, headers=headers)


async def test_B04_R01_every_event_is_recorded_once_with_who_where_what_when(
    db: Database, js: JetStreamContext
) -> None:
    # Given an organization signed up in the gateway (its tenancy events in the outbox) ...
    async with db.write(across_organizations=True) as conn:  # as the gateway signs up
        org, est, owner = await tenancy.sign_up(
            conn,
            organization_name="Salon Audit",
            establishment_name="Antwerpen",
            timezone="Europe/Brussels",
            email=f"audit-{secrets.token_hex(4)}@example.com",
            name="Olivia",
            password_hash="x",
        )
    await OutboxRelay(db, outbox, js).relay_once()
    # ... an appointment booked by a service (published twice: a re-publish), a change in
    # another establishment, a type of a part newer than this gateway (organization level,
    # no user), and another organization's change.
    base = utcnow() - timedelta(minutes=10)
    appointment = booking_pb2.Appointment(id=new_id(), establishment_id=est.id)
    booked = _event(
        org.id,
        est.id,
        type_=BOOKED.name,
        data=booking_events.AppointmentBooked(appointment=appointment).SerializeToString(),
        actor_id=owner.id,
        at=base,
    )
    later = base + timedelta(seconds=1)
    elsewhere = _event(org.id, new_id(), type_=BOOKED.name, actor_id=owner.id, at=later)
    newer = _event(
        org.id, None, type_="salon.widgets.widget.polished.v1", at=later + timedelta(seconds=1)
    )
    other = _event(new_id(), new_id(), type_=BOOKED.name, at=base)
    for event in (booked, elsewhere, newer, other):
        await _publish(js, event)
    await _publish(js, booked, msg_id=f"again-{booked.id}")

    # When the audit consumer runs
    consumer = AuditConsumer(js, db, stream=STREAM, durable=f"test-audit-{secrets.token_hex(4)}")
    consumer.start()
    try:
        deadline = time.monotonic() + 15
        while True:
            async with db.read(organization_id=org.id) as conn:
                everything = await audit.entries(conn, org.id, None, 100)
            if len(everything) >= 6 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # room for the re-published copy to show up
    finally:
        await consumer.stop()

    # Then each event is one entry: who, where, what (action, subject), when. (Across
    # organizations: the test reads both organizations' entries, each by its filter.)
    async with db.read(across_organizations=True) as conn:
        everything = await audit.entries(conn, org.id, None, 100)
        here = await audit.entries(conn, org.id, est.id, 100)
        newest_two = await audit.entries(conn, org.id, None, 2)
        others = await audit.entries(conn, other.organization_id, None, 100)
        copies = (
            await conn.execute(
                select(func.count())
                .select_from(audit_entries)
                .where(audit_entries.c.event_id == booked.id)
            )
        ).scalar_one()
    assert copies == 1
    by_action = {e.action: e for e in everything if e.event_id != elsewhere.id}
    assert sorted(by_action) == [
        BOOKED.name,
        "salon.tenancy.establishment.created.v1",
        "salon.tenancy.membership.added.v1",
        "salon.tenancy.organization.created.v1",
        "salon.widgets.widget.polished.v1",
    ]
    assert len(everything) == 6
    entry = by_action[BOOKED.name]
    assert (entry.event_id, entry.user_id, entry.establishment_id, entry.at) == (
        booked.id,
        owner.id,
        est.id,
        base,
    )
    assert entry.subject == f"appointment {appointment.id}"
    created = by_action["salon.tenancy.organization.created.v1"]
    assert (created.establishment_id, created.user_id) == (None, owner.id)
    assert created.subject == f"organization {org.id}"
    assert by_action["salon.tenancy.membership.added.v1"].subject == f"membership, user {owner.id}"
    unknown = by_action["salon.widgets.widget.polished.v1"]
    assert (unknown.subject, unknown.establishment_id, unknown.user_id) == ("widget", None, None)
    # Newest first; `limit` keeps the newest.
    assert [e.at for e in everything] == sorted((e.at for e in everything), reverse=True)
    assert newest_two == everything[:2]
    # Per establishment: its entries and the organization-level ones, not another's.
    assert elsewhere.id in {e.event_id for e in everything}
    assert {e.event_id for e in here} == {e.event_id for e in everything} - {elsewhere.id}
    # R01: never another organization's entries, and it sees only its own.
    assert other.id not in {e.event_id for e in everything}
    assert [e.event_id for e in others] == [other.id]


# ------------------------------------------------------------------ end to end

ENTRIES = """query($first: Int, $est: ID, $wide: Boolean) {
  auditLog(first: $first, establishmentId: $est, organizationWide: $wide) {
    at action subject user { id name } establishment { id } } }"""
LOGIN = """mutation($input: LoginInput!) { login(input: $input) { session { token }
  errors { code } } }"""
CREATE_PRODUCT = """mutation($input: CreateProductInput!) { createProduct(input: $input) {
  product { id } errors { code } } }"""
ADJUST = """mutation($input: AdjustStockInput!) { adjustStock(input: $input) {
  product { id } errors { code } } }"""
ISSUE_GIFT_CARD = """mutation($input: IssueGiftCardInput!) { issueGiftCard(input: $input) {
  giftCard { id } errors { code } } }"""
CREATE_CLIENT = """mutation($input: CreateClientInput!) { createClient(input: $input) {
  client { id } errors { code } } }"""


def _log(api: Gql, **variables: Any) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = api(ENTRIES, **variables)["auditLog"]
    return entries


def _until(
    read: Callable[[], list[dict[str, Any]]],
    done: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 20,
) -> list[dict[str, Any]]:
    """Events reach the audit log asynchronously: read until `done`, or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        entries = read()
        if done(entries):
            return entries
        if time.monotonic() > deadline:
            raise AssertionError(f"not in the audit log in {timeout}s: {entries}")
        time.sleep(0.2)


def _error_code(api: Gql, **variables: Any) -> str:
    body = api.raw(ENTRIES, variables)
    assert body["data"] is None and body["errors"], body
    return str(body["errors"][0]["extensions"]["code"])


@pytest.mark.e2e
def test_B04_a_change_in_each_service_shows_in_the_audit_log_per_establishment(
    gql: Gql,
) -> None:
    # Given a salon (tenancy, opening hours, a shared service, a client, a stylist in A
    # and B), an appointment, a product with stock and a gift card, all made in A.
    started = datetime.now().astimezone()
    salon = Salon(gql)
    owner = salon.org.api
    booked = salon.book(10)
    assert booked["errors"] == [], booked["errors"]
    appointment = booked["appointment"]["id"]
    product = _ok(
        owner(CREATE_PRODUCT, input={"name": "Shampoo", "price": "12.50"}), "createProduct"
    )["product"]["id"]
    _ok(
        owner(ADJUST, input={"productId": product, "delta": 5, "reason": "DELIVERY"}), "adjustStock"
    )
    card = _ok(owner(ISSUE_GIFT_CARD, input={"amount": "50"}), "issueGiftCard")["giftCard"]["id"]
    org, a, b = salon.org.organization_id, salon.a, salon.b
    expected = {
        # action: (establishment, subject)
        "salon.tenancy.organization.created.v1": (None, f"organization {org}"),
        "salon.tenancy.establishment.created.v1": (a, f"establishment {a}"),
        "salon.booking.opening_hours.set.v1": (a, f"opening hours, establishment {a}"),
        "salon.catalog.service.created.v1": (None, f"service {salon.service}"),
        "salon.clients.client.created.v1": (a, f"client {salon.client}"),
        "salon.booking.appointment.booked.v1": (a, f"appointment {appointment}"),
        "salon.catalog.product.created.v1": (None, f"product {product}"),
        "salon.inventory.stock.adjusted.v1": (a, f"stock, product {product}"),
        "salon.payments.gift_card.issued.v1": (a, f"gift card {card}"),
    }

    # When the owner reads the session establishment's audit log (A, the default)
    entries = _until(
        lambda: _log(owner, first=100),
        lambda got: (
            {(e["action"], e["subject"]) for e in got}
            >= {(action, subject) for action, (_e, subject) in expected.items()}
        ),
    )

    # Then each change is there with who, where, what and when
    for action, (establishment, subject) in expected.items():
        [entry] = [e for e in entries if (e["action"], e["subject"]) == (action, subject)]
        assert entry["user"] == {"id": salon.org.owner_id, "name": "Olivia Owner"}, entry
        assert entry["establishment"] == ({"id": establishment} if establishment else None)
        at = datetime.fromisoformat(entry["at"])
        assert started - timedelta(seconds=5) <= at <= datetime.now().astimezone(), entry
    assert [e["at"] for e in entries] == sorted((e["at"] for e in entries), reverse=True)
    # ... and only A's and the organization's, not B's (its establishment, its hours).
    establishments = {(e["establishment"] or {}).get("id") for e in entries}
    assert establishments == {a, None}
    assert len(_log(owner, first=1)) == 1

    # The owner reads B's log too, and the whole organization's.
    in_b = _until(
        lambda: _log(owner, est=b),
        lambda got: any(e["action"] == "salon.booking.opening_hours.set.v1" for e in got),
    )
    assert {(e["establishment"] or {}).get("id") for e in in_b} == {b, None}
    everything = _log(owner, first=100, wide=True)
    assert {(e["establishment"] or {}).get("id") for e in everything} == {a, b, None}

    # A stylist reads A's log (the session's) but neither B's nor the organization's.
    login = gql.as_(None)(
        LOGIN,
        input={"email": salon.stylist_email, "password": "stylist-pass-1", "establishmentId": a},
    )["login"]
    stylist = gql.as_(login["session"]["token"])
    assert {(e["establishment"] or {}).get("id") for e in _log(stylist)} == {a, None}
    assert _error_code(stylist, est=b) == "FORBIDDEN"
    assert _error_code(stylist, wide=True) == "FORBIDDEN"
    # `first` is 1..100; establishmentId and organizationWide do not go together.
    assert _error_code(owner, first=0) == "INVALID"
    assert _error_code(owner, first=101) == "INVALID"
    assert _error_code(owner, est=b, wide=True) == "INVALID"


@pytest.mark.e2e
def test_R01_the_audit_log_never_shows_another_organization(gql: Gql) -> None:
    a, b = sign_up(gql, name="Salon A"), sign_up(gql, name="Salon B")
    client = _ok(
        a.api(CREATE_CLIENT, input={"firstName": "Ann", "lastName": "Peeters"}), "createClient"
    )["client"]["id"]
    _until(
        lambda: _log(a.api, wide=True),
        lambda got: any(e["subject"] == f"client {client}" for e in got),
    )
    mine = _until(
        lambda: _log(b.api, wide=True),
        lambda got: any(e["subject"] == f"organization {b.organization_id}" for e in got),
    )
    assert all(a.organization_id not in e["subject"] for e in mine)
    assert all(a.establishment_id not in e["subject"] for e in mine)
    assert f"client {client}" not in {e["subject"] for e in mine}
    assert {(e["user"] or {}).get("id") for e in mine} == {b.owner_id}
    # Another organization's establishment is not found, not forbidden (no existence leak).
    assert _error_code(b.api, est=a.establishment_id) == "NOT_FOUND"
