"""B11 in the booking service: what it holds about one client, and the erasure of its
copies. Every statement filters on the organization."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.booking.mail.queue import ERASED_REASON, MailStatus
from services.booking.store.mail_tables import mail_queue
from services.booking.store.tables import appointments, manage_tokens
from services.common.db import utcnow


async def export(session: AsyncConnection, organization_id: str, client_id: str) -> dict[str, Any]:
    """The client's appointments, the mails about them and whether a manage link exists
    (never the token: only its hash is stored anyway); {} when there is nothing."""
    rows = (
        await session.execute(
            select(appointments)
            .where(
                appointments.c.organization_id == organization_id,
                appointments.c.client_id == client_id,
            )
            .order_by(appointments.c.start_at, appointments.c.id)
        )
    ).all()
    mails = (
        await session.execute(
            select(mail_queue)
            .where(
                mail_queue.c.organization_id == organization_id,
                mail_queue.c.client_id == client_id,
            )
            .order_by(mail_queue.c.created_at, mail_queue.c.id)
        )
    ).all()
    tokens = (
        await session.execute(
            select(manage_tokens.c.establishment_id, manage_tokens.c.created_at)
            .where(
                manage_tokens.c.organization_id == organization_id,
                manage_tokens.c.client_id == client_id,
            )
            .order_by(manage_tokens.c.establishment_id)
        )
    ).all()
    data: dict[str, Any] = {}
    if rows:
        data["appointments"] = [
            {
                "id": a.id,
                "establishmentId": a.establishment_id,
                "serviceId": a.service_id,
                "staffId": a.staff_id,
                "start": a.start_at,
                "end": a.end_at,
                "status": a.status,
                "createdAt": a.created_at,
                "updatedAt": a.updated_at,
            }
            for a in rows
        ]
    if mails:
        data["mails"] = [
            {
                "id": m.id,
                "appointmentId": m.appointment_id,
                "establishmentId": m.establishment_id,
                "kind": m.kind,
                "recipient": m.recipient,
                "subject": m.subject,
                "body": m.body,
                "status": m.status,
                "dueAt": m.due_at,
                "sentAt": m.sent_at,
                "createdAt": m.created_at,
                "updatedAt": m.updated_at,
            }
            for m in mails
        ]
    if tokens:
        # A manage link has no expiry of its own: it works until a new booking replaces it.
        data["manageLinks"] = [
            {"establishmentId": t.establishment_id, "createdAt": t.created_at, "expiresAt": None}
            for t in tokens
        ]
    return data


async def erase(session: AsyncConnection, organization_id: str, client_id: str) -> None:
    """Anonymise the booking service's copies of the client, in the consumer's transaction:
    the rendered recipient, subject and body of every mail are dropped, pending mails are
    cancelled, manage links are revoked. Appointments keep their ids (no personal data).
    Idempotent: a second run changes nothing that matters."""
    now = utcnow()
    of_client = (
        mail_queue.c.organization_id == organization_id,
        mail_queue.c.client_id == client_id,
    )
    await session.execute(
        update(mail_queue)
        .where(*of_client, mail_queue.c.status == MailStatus.PENDING.value)
        .values(
            status=MailStatus.CANCELLED.value,
            last_error=ERASED_REASON,
            claimed_until=None,
            updated_at=now,
        )
    )
    await session.execute(
        update(mail_queue)
        .where(
            *of_client,
            (mail_queue.c.recipient.is_not(None))
            | (mail_queue.c.subject.is_not(None))
            | (mail_queue.c.body.is_not(None)),
        )
        .values(recipient=None, subject=None, body=None, updated_at=now)
    )
    await session.execute(
        delete(manage_tokens).where(
            manage_tokens.c.organization_id == organization_id,
            manage_tokens.c.client_id == client_id,
        )
    )
