"""Mails for future appointments (R15) end to end inside the backend: the real booking,
clients and catalogue services over gRPC, a real NATS server, and a real SMTP server
(aiosmtpd) on a free port that collects what arrives. The booking service reads its mail
settings from the environment (SALON_SMTP_HOST...), set before it starts.

Covered: one confirmation per booking whatever the redeliveries, the reminder when it is
due, none after a cancellation, the organization-wide switch (off: nothing is queued, in
any establishment), only the owner changes it, an SMTP server down for a while (the mail
waits, then goes once), no e-mail address (no mail), and the mailbox folder when no SMTP
server is configured.
"""

from __future__ import annotations

import asyncio
import secrets
import time as clock
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import nats
import pytest
from aiosmtpd.controller import Controller
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import select, update

from launcher.nats_server import NatsServer
from launcher.stack import free_port
from salon.booking.v1 import booking_pb2, booking_pb2_grpc, events_pb2
from salon.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from salon.clients.v1 import clients_pb2, clients_pb2_grpc
from salon.tenancy.v1 import events_pb2 as tenancy_events_pb2
from services.booking.mail.queue import APPOINTMENT_BOOKED, MAILS_DURABLE
from services.booking.service import SPEC as BOOKING
from services.booking.store.mail_tables import mail_queue
from services.booking.store.tables import known_establishments, outbox, processed_events
from services.catalog.service import SPEC as CATALOG
from services.clients.service import SPEC as CLIENTS
from services.common.db import Database, new_id, utcnow
from services.common.errors import DomainError, ErrorCode, from_rpc_error
from services.common.events import Event, EventType
from services.common.runtime import ServiceProcess
from services.common.scope import Role, Scope, ScopeSigner
from services.common.settings import ServiceSettings
from services.common.tenancy_replica import ESTABLISHMENT_CREATED

SECRET = "m" * 40
SIGNER = ScopeSigner([SECRET.encode()])
TOKYO = ZoneInfo("Asia/Tokyo")  # no DST: the local time of a mail is plain to check
ALL_DAY = [(d, "00:00", "24:00") for d in range(1, 8)]
POLL = "0.05"

Metadata = tuple[tuple[str, bytes], ...]


# -- an SMTP server that keeps what it receives ---------------------------------------------


@dataclass
class Inbox:
    """The aiosmtpd handler: every message accepted, with the time it arrived."""

    received: list[tuple[float, EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((clock.monotonic(), parsed))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for _t, m in self.received if address in str(m["To"])]


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        """On the same port every time: a restart is the same server coming back."""
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


# -- the services -----------------------------------------------------------------------------


def _settings(database_url: str, nats_url: str, **extra: Any) -> ServiceSettings:
    return ServiceSettings(
        database_url=database_url,
        nats_url=nats_url,
        scope_secret=SECRET,
        grpc_port=0,
        shutdown_grace_seconds=1,
        **extra,
    )


@dataclass
class Stack:
    booking: booking_pb2_grpc.BookingServiceStub
    catalog: catalog_pb2_grpc.CatalogServiceStub
    clients: clients_pb2_grpc.ClientsServiceStub
    nats_url: str
    # The booking service's database, to look at the queue (and, in one test, to let time
    # pass for a reminder).
    db: Database
    mailbox: Path


@pytest.fixture
def mail_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[str, int], None]:
    """Sets the booking service's mail settings in the environment, before it starts."""

    def configure(smtp_host: str, smtp_port: int = 25) -> None:
        monkeypatch.setenv("SALON_SMTP_HOST", smtp_host)
        monkeypatch.setenv("SALON_SMTP_PORT", str(smtp_port))
        monkeypatch.setenv("SALON_SMTP_TIMEOUT_SECONDS", "3")
        monkeypatch.setenv("SALON_MAIL_POLL_SECONDS", POLL)
        monkeypatch.setenv("SALON_MAILBOX_DIR", str(tmp_path / "mailbox"))
        monkeypatch.setenv("SALON_MAIL_FROM", "Salon Belle <no-reply@belle.test>")

    return configure


async def _running(database_url: str, nats_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    catalog = ServiceProcess(
        CATALOG, _settings(f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}", nats_url)
    )
    clients = ServiceProcess(
        CLIENTS, _settings(f"sqlite+aiosqlite:///{tmp_path / 'clients.db'}", nats_url)
    )
    # One after the other: Alembic's context is process-global.
    catalog_port = await catalog.start()
    clients_port = await clients.start()
    booking = ServiceProcess(
        BOOKING,
        _settings(
            database_url,
            nats_url,
            catalog_addr=f"127.0.0.1:{catalog_port}",
            clients_addr=f"127.0.0.1:{clients_port}",
        ),
    )
    port = await booking.start()
    db = Database(database_url)
    channels = [
        grpc.aio.insecure_channel(f"127.0.0.1:{p}") for p in (port, catalog_port, clients_port)
    ]
    try:
        yield Stack(
            booking_pb2_grpc.BookingServiceStub(channels[0]),
            catalog_pb2_grpc.CatalogServiceStub(channels[1]),
            clients_pb2_grpc.ClientsServiceStub(channels[2]),
            nats_url,
            db,
            tmp_path / "mailbox",
        )
    finally:
        for channel in channels:
            await channel.close()
        await asyncio.gather(booking.stop(), catalog.stop(), clients.stop())
        await db.dispose()


@pytest.fixture
async def stack(
    database_url: str,
    nats_server: NatsServer,
    tmp_path: Path,
    smtp: SmtpServer,
    mail_env: Callable[[str, int], None],
) -> AsyncIterator[Stack]:
    """Mails go to the test's SMTP server."""
    mail_env("127.0.0.1", smtp.port)
    async for running in _running(database_url, nats_server.url, tmp_path):
        yield running


@pytest.fixture
async def mailbox_stack(
    database_url: str,
    nats_server: NatsServer,
    tmp_path: Path,
    mail_env: Callable[[str, int], None],
) -> AsyncIterator[Stack]:
    """No SMTP server configured: the embedded default, a mailbox folder."""
    mail_env("")
    async for running in _running(database_url, nats_server.url, tmp_path):
        yield running


# -- helpers ----------------------------------------------------------------------------------


def _id() -> str:
    return secrets.token_hex(16)


def _md(org: str, est: str, role: Role = Role.STAFF, members: tuple[str, ...] = ()) -> Metadata:
    return SIGNER.metadata(Scope(org, est, _id(), role, verified_members=frozenset(members)))


def _ts(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def _monday() -> date:
    """The Monday after next: always ahead, more than a day and less than three weeks."""
    today = datetime.now(TOKYO).date()
    return today + timedelta(days=7 - today.weekday() + 7)


def _at(day: date, hhmm: str, tz: ZoneInfo = TOKYO) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=tz).astimezone(UTC)


async def _error(call: Awaitable[Any]) -> DomainError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error = from_rpc_error(caught.value)
    assert error is not None, caught.value
    return error


async def _eventually(check: Callable[[], Awaitable[Any]], timeout: float = 15) -> Any:
    """The first truthy result of `check`, polled; fails after `timeout` seconds."""
    deadline = clock.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if clock.monotonic() > deadline:
            pytest.fail(f"still not true after {timeout} s: {check.__name__}")
        await asyncio.sleep(0.05)


async def _publish(
    stack: Stack,
    kind: EventType,
    org: str,
    est: str,
    message: Message,
    event_id: str | None = None,
    msg_id: str | None = None,
) -> str:
    """Publish an event; `event_id` repeats one (a redelivery), `msg_id` gets it past
    JetStream's duplicate window."""
    event = Event(
        id=event_id or new_id(),
        type=kind.name,
        source="/salon/test",
        time=utcnow(),
        organization_id=org,
        establishment_id=est,
        actor_id=None,
        subject=kind.subject(org, est),
        data=message.SerializeToString(),
    )
    headers = event.headers()
    if msg_id:
        headers["Nats-Msg-Id"] = msg_id
    nc = await nats.connect(stack.nats_url)
    try:
        await nc.jetstream().publish(event.subject, event.data, headers=headers)
    finally:
        await nc.close()
    return event.id


@dataclass
class Salon:
    """An organization with an establishment in Tokyo open day and night, a staff member,
    a client with an e-mail address and a one-hour "Balayage"."""

    org: str
    est: str
    staff: str
    client: str
    email: str
    service: str

    def md(self, role: Role = Role.STAFF) -> Metadata:
        return _md(self.org, self.est, role)


async def _establishment(stack: Stack, org: str, est: str, staff: str) -> None:
    """Known in Tokyo (the gateway's event), open day and night, with `staff` a member."""
    await _publish(
        stack,
        ESTABLISHMENT_CREATED,
        org,
        est,
        tenancy_events_pb2.EstablishmentCreated(
            organization_id=org, establishment_id=est, name="Ginza", timezone="Asia/Tokyo"
        ),
    )
    await stack.booking.SetOpeningHours(
        booking_pb2.SetOpeningHoursRequest(
            hours=[booking_pb2.OpeningHours(weekday=d, opens=o, closes=c) for d, o, c in ALL_DAY]
        ),
        metadata=_md(org, est, Role.MANAGER),
        timeout=5,
    )
    await stack.booking.SetStaffHours(
        booking_pb2.SetStaffHoursRequest(staff_id=staff),
        metadata=_md(org, est, Role.MANAGER, members=(staff,)),
        timeout=5,
    )

    async def timezone_known() -> bool:
        async with stack.db.read(organization_id=org) as session:
            tz = (
                await session.execute(
                    select(known_establishments.c.timezone).where(
                        known_establishments.c.organization_id == org,
                        known_establishments.c.establishment_id == est,
                    )
                )
            ).scalar_one_or_none()
        return tz == "Asia/Tokyo"

    await _eventually(timezone_known)


async def _client(stack: Stack, org: str, est: str, email: str | None) -> str:
    reply = await stack.clients.CreateClient(
        clients_pb2.CreateClientRequest(first_name="Ann", last_name="Peeters", email=email),
        metadata=_md(org, est),
        timeout=5,
    )
    return reply.id


async def _salon(stack: Stack, *, email: str | None = "") -> Salon:
    org, est, staff = _id(), _id(), _id()
    address = f"ann.{org[:8]}@example.com" if email == "" else email
    await _establishment(stack, org, est, staff)
    client = await _client(stack, org, est, address)
    change = await stack.catalog.CreateService(
        catalog_pb2.CreateServiceRequest(
            name="Balayage", category="Colour", price="95.00", duration_minutes=60
        ),
        metadata=_md(org, est, Role.OWNER),
        timeout=5,
    )
    return Salon(org, est, staff, client, address or "", change.service.id)


async def _book(
    stack: Stack, salon: Salon, start: datetime, md: Metadata | None = None
) -> booking_pb2.Appointment:
    return await stack.booking.BookAppointment(
        booking_pb2.BookAppointmentRequest(
            client_id=salon.client, service_id=salon.service, start=_ts(start)
        ),
        metadata=md or salon.md(),
        timeout=5,
    )


async def _queue(stack: Stack, org: str) -> list[Any]:
    async with stack.db.read(organization_id=org) as session:
        rows = await session.execute(
            select(mail_queue)
            .where(mail_queue.c.organization_id == org)
            .order_by(mail_queue.c.appointment_id, mail_queue.c.kind)
        )
        return list(rows)


async def _row(stack: Stack, org: str, appointment_id: str, kind: str) -> Any:
    return next(
        (
            r
            for r in await _queue(stack, org)
            if (r.appointment_id, r.kind) == (appointment_id, kind)
        ),
        None,
    )


async def _processed(stack: Stack, event_ids: list[str]) -> bool:
    async with stack.db.read() as session:
        found = await session.execute(
            select(processed_events.c.event_id).where(
                processed_events.c.consumer == MAILS_DURABLE,
                processed_events.c.event_id.in_(event_ids),
            )
        )
        return len(found.all()) == len(event_ids)


async def _booked_event_ids(stack: Stack, org: str) -> list[str]:
    async with stack.db.read(organization_id=org) as session:
        rows = await session.execute(
            select(outbox.c.id).where(
                outbox.c.organization_id == org, outbox.c.type == APPOINTMENT_BOOKED.name
            )
        )
        return [r.id for r in rows]


async def _due_now(stack: Stack, org: str, appointment_id: str, kind: str) -> None:
    """Let time pass for one mail: it is due now."""
    now = utcnow()
    async with stack.db.write(organization_id=org) as session:
        await session.execute(
            update(mail_queue)
            .where(
                mail_queue.c.organization_id == org,
                mail_queue.c.appointment_id == appointment_id,
                mail_queue.c.kind == kind,
            )
            .values(due_at=now, next_attempt_at=now)
        )


async def _quiet() -> None:
    """Long enough for the sender to have sent anything it was going to (many polls)."""
    await asyncio.sleep(20 * float(POLL))


# -- R15: one confirmation, one reminder, never twice ----------------------------------------


async def test_R15_a_booking_sends_one_confirmation_whatever_the_redeliveries(
    stack: Stack, smtp: SmtpServer
) -> None:
    salon = await _salon(stack)
    start = _at(_monday(), "10:30")

    appointment = await _book(stack, salon, start)

    async def confirmation() -> list[EmailMessage]:
        return smtp.inbox.to(salon.email)

    [mail] = await _eventually(confirmation)
    assert mail["Subject"].startswith("Your appointment on ")
    assert "Ann Peeters" in str(mail["To"]) and salon.email in str(mail["To"])
    assert str(mail["From"]) == "Salon Belle <no-reply@belle.test>"
    assert mail["Message-ID"] == f"<{appointment.id}.confirmation@belle.test>"
    body = mail.get_content()
    day = _monday()
    # In the establishment's timezone (Tokyo), not UTC, not the server's.
    assert "Balayage" in body and "10:30 - 11:30" in body and str(day.day) in body
    assert "Hello Ann," in body and "Salon Belle" in body

    # The same event again (a redelivery: the processed-events table), then the same
    # booking in a new event (a re-publish: the queue's unique key).
    [original] = await _booked_event_ids(stack, salon.org)
    again = events_pb2.AppointmentBooked(appointment=appointment)
    await _publish(
        stack, APPOINTMENT_BOOKED, salon.org, salon.est, again, original, msg_id=new_id()
    )
    republished = await _publish(stack, APPOINTMENT_BOOKED, salon.org, salon.est, again)
    await _eventually(lambda: _processed(stack, [original, republished]))
    await _quiet()

    assert len(smtp.inbox.to(salon.email)) == 1
    rows = await _queue(stack, salon.org)
    assert [(r.kind, r.status) for r in rows] == [("confirmation", "sent"), ("reminder", "pending")]
    confirmation_row, reminder_row = rows
    assert confirmation_row.attempts == 0 and confirmation_row.sent_at is not None
    assert confirmation_row.recipient == salon.email
    assert reminder_row.due_at == start - timedelta(hours=24)


async def test_R15_the_reminder_is_sent_when_due_and_only_then(
    stack: Stack, smtp: SmtpServer
) -> None:
    """A booking 1 hour and 3 seconds ahead with reminders 1 hour before: the confirmation
    at once, the reminder 3 seconds later, each once. (Published as the booking event, so
    that no opening hours depend on the time of day the test runs.)"""
    salon = await _salon(stack)
    await stack.booking.SetMailSettings(
        booking_pb2.MailSettings(enabled=True, reminder_hours=1),
        metadata=salon.md(Role.OWNER),
        timeout=5,
    )
    start = (utcnow() + timedelta(hours=1, seconds=3)).replace(microsecond=0)
    appointment = booking_pb2.Appointment(
        id=new_id(),
        establishment_id=salon.est,
        client_id=salon.client,
        service_id=salon.service,
        staff_id=salon.staff,
        start=_ts(start),
        end=_ts(start + timedelta(hours=1)),
        status=booking_pb2.APPOINTMENT_STATUS_BOOKED,
    )
    published = clock.monotonic()
    await _publish(
        stack,
        APPOINTMENT_BOOKED,
        salon.org,
        salon.est,
        events_pb2.AppointmentBooked(appointment=appointment),
    )

    async def both() -> bool:
        return len(smtp.inbox.to(salon.email)) >= 2

    await _eventually(both)
    await _quiet()

    arrived = [(t, m) for t, m in smtp.inbox.received if salon.email in str(m["To"])]
    assert len(arrived) == 2
    (_t1, confirmation), (t2, reminder) = arrived
    assert confirmation["Subject"].startswith("Your appointment")
    assert reminder["Subject"].startswith("Reminder: your appointment")
    assert reminder["Message-ID"] == f"<{appointment.id}.reminder@belle.test>"
    local = start.astimezone(TOKYO).strftime("%H:%M")
    assert "  Balayage" in reminder.get_content() and local in reminder.get_content()
    # Not before it was due (3 s after the booking event, less the start's rounding).
    assert t2 - published >= 1.5
    rows = await _queue(stack, salon.org)
    assert [(r.kind, r.status) for r in rows] == [("confirmation", "sent"), ("reminder", "sent")]


async def test_R15_a_reminder_goes_once_and_a_cancelled_appointment_gets_none(
    stack: Stack, smtp: SmtpServer
) -> None:
    salon = await _salon(stack)
    kept = await _book(stack, salon, _at(_monday(), "09:00"))
    cancelled = await _book(stack, salon, _at(_monday(), "15:00"))

    async def both_confirmed() -> bool:
        return len(smtp.inbox.to(salon.email)) == 2

    await _eventually(both_confirmed)

    await stack.booking.CancelAppointment(
        booking_pb2.CancelAppointmentRequest(id=cancelled.id), metadata=salon.md(), timeout=5
    )

    async def reminder_cancelled() -> bool:
        row = await _row(stack, salon.org, cancelled.id, "reminder")
        return row.status == "cancelled"

    await _eventually(reminder_cancelled)
    # Both reminders' time comes.
    await _due_now(stack, salon.org, kept.id, "reminder")
    await _due_now(stack, salon.org, cancelled.id, "reminder")

    async def kept_reminded() -> bool:
        return any(m["Subject"].startswith("Reminder") for m in smtp.inbox.to(salon.email))

    await _eventually(kept_reminded)
    await _quiet()

    message_ids = sorted(m["Message-ID"] for m in smtp.inbox.to(salon.email))
    assert message_ids == sorted(
        f"<{a}@belle.test>"
        for a in (f"{kept.id}.confirmation", f"{kept.id}.reminder", f"{cancelled.id}.confirmation")
    )
    row = await _row(stack, salon.org, cancelled.id, "reminder")
    assert (row.status, row.sent_at, row.last_error) == (
        "cancelled",
        None,
        "the appointment was cancelled",
    )


# -- R15: one switch for the whole organization ----------------------------------------------


async def test_R15_mails_off_for_the_organization_nothing_is_queued_in_any_establishment(
    stack: Stack, smtp: SmtpServer
) -> None:
    salon = await _salon(stack)
    other_est, other_staff = _id(), _id()
    await _establishment(stack, salon.org, other_est, other_staff)
    assert await stack.booking.GetMailSettings(
        booking_pb2.GetMailSettingsRequest(), metadata=salon.md(), timeout=5
    ) == booking_pb2.MailSettings(enabled=True, reminder_hours=24)

    # Switched off from the first establishment...
    await stack.booking.SetMailSettings(
        booking_pb2.MailSettings(enabled=False, reminder_hours=48),
        metadata=salon.md(Role.OWNER),
        timeout=5,
    )
    # ...it is off in the other one too: one setting for the organization.
    assert await stack.booking.GetMailSettings(
        booking_pb2.GetMailSettingsRequest(), metadata=_md(salon.org, other_est), timeout=5
    ) == booking_pb2.MailSettings(enabled=False, reminder_hours=48)
    await _book(stack, salon, _at(_monday(), "10:00"))
    await _book(stack, salon, _at(_monday(), "12:00"), _md(salon.org, other_est))
    booked = await _booked_event_ids(stack, salon.org)
    assert len(booked) == 2
    await _eventually(lambda: _processed(stack, booked))
    await _quiet()

    assert await _queue(stack, salon.org) == []
    assert smtp.inbox.to(salon.email) == []

    # Back on, from the other establishment: bookings in either one are mailed again.
    await stack.booking.SetMailSettings(
        booking_pb2.MailSettings(enabled=True, reminder_hours=48),
        metadata=_md(salon.org, other_est, Role.OWNER),
        timeout=5,
    )
    appointment = await _book(stack, salon, _at(_monday(), "16:00"))

    async def confirmation() -> list[EmailMessage]:
        return smtp.inbox.to(salon.email)

    [mail] = await _eventually(confirmation)
    assert mail["Message-ID"] == f"<{appointment.id}.confirmation@belle.test>"
    reminder = await _row(stack, salon.org, appointment.id, "reminder")
    assert reminder.due_at == _at(_monday(), "16:00") - timedelta(hours=48)


async def test_R15_only_the_owner_sets_the_mail_settings_within_bounds(stack: Stack) -> None:
    org, est = _id(), _id()
    for role in (Role.MANAGER, Role.STAFF):
        refused = await _error(
            stack.booking.SetMailSettings(
                booking_pb2.MailSettings(enabled=False, reminder_hours=24),
                metadata=_md(org, est, role),
                timeout=5,
            )
        )
        assert refused.code is ErrorCode.FORBIDDEN
    for hours in (0, -1, 169):
        bad = await _error(
            stack.booking.SetMailSettings(
                booking_pb2.MailSettings(enabled=True, reminder_hours=hours),
                metadata=_md(org, est, Role.OWNER),
                timeout=5,
            )
        )
        assert (bad.code, bad.field) == (ErrorCode.INVALID, "reminderHours")
    # Nothing was written: still the defaults.
    assert await stack.booking.GetMailSettings(
        booking_pb2.GetMailSettingsRequest(), metadata=_md(org, est), timeout=5
    ) == booking_pb2.MailSettings(enabled=True, reminder_hours=24)
    for hours in (1, 168):
        saved = await stack.booking.SetMailSettings(
            booking_pb2.MailSettings(enabled=True, reminder_hours=hours),
            metadata=_md(org, est, Role.OWNER),
            timeout=5,
        )
        assert saved == booking_pb2.MailSettings(enabled=True, reminder_hours=hours)
    # Another organization keeps its own (the defaults).
    assert await stack.booking.GetMailSettings(
        booking_pb2.GetMailSettingsRequest(), metadata=_md(_id(), _id()), timeout=5
    ) == booking_pb2.MailSettings(enabled=True, reminder_hours=24)


# -- R15: not lost, never twice -----------------------------------------------------------------


async def test_R15_with_the_smtp_server_down_the_mail_waits_then_goes_once(
    stack: Stack, smtp: SmtpServer
) -> None:
    salon = await _salon(stack)
    smtp.stop()

    appointment = await _book(stack, salon, _at(_monday(), "11:00"))

    async def failed_once() -> Any:
        row = await _row(stack, salon.org, appointment.id, "confirmation")
        return row is not None and row.attempts >= 1 and row

    row = await _eventually(failed_once)
    assert row.status == "pending" and row.sent_at is None
    assert row.last_error and "SMTP" in row.last_error
    assert row.next_attempt_at > row.updated_at - timedelta(seconds=1)
    assert smtp.inbox.to(salon.email) == []

    smtp.start()  # the server is back, on the same port

    async def delivered() -> list[EmailMessage]:
        return smtp.inbox.to(salon.email)

    await _eventually(delivered)
    await _quiet()
    [mail] = smtp.inbox.to(salon.email)
    assert mail["Message-ID"] == f"<{appointment.id}.confirmation@belle.test>"
    row = await _row(stack, salon.org, appointment.id, "confirmation")
    assert row.status == "sent" and row.attempts >= 1 and row.claimed_until is None


async def test_R15_a_client_without_an_e_mail_address_gets_no_mail(
    stack: Stack, smtp: SmtpServer
) -> None:
    salon = await _salon(stack, email=None)
    appointment = await _book(stack, salon, _at(_monday(), "13:00"))

    async def settled() -> Any:
        row = await _row(stack, salon.org, appointment.id, "confirmation")
        return row is not None and row.status != "pending" and row

    row = await _eventually(settled)
    assert (row.status, row.last_error) == ("cancelled", "the client has no e-mail address")
    assert smtp.inbox.received == [] or all(
        appointment.id not in str(m["Message-ID"]) for _t, m in smtp.inbox.received
    )


async def test_R15_without_an_smtp_server_mails_land_in_the_mailbox_folder(
    mailbox_stack: Stack,
) -> None:
    stack = mailbox_stack
    salon = await _salon(stack)
    appointment = await _book(stack, salon, _at(_monday(), "17:45"))
    path = stack.mailbox / f"{appointment.id}-confirmation.eml"

    async def written() -> bool:
        return path.exists()

    await _eventually(written)

    mail = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(mail, EmailMessage)
    assert salon.email in str(mail["To"])
    assert "17:45 - 18:45" in mail.get_content()
    # Written whole: no temporary file left beside it, and the row says sent (marked just
    # after the file is in place: the sender writes first, then records it).
    assert sorted(p.name for p in stack.mailbox.iterdir()) == [path.name]

    async def sent() -> Any:
        row = await _row(stack, salon.org, appointment.id, "confirmation")
        return row is not None and row.status == "sent" and row

    await _eventually(sent)
