"""The mail sender worker (R15) on a real database, with the look-ups of the client and the
service replaced by a fixed answer and a transport the test controls: a stop lets the mail
in flight finish and be recorded; a failed send stays pending; the mailbox transport writes
whole files."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import select

from salon.booking.v1 import booking_pb2, events_pb2
from services.booking.mail import queue
from services.booking.mail.rendering import Appointment, render
from services.booking.mail.sender import MailboxTransport, MailSender, Ready, Skip
from services.booking.service import SPEC
from services.booking.settings import MailerSettings
from services.booking.store.mail_tables import mail_queue
from services.booking.store.tables import outbox, processed_events
from services.common import migrations
from services.common.db import Database, new_id, utcnow
from services.common.events import Event
from services.common.runtime import ServiceContext
from services.common.scope import ScopeSigner
from services.common.settings import ServiceSettings


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await migrations.upgrade(database, SPEC.migrations)
    yield database
    await database.dispose()


class Transport:
    """Sends after `delay`, or fails while `down`."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.down = False
        self.started = asyncio.Event()
        self.sent: list[EmailMessage] = []

    async def send(self, mail: EmailMessage, name: str) -> None:
        self.started.set()
        await asyncio.sleep(self.delay)
        if self.down:
            raise ConnectionRefusedError("the SMTP server is down")
        self.sent.append(mail)


class Sender(MailSender):
    """The real worker, answering for the client file and the catalogue."""

    async def _prepare(self, mail: queue.QueuedMail) -> Skip | Ready:
        appointment = Appointment("Cut", mail.starts_at, mail.ends_at, ZoneInfo("Europe/Brussels"))
        return Ready("ann@example.com", "Ann", render(mail.kind, "Ann", appointment, "Salon"))


def _sender(db: Database, transport: Transport) -> Sender:
    ctx = ServiceContext(
        "booking",
        ServiceSettings(database_url=db.url, scope_secret="s" * 40),
        db,
        outbox,
        processed_events,
        signer=ScopeSigner([b"s" * 40]),
    )
    return Sender(ctx, MailerSettings(smtp_host="", mail_poll_seconds=0.02), transport)


def _ts(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


async def _book(db: Database, org: str) -> str:
    """A booking 2 hours ahead: a confirmation due now (no reminder: its time has passed)."""
    start = utcnow() + timedelta(hours=2)
    appointment = booking_pb2.Appointment(
        id=secrets.token_hex(16),
        establishment_id="e" * 32,
        client_id="c" * 32,
        service_id="s" * 32,
        start=_ts(start),
        end=_ts(start + timedelta(hours=1)),
    )
    kind = queue.APPOINTMENT_BOOKED
    event = Event(
        id=new_id(),
        type=kind.name,
        source="/salon/booking",
        time=utcnow(),
        organization_id=org,
        establishment_id=appointment.establishment_id,
        actor_id=None,
        subject=kind.subject(org, appointment.establishment_id),
        data=events_pb2.AppointmentBooked(appointment=appointment).SerializeToString(),
    )
    async with db.write(organization_id=org) as session:
        await queue.on_booked(session, event)
    return appointment.id


async def _row(db: Database, org: str) -> Any:
    async with db.read(organization_id=org) as session:
        return (
            await session.execute(select(mail_queue).where(mail_queue.c.organization_id == org))
        ).one()


async def test_R15_a_stop_lets_the_mail_in_flight_finish_and_records_it(db: Database) -> None:
    org = secrets.token_hex(16)
    await _book(db, org)
    transport = Transport(delay=0.5)
    sender = _sender(db, transport)
    sender.start()
    await asyncio.wait_for(transport.started.wait(), timeout=10)

    await sender.stop()  # while the server is still taking it

    assert len(transport.sent) == 1
    row = await _row(db, org)
    assert (row.status, row.attempts, row.claimed_until) == ("sent", 0, None)
    assert row.recipient == "ann@example.com" and row.subject.startswith("Your appointment")


async def test_R15_a_failed_send_stays_pending_then_goes_once(db: Database) -> None:
    org = secrets.token_hex(16)
    await _book(db, org)
    transport = Transport()
    transport.down = True
    sender = _sender(db, transport)

    assert await sender.send_next() is True
    row = await _row(db, org)
    assert (row.status, row.attempts, row.claimed_until) == ("pending", 1, None)
    assert "ConnectionRefusedError" in row.last_error and transport.sent == []
    assert await sender.send_next() is False  # not before its next attempt

    transport.down = False
    assert await sender.send_next() is False
    sender.start()  # the worker's loop, once the next attempt is due (2 s)
    try:
        for _ in range(200):
            if (await _row(db, org)).status == "sent":
                break
            await asyncio.sleep(0.05)
    finally:
        await sender.stop()
    row = await _row(db, org)
    assert (row.status, row.attempts, len(transport.sent)) == ("sent", 1, 1)


async def test_the_mailbox_transport_writes_whole_files(tmp_path: Path) -> None:
    mail = EmailMessage()
    mail["To"] = "ann@example.com"
    mail["Subject"] = "Hi"
    mail.set_content("Hello\n")
    folder = tmp_path / "mailbox" / "new"

    await MailboxTransport(folder).send(mail, "a1-confirmation")
    await MailboxTransport(folder).send(mail, "a1-confirmation")  # replaced, not duplicated

    assert [p.name for p in folder.iterdir()] == ["a1-confirmation.eml"]
    assert (folder / "a1-confirmation.eml").read_bytes() == bytes(mail)
