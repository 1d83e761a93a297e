"""The mail queue (R15) on real databases (SQLite, and PostgreSQL when TEST_DATABASE_URL is
set): what each appointment event queues, reschedules or cancels, the organization's
settings, and the sender's claim, raced the way two replicas would race it."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import select, update

from salon.booking.v1 import booking_pb2, events_pb2
from services.booking.mail import queue
from services.booking.mail.queue import (
    APPOINTMENT_BOOKED,
    APPOINTMENT_CANCELLED,
    APPOINTMENT_COMPLETED,
    APPOINTMENT_MOVED,
    OrganizationMailSettings,
)
from services.booking.service import SPEC
from services.booking.store.mail_tables import mail_queue
from services.common import migrations
from services.common.db import Database, new_id, utcnow
from services.common.errors import DomainError, ErrorCode
from services.common.events import Event, EventType

HOUR = timedelta(hours=1)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=20)
    await migrations.upgrade(database, SPEC.migrations)
    yield database
    await database.dispose()


def _id() -> str:
    return secrets.token_hex(16)


def _ts(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def _appointment(est: str, start: datetime, appointment_id: str = "") -> booking_pb2.Appointment:
    return booking_pb2.Appointment(
        id=appointment_id or _id(),
        establishment_id=est,
        client_id="c" * 32,
        service_id="s" * 32,
        staff_id="p" * 32,
        start=_ts(start),
        end=_ts(start + HOUR),
        status=booking_pb2.APPOINTMENT_STATUS_BOOKED,
    )


def _event(kind: EventType, org: str, est: str, message: Message) -> Event:
    return Event(
        id=new_id(),
        type=kind.name,
        source="/salon/booking",
        time=utcnow(),
        organization_id=org,
        establishment_id=est,
        actor_id=None,
        subject=kind.subject(org, est),
        data=message.SerializeToString(),
    )


async def _handle(db: Database, kind: EventType, org: str, appointment: Any) -> None:
    handler = {
        APPOINTMENT_BOOKED: (queue.on_booked, events_pb2.AppointmentBooked),
        APPOINTMENT_MOVED: (queue.on_moved, events_pb2.AppointmentMoved),
        APPOINTMENT_CANCELLED: (queue.on_cancelled, events_pb2.AppointmentCancelled),
        APPOINTMENT_COMPLETED: (queue.on_completed, events_pb2.AppointmentCompleted),
    }[kind]
    event = _event(kind, org, appointment.establishment_id, handler[1](appointment=appointment))
    # As the consumer runs it: under the event's organization.
    async with db.write(organization_id=event.organization_id) as session:
        await handler[0](session, event)


async def _rows(db: Database, org: str) -> dict[str, Any]:
    """The organization's queue by kind (one appointment per test)."""
    async with db.read(organization_id=org) as session:
        rows = await session.execute(select(mail_queue).where(mail_queue.c.organization_id == org))
        return {r.kind: r for r in rows}


async def _settings(db: Database, org: str, enabled: bool = True, hours: int = 24) -> None:
    async with db.write(organization_id=org) as session:
        await queue.save_settings(session, org, OrganizationMailSettings(enabled, hours))


def _close(a: datetime, b: datetime, seconds: float = 5) -> bool:
    return abs((a - b).total_seconds()) < seconds


# -- filling the queue ------------------------------------------------------------------------


async def test_R15_a_booking_queues_a_confirmation_now_and_a_reminder_before_it_once(
    db: Database,
) -> None:
    org, est = _id(), _id()
    start = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    appointment = _appointment(est, start)

    for _ in range(3):  # the event again, under new ids: still one of each
        await _handle(db, APPOINTMENT_BOOKED, org, appointment)

    rows = await _rows(db, org)
    assert sorted(rows) == ["confirmation", "reminder"]
    confirmation, reminder = rows["confirmation"], rows["reminder"]
    assert _close(confirmation.due_at, utcnow()) and confirmation.status == "pending"
    assert reminder.due_at == start - timedelta(hours=24) == reminder.next_attempt_at
    assert (reminder.establishment_id, reminder.starts_at, reminder.attempts) == (est, start, 0)
    assert reminder.recipient is None and reminder.claimed_until is None


async def test_R15_no_reminder_when_its_time_has_passed_and_nothing_for_the_past(
    db: Database,
) -> None:
    org, est = _id(), _id()
    soon = _appointment(est, utcnow() + timedelta(hours=5))
    await _handle(db, APPOINTMENT_BOOKED, org, soon)
    assert sorted(await _rows(db, org)) == ["confirmation"]

    past_org = _id()
    await _handle(db, APPOINTMENT_BOOKED, past_org, _appointment(est, utcnow() - HOUR))
    assert await _rows(db, past_org) == {}


async def test_R15_mails_off_nothing_is_queued(db: Database) -> None:
    org, est = _id(), _id()
    await _settings(db, org, enabled=False)
    await _handle(db, APPOINTMENT_BOOKED, org, _appointment(est, utcnow() + timedelta(days=2)))
    assert await _rows(db, org) == {}


async def test_R15_a_move_reschedules_the_same_reminder(db: Database) -> None:
    org, est = _id(), _id()
    start = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    appointment = _appointment(est, start)
    await _handle(db, APPOINTMENT_BOOKED, org, appointment)
    before = await _rows(db, org)

    later = start + timedelta(days=2)
    await _handle(db, APPOINTMENT_MOVED, org, _appointment(est, later, appointment.id))
    rows = await _rows(db, org)
    assert rows["reminder"].id == before["reminder"].id
    assert rows["reminder"].due_at == later - timedelta(hours=24)
    assert rows["reminder"].starts_at == later and rows["confirmation"].starts_at == later

    # Into the reminder's window: due at once (the client hears of the new time).
    soon = (utcnow() + timedelta(hours=3)).replace(microsecond=0)
    await _handle(db, APPOINTMENT_MOVED, org, _appointment(est, soon, appointment.id))
    rows = await _rows(db, org)
    assert _close(rows["reminder"].due_at, utcnow()) and rows["reminder"].status == "pending"

    # A reminder already sent is not sent again after another move.
    async with db.write(organization_id=org) as session:
        await queue.mark_sent(session, rows["reminder"].id, "a@b.c", "s", "b")
    await _handle(db, APPOINTMENT_MOVED, org, _appointment(est, later, appointment.id))
    rows = await _rows(db, org)
    assert rows["reminder"].status == "sent" and rows["reminder"].starts_at == soon


async def test_R15_a_move_out_of_the_window_brings_the_missing_reminder(db: Database) -> None:
    org, est = _id(), _id()
    appointment = _appointment(est, utcnow() + timedelta(hours=3))
    await _handle(db, APPOINTMENT_BOOKED, org, appointment)
    assert sorted(await _rows(db, org)) == ["confirmation"]

    later = (utcnow() + timedelta(days=4)).replace(microsecond=0)
    await _handle(db, APPOINTMENT_MOVED, org, _appointment(est, later, appointment.id))
    assert (await _rows(db, org))["reminder"].due_at == later - timedelta(hours=24)


@pytest.mark.parametrize("ending", [APPOINTMENT_CANCELLED, APPOINTMENT_COMPLETED])
async def test_R15_a_cancelled_or_completed_appointment_gets_nothing_more(
    db: Database, ending: EventType
) -> None:
    org, est = _id(), _id()
    appointment = _appointment(est, utcnow() + timedelta(days=2))
    await _handle(db, APPOINTMENT_BOOKED, org, appointment)
    rows = await _rows(db, org)
    async with db.write(organization_id=org) as session:
        await queue.mark_sent(session, rows["confirmation"].id, "a@b.c", "s", "b")

    await _handle(db, ending, org, appointment)
    await _handle(db, APPOINTMENT_BOOKED, org, appointment)  # late redelivery: no revival

    rows = await _rows(db, org)
    assert rows["confirmation"].status == "sent"
    assert rows["reminder"].status == "cancelled" and rows["reminder"].last_error


# -- the organization's settings ----------------------------------------------------------------


async def test_R15_settings_are_the_organization_s_with_defaults(db: Database) -> None:
    org = _id()
    async with db.read(organization_id=org) as session:
        assert await queue.get_settings(session, org) == OrganizationMailSettings(True, 24)
    await _settings(db, org, enabled=False, hours=3)
    await _settings(db, org, enabled=False, hours=5)  # an update, not a second row
    async with db.read(organization_id=org) as session:
        assert await queue.get_settings(session, org) == OrganizationMailSettings(False, 5)
        assert await queue.get_settings(session, _id()) == OrganizationMailSettings(True, 24)
    for hours in (0, 169):
        with pytest.raises(DomainError) as caught:
            queue.check_reminder_hours(hours)
        assert (caught.value.code, caught.value.field) == (ErrorCode.INVALID, "reminderHours")


async def test_R15_a_new_lead_time_reschedules_the_pending_reminders(db: Database) -> None:
    org, est = _id(), _id()
    start = (utcnow() + timedelta(days=5)).replace(microsecond=0)
    await _handle(db, APPOINTMENT_BOOKED, org, _appointment(est, start))

    await _settings(db, org, hours=48)

    assert (await _rows(db, org))["reminder"].due_at == start - timedelta(hours=48)


# -- the sender's claim -------------------------------------------------------------------------


async def _claim(db: Database, now: datetime | None = None) -> queue.QueuedMail | None:
    # As the sender claims: the next due mail of any organization.
    async with db.write(across_organizations=True) as session:
        return await queue.claim_next(session, now or utcnow(), timedelta(seconds=60))


async def test_R15_two_replicas_never_claim_one_mail(db: Database) -> None:
    """Forty due mails, eight claimers at once, each claiming until nothing is left: every
    mail is claimed exactly once (on PostgreSQL the claimers truly overlap)."""
    org, est = _id(), _id()
    for _ in range(20):
        await _handle(db, APPOINTMENT_BOOKED, org, _appointment(est, utcnow() + timedelta(days=2)))
    async with db.write(organization_id=org) as session:
        await session.execute(
            update(mail_queue)
            .where(mail_queue.c.organization_id == org)
            .values(due_at=utcnow(), next_attempt_at=utcnow())
        )

    async def claimer() -> list[str]:
        taken: list[str] = []
        while (mail := await _claim(db)) is not None:
            taken.append(mail.id)
        return taken

    results = await asyncio.gather(*(claimer() for _ in range(8)))

    claimed = [mail_id for taken in results for mail_id in taken]
    assert len(claimed) == len(set(claimed)) == 40
    # Claimed: nobody takes them again until the claim runs out.
    assert await _claim(db) is None
    assert await _claim(db, utcnow() + timedelta(seconds=61)) is not None


async def test_R15_a_failed_attempt_waits_longer_each_time_and_stays_pending(
    db: Database,
) -> None:
    org, est = _id(), _id()
    await _handle(db, APPOINTMENT_BOOKED, org, _appointment(est, utcnow() + timedelta(hours=2)))
    mail = await _claim(db)
    assert mail is not None and mail.kind.value == "confirmation"

    for attempt in (1, 2, 3):
        async with db.write(organization_id=org) as session:
            next_attempt = await queue.mark_failed(session, mail.id, "SMTPConnectError: down")
        assert _close(next_attempt, utcnow() + timedelta(seconds=2**attempt), 1)
        assert await _claim(db) is None  # not before its time
        mail = await _claim(db, next_attempt + timedelta(milliseconds=1))
        assert mail is not None and mail.attempts == attempt

    row = (await _rows(db, org))["confirmation"]
    assert (row.status, row.attempts, row.last_error) == ("pending", 3, "SMTPConnectError: down")
    assert [queue.backoff(n).total_seconds() for n in (1, 5, 8, 9, 50)] == [2, 32, 256, 300, 300]


async def test_B11_a_mail_on_its_way_when_its_client_is_erased_keeps_nothing_of_it(
    db: Database,
) -> None:
    """The sender claimed the confirmation; the erasure cancels and empties the client's
    mails; the SMTP server then accepts it: it is recorded as sent, with nothing of what it
    said (B11)."""
    from services.booking.store import privacy_repository

    org, est = _id(), _id()
    appointment = _appointment(est, utcnow() + timedelta(days=2))
    await _handle(db, APPOINTMENT_BOOKED, org, appointment)
    mail = await _claim(db)
    assert mail is not None and mail.kind is queue.MailKind.CONFIRMATION
    async with db.write(organization_id=org) as session:
        await privacy_repository.erase(session, org, mail.client_id)
    async with db.write(organization_id=org) as session:
        await queue.mark_sent(session, mail.id, "ann@example.com", "Your cut", "Dear Ann")
    async with db.read(organization_id=org) as session:
        row = (await session.execute(select(mail_queue).where(mail_queue.c.id == mail.id))).one()
    assert row.status == queue.MailStatus.SENT.value
    assert (row.recipient, row.subject, row.body) == (None, None, None)
    # A mail of another client, sent the same way, keeps what it said.
    other = _appointment(est, utcnow() + timedelta(days=3))
    await _handle(db, APPOINTMENT_BOOKED, org, other)
    kept = await _claim(db)
    assert kept is not None
    async with db.write(organization_id=org) as session:
        await queue.mark_sent(session, kept.id, "bob@example.com", "Your cut", "Dear Bob")
    async with db.read(organization_id=org) as session:
        row = (await session.execute(select(mail_queue).where(mail_queue.c.id == kept.id))).one()
    assert (row.recipient, row.status) == ("bob@example.com", queue.MailStatus.SENT.value)
