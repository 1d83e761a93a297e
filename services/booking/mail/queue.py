"""The queue of mails owed for future appointments (R15), and the events that fill it.

One durable consumer, "booking-mails", follows the appointments of every organization and
establishment (R15: mails come from all establishments; one switch per organization):

- booked: when the organization's mails are on and the appointment is still ahead, a
  confirmation due now and a reminder due `reminder_hours` before the start (none when that
  moment has already passed: the confirmation has just said it all).
- moved: the pending mails follow the new time; the reminder is due `reminder_hours` before
  the new start, or at once when that is already past (the client hears of the new time).
  Still the same row: a reminder already sent is not sent again.
- cancelled / completed: whatever is still pending is cancelled.

The handlers only write this service's tables (they run inside the transaction that records
the event id, on SQLite while holding the one writer): who the client is, what the service
is called and the wording are settled by the sender when it sends (mail/sender.py), away
from any transaction, and retried there as long as needed. A mail is never queued twice for
one appointment: UNIQUE (organization_id, appointment_id, kind) and INSERT ... ON CONFLICT
DO NOTHING, whatever the redeliveries.

A row goes from pending to sent or to cancelled, never back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from salon.booking.v1 import booking_pb2, events_pb2
from services.booking.mail.rendering import MailKind
from services.booking.store import merge_repository
from services.booking.store.mail_tables import mail_queue, mail_settings
from services.common.consumer import EventConsumer, Handler
from services.common.db import insert_ignore, new_id, utcnow
from services.common.errors import invalid
from services.common.events import Event, EventType
from services.common.mail import backoff
from services.common.runtime import ServiceContext

MAILS_DURABLE = "booking-mails"

APPOINTMENT_BOOKED = EventType("booking", "appointment", "booked")
APPOINTMENT_MOVED = EventType("booking", "appointment", "moved")
APPOINTMENT_CANCELLED = EventType("booking", "appointment", "cancelled")
APPOINTMENT_COMPLETED = EventType("booking", "appointment", "completed")

DEFAULT_ENABLED = True
DEFAULT_REMINDER_HOURS = 24
MIN_REMINDER_HOURS = 1
MAX_REMINDER_HOURS = 168
_ERROR_LENGTH = 500


class MailStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    CANCELLED = "cancelled"


# -- the organization's settings (R15) --------------------------------------------------


@dataclass(frozen=True)
class OrganizationMailSettings:
    enabled: bool = DEFAULT_ENABLED
    reminder_hours: int = DEFAULT_REMINDER_HOURS

    @property
    def reminder_lead(self) -> timedelta:
        return timedelta(hours=self.reminder_hours)


def check_reminder_hours(hours: int) -> int:
    if not MIN_REMINDER_HOURS <= hours <= MAX_REMINDER_HOURS:
        raise invalid(
            "reminderHours",
            f"the reminder goes {MIN_REMINDER_HOURS} to {MAX_REMINDER_HOURS} hours "
            "before the appointment",
        )
    return hours


async def get_settings(conn: AsyncConnection, organization_id: str) -> OrganizationMailSettings:
    """The organization's settings; the defaults (on, 24 hours) until the owner sets them."""
    row = (
        await conn.execute(
            select(mail_settings.c.enabled, mail_settings.c.reminder_hours).where(
                mail_settings.c.organization_id == organization_id
            )
        )
    ).first()
    if row is None:
        return OrganizationMailSettings()
    return OrganizationMailSettings(enabled=bool(row.enabled), reminder_hours=row.reminder_hours)


async def save_settings(
    conn: AsyncConnection, organization_id: str, settings: OrganizationMailSettings
) -> None:
    """One row for the whole organization (R15), in the caller's write transaction. The
    pending reminders follow a new lead time at once."""
    previous = await get_settings(conn, organization_id)
    now = utcnow()
    values = {
        "organization_id": organization_id,
        "enabled": settings.enabled,
        "reminder_hours": settings.reminder_hours,
        "updated_at": now,
    }
    stmt: Any = (
        postgresql.insert(mail_settings)
        if conn.dialect.name == "postgresql"
        else sqlite.insert(mail_settings)
    )
    stmt = stmt.values(**values)
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[mail_settings.c.organization_id],
            set_={k: stmt.excluded[k] for k in ("enabled", "reminder_hours", "updated_at")},
        )
    )
    if previous.reminder_hours != settings.reminder_hours:
        pending = await conn.execute(
            select(mail_queue.c.id, mail_queue.c.starts_at).where(
                mail_queue.c.organization_id == organization_id,
                mail_queue.c.kind == MailKind.REMINDER.value,
                mail_queue.c.status == MailStatus.PENDING.value,
            )
        )
        for row in pending.all():
            due = max(row.starts_at - settings.reminder_lead, now)
            await conn.execute(
                update(mail_queue)
                .where(mail_queue.c.id == row.id)
                .values(due_at=due, next_attempt_at=due, updated_at=now)
            )


# -- filling the queue from the appointment events -----------------------------------------


@dataclass(frozen=True)
class AppointmentFacts:
    """What an appointment event says that the mails need."""

    id: str
    establishment_id: str
    client_id: str
    service_id: str
    start: datetime
    end: datetime

    @classmethod
    def from_proto(cls, event: Event, appointment: booking_pb2.Appointment) -> AppointmentFacts:
        return cls(
            id=appointment.id,
            establishment_id=appointment.establishment_id or event.establishment_id or "",
            client_id=appointment.client_id,
            service_id=appointment.service_id,
            start=_instant(appointment.start),
            end=_instant(appointment.end),
        )


def _instant(ts: Timestamp) -> datetime:
    return ts.ToDatetime(tzinfo=UTC)


async def enqueue(
    conn: AsyncConnection,
    organization_id: str,
    appointment: AppointmentFacts,
    kind: MailKind,
    due: datetime,
) -> bool:
    """Queue one mail; False when this appointment already has one of this kind (whatever
    its status): never twice."""
    now = utcnow()
    # B07: an appointment event told before a merge of its client lands on the kept record.
    client_id = await merge_repository.resolve(conn, organization_id, appointment.client_id)
    return await insert_ignore(
        conn,
        mail_queue,
        {
            "id": new_id(),
            "organization_id": organization_id,
            "establishment_id": appointment.establishment_id,
            "appointment_id": appointment.id,
            "kind": kind.value,
            "client_id": client_id,
            "service_id": appointment.service_id,
            "starts_at": appointment.start,
            "ends_at": appointment.end,
            "due_at": due,
            "status": MailStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": due,
            "created_at": now,
            "updated_at": now,
        },
    )


def _of(organization_id: str, appointment_id: str) -> Any:
    return and_(
        mail_queue.c.organization_id == organization_id,
        mail_queue.c.appointment_id == appointment_id,
    )


async def cancel_pending(
    conn: AsyncConnection, organization_id: str, appointment_id: str, reason: str
) -> int:
    """Cancel what this appointment still has pending; the number of mails cancelled."""
    result = await conn.execute(
        update(mail_queue)
        .where(
            _of(organization_id, appointment_id),
            mail_queue.c.status == MailStatus.PENDING.value,
        )
        .values(status=MailStatus.CANCELLED.value, last_error=reason, updated_at=utcnow())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def on_booked(conn: AsyncConnection, event: Event) -> None:
    appointment = AppointmentFacts.from_proto(
        event, event.parse(events_pb2.AppointmentBooked).appointment
    )
    now = utcnow()
    if not appointment.id or appointment.start <= now:
        return
    settings = await get_settings(conn, event.organization_id)
    if not settings.enabled:
        return
    await enqueue(conn, event.organization_id, appointment, MailKind.CONFIRMATION, now)
    reminder_due = appointment.start - settings.reminder_lead
    if reminder_due > now:
        await enqueue(conn, event.organization_id, appointment, MailKind.REMINDER, reminder_due)


async def on_moved(conn: AsyncConnection, event: Event) -> None:
    org = event.organization_id
    appointment = AppointmentFacts.from_proto(
        event, event.parse(events_pb2.AppointmentMoved).appointment
    )
    if not appointment.id:
        return
    now = utcnow()
    if appointment.start <= now:
        await cancel_pending(conn, org, appointment.id, "the appointment was moved to the past")
        return
    await conn.execute(
        update(mail_queue)
        .where(_of(org, appointment.id), mail_queue.c.status == MailStatus.PENDING.value)
        .values(
            client_id=await merge_repository.resolve(conn, org, appointment.client_id),
            service_id=appointment.service_id,
            starts_at=appointment.start,
            ends_at=appointment.end,
            updated_at=now,
        )
    )
    settings = await get_settings(conn, org)
    due = max(appointment.start - settings.reminder_lead, now)
    reminder = (
        await conn.execute(
            select(mail_queue.c.id, mail_queue.c.status).where(
                _of(org, appointment.id), mail_queue.c.kind == MailKind.REMINDER.value
            )
        )
    ).first()
    if reminder is None:
        if settings.enabled:
            await enqueue(conn, org, appointment, MailKind.REMINDER, due)
    elif reminder.status == MailStatus.PENDING.value:
        await conn.execute(
            update(mail_queue)
            .where(mail_queue.c.id == reminder.id)
            .values(due_at=due, next_attempt_at=due, updated_at=now)
        )


def _on_finished(message_type: Any, reason: str) -> Handler:
    async def handle(conn: AsyncConnection, event: Event) -> None:
        appointment = event.parse(message_type).appointment
        if appointment.id:
            await cancel_pending(conn, event.organization_id, appointment.id, reason)

    return handle


on_cancelled = _on_finished(events_pb2.AppointmentCancelled, "the appointment was cancelled")
on_completed = _on_finished(events_pb2.AppointmentCompleted, "the appointment took place")


def mail_consumers(ctx: ServiceContext) -> list[EventConsumer]:
    """The "booking-mails" consumer, on the appointments of every organization."""
    assert ctx.js is not None
    handlers: dict[str, tuple[str, Handler]] = {
        kind.name: (kind.filter(), handler)
        for kind, handler in (
            (APPOINTMENT_BOOKED, on_booked),
            (APPOINTMENT_MOVED, on_moved),
            (APPOINTMENT_CANCELLED, on_cancelled),
            (APPOINTMENT_COMPLETED, on_completed),
        )
    }
    return [
        EventConsumer(
            ctx.js,
            ctx.db,
            ctx.processed,
            stream=ctx.settings.events_stream,
            durable=MAILS_DURABLE,
            handlers=handlers,
        )
    ]


# -- the sender's side ----------------------------------------------------------------------


@dataclass(frozen=True)
class QueuedMail:
    id: str
    organization_id: str
    establishment_id: str
    appointment_id: str
    kind: MailKind
    client_id: str
    service_id: str
    starts_at: datetime
    ends_at: datetime
    attempts: int

    @classmethod
    def from_row(cls, row: Any) -> QueuedMail:
        return cls(
            id=row.id,
            organization_id=row.organization_id,
            establishment_id=row.establishment_id,
            appointment_id=row.appointment_id,
            kind=MailKind(row.kind),
            client_id=row.client_id,
            service_id=row.service_id,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            attempts=row.attempts,
        )


def _takeable(now: datetime) -> Any:
    """Pending, due, and claimed by no one (or by someone whose claim ran out)."""
    return and_(
        mail_queue.c.status == MailStatus.PENDING.value,
        mail_queue.c.due_at <= now,
        mail_queue.c.next_attempt_at <= now,
        or_(mail_queue.c.claimed_until.is_(None), mail_queue.c.claimed_until < now),
    )


async def anything_due(conn: AsyncConnection, now: datetime) -> bool:
    """A read, so that an idle sender does not open a write transaction at every poll (on
    SQLite that would take the one writer)."""
    found = await conn.execute(select(mail_queue.c.id).where(_takeable(now)).limit(1))
    return found.first() is not None


async def claim_next(conn: AsyncConnection, now: datetime, hold: timedelta) -> QueuedMail | None:
    """Take the next due mail for `hold`, in the caller's write transaction; None when
    nothing is due. The claim is a conditional UPDATE: of two replicas that pick the same
    row one changes it, the other changes nothing and gets None (on PostgreSQL, READ
    COMMITTED re-checks the condition after waiting for the row; SKIP LOCKED lets it pick
    another row rather than wait). Until the claim runs out no one else takes the mail."""
    due = _takeable(now)
    pick = select(mail_queue.c.id).where(due).order_by(mail_queue.c.next_attempt_at).limit(1)
    if conn.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    mail_id = (await conn.execute(pick)).scalar_one_or_none()
    if mail_id is None:
        return None
    row = (
        await conn.execute(
            update(mail_queue)
            .where(mail_queue.c.id == mail_id, due)
            .values(claimed_until=now + hold)
            .returning(*mail_queue.c)
        )
    ).first()
    return None if row is None else QueuedMail.from_row(row)


# Why a mail was cancelled, and kept empty, when its client was erased (B11).
ERASED_REASON = "client erased (B11)"


async def mark_sent(
    conn: AsyncConnection, mail_id: str, recipient: str, subject: str, body: str
) -> None:
    """The server accepted it. Whatever happened to the row meanwhile, it was sent; but
    when the client was erased while it was on its way (B11), what it said is not kept."""
    now = utcnow()
    erased = mail_queue.c.last_error == ERASED_REASON
    await conn.execute(
        update(mail_queue)
        .where(mail_queue.c.id == mail_id)
        .values(
            status=MailStatus.SENT.value,
            recipient=case((erased, None), else_=recipient),
            subject=case((erased, None), else_=subject),
            body=case((erased, None), else_=body),
            sent_at=now,
            claimed_until=None,
            last_error=case((erased, ERASED_REASON), else_=None),
            updated_at=now,
        )
    )


async def mark_failed(
    conn: AsyncConnection,
    mail_id: str,
    error: str,
    rendered: tuple[str, str, str] | None = None,
) -> datetime:
    """One more failed attempt: tried again after the backoff; the next attempt's time."""
    now = utcnow()
    attempts = (
        await conn.execute(select(mail_queue.c.attempts).where(mail_queue.c.id == mail_id))
    ).scalar_one() + 1
    next_attempt = now + backoff(attempts)
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_error": error[:_ERROR_LENGTH],
        "next_attempt_at": next_attempt,
        "claimed_until": None,
        "updated_at": now,
    }
    if rendered is not None:
        values["recipient"], values["subject"], values["body"] = rendered
    await conn.execute(update(mail_queue).where(mail_queue.c.id == mail_id).values(**values))
    return next_attempt


async def mark_cancelled(conn: AsyncConnection, mail_id: str, reason: str) -> None:
    """Not to be sent after all (the appointment is over or gone, the mails are off, the
    client has no address...). Only a pending mail: one sent meanwhile stays sent."""
    await conn.execute(
        update(mail_queue)
        .where(mail_queue.c.id == mail_id, mail_queue.c.status == MailStatus.PENDING.value)
        .values(
            status=MailStatus.CANCELLED.value,
            last_error=reason[:_ERROR_LENGTH],
            claimed_until=None,
            updated_at=utcnow(),
        )
    )
