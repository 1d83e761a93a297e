"""The mail sender: a worker of the booking service that sends the queued mails when they
are due (R15).

Every MAIL_POLL_SECONDS it takes the due mails one by one. For each:

1. claim it (a write transaction sets ``claimed_until`` = now + CLAIM, only on a row that
   is pending, due and unclaimed or whose claim ran out): two replicas never send one mail
   at once, and a replica that dies mid-send leaves the mail to be retried once the claim
   runs out;
2. decide, outside any transaction, whether it still goes and what it says: the
   organization's switch (R15), the appointment still booked and ahead, the client's
   e-mail address and name (clients.GetClients), the service's name (catalog.GetServices),
   the establishment's timezone;
3. hand it to the shared mail path (services/common/mail.py): the SMTP server
   (aiosmtplib), or, without SMTP_HOST, ``MAILBOX_DIR/<appointment>-<kind>.eml`` (a
   temporary file renamed into place);
4. mark it sent only once the server accepted it. Any failure (server down, a peer down)
   counts an attempt and retries after 2, 4, 8... seconds, at most five minutes apart, for
   as long as the appointment is ahead: nothing is lost while the server is away. A
   recipient the server refuses for good (5xx) is not retried.

The one window for a second copy is a crash between the server's acceptance and the mark:
SMTP has no two-phase commit. The Message-ID is stable per (appointment, kind), so the
receiving side can tell the copy from a new mail.

A stop lets the mail in flight finish (the SMTP conversation is bounded by
SMTP_TIMEOUT_SECONDS, well under the claim).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from salon.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from salon.clients.v1 import clients_pb2, clients_pb2_grpc
from services.booking.domain import model
from services.booking.mail import queue
from services.booking.mail.rendering import Appointment, Rendered, message, render
from services.booking.settings import MailerSettings
from services.booking.store.tables import appointments, known_establishments
from services.common.db import utcnow

# The transport is the shared mail path's (services/common/mail.py); the names stay
# importable from here.
from services.common.mail import (
    MailboxTransport,
    Refused,
    SmtpTransport,
    Transport,
    transport_for,
)
from services.common.runtime import ServiceContext, Worker
from services.common.scope import Role, Scope, scope_context

__all__ = [
    "MailSender",
    "MailboxTransport",
    "Ready",
    "Refused",
    "Skip",
    "SmtpTransport",
    "Transport",
    "mail_workers",
    "transport_for",
]

log = logging.getLogger("salon.booking.mail")

# How long a claimed mail is this replica's; far longer than one send may take.
CLAIM = timedelta(seconds=60)
# The longest the checks and peer look-ups before a send may take; with the SMTP
# conversation (SMTP_TIMEOUT_SECONDS, at most 25, plus 5) well within CLAIM.
PREPARE_LIMIT = 15.0
# How many times the mark after a send is tried again before the claim is left to run out.
_MARK_TRIES = 5
_SAFE = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class Skip:
    """The mail is not to be sent (it is cancelled), and why."""

    reason: str


@dataclass(frozen=True)
class Ready:
    recipient: str
    recipient_name: str
    rendered: Rendered


class MailSender:
    def __init__(
        self,
        ctx: ServiceContext,
        settings: MailerSettings,
        transport: Transport | None = None,
    ) -> None:
        self.ctx = ctx
        self.settings = settings
        self.transport = transport or transport_for(settings)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._wake = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="booking-mail-sender")

    async def stop(self) -> None:
        """Finish the mail in flight, then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(
                asyncio.shield(self._task),
                timeout=PREPARE_LIMIT + self.settings.smtp_timeout_seconds + 10,
            )
        except TimeoutError:
            log.warning("mail sender did not stop in time; its claim runs out, then a retry")
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while not self._stopping:
            try:
                while not self._stopping and await self.send_next():
                    pass
            except Exception:
                log.exception("mail sender failed; trying again")
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.mail_poll_seconds)
            self._wake.clear()

    async def send_next(self) -> bool:
        """Claim and send one due mail; False when none is due."""
        if self.ctx.signer is None:  # the process is still starting
            return False
        # Across organizations: the scan looks for the next due mail of any organization
        # and claims it (one conditional UPDATE of its `claimed_until`, SKIP LOCKED so that
        # replicas take different mails). Everything after the claim, reading the
        # appointment and settings and recording the outcome, runs under the mail's own
        # organization.
        async with self.ctx.db.read(across_organizations=True) as session:
            if not await queue.anything_due(session, utcnow()):
                return False
        async with self.ctx.db.write(across_organizations=True) as session:
            mail = await queue.claim_next(session, utcnow(), CLAIM)
        if mail is None:
            return False
        await self._deliver(mail)
        return True

    async def _deliver(self, mail: queue.QueuedMail) -> None:
        ready: Ready | None = None
        try:
            decided = await asyncio.wait_for(self._prepare(mail), timeout=PREPARE_LIMIT)
            if isinstance(decided, Skip):
                await self._mark(mail, queue.mark_cancelled, mail.id, decided.reason)
                return
            ready = decided
            email = message(
                ready.rendered,
                sender=self.settings.mail_from,
                recipient=ready.recipient,
                recipient_name=ready.recipient_name,
                message_id=(
                    f"<{mail.appointment_id}.{mail.kind.value}@{self.settings.sender_domain}>"
                ),
                date=utcnow(),
            )
            name = f"{_SAFE.sub('_', mail.appointment_id)}-{mail.kind.value}"
            await asyncio.wait_for(
                self.transport.send(email, name), timeout=self.settings.smtp_timeout_seconds + 5
            )
        except Refused as exc:
            log.warning("mail %s refused for good: %s", mail.id, exc)
            await self._mark(mail, queue.mark_cancelled, mail.id, f"refused: {exc}")
            return
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            log.warning("mail %s not sent (attempt %s): %s", mail.id, mail.attempts + 1, reason)
            text = (
                None
                if ready is None
                else (ready.recipient, ready.rendered.subject, ready.rendered.body)
            )
            await self._mark(mail, queue.mark_failed, mail.id, reason, text)
            return
        assert ready is not None
        await self._mark(
            mail,
            queue.mark_sent,
            mail.id,
            ready.recipient,
            ready.rendered.subject,
            ready.rendered.body,
        )
        log.info("mail %s (%s) sent", mail.id, mail.kind.value)

    async def _mark(
        self, mail: queue.QueuedMail, write: Callable[..., Awaitable[Any]], *args: Any
    ) -> None:
        """Record the outcome; a failing database is tried again for a while (after a send,
        giving up would let the claim run out and the mail go a second time)."""
        for attempt in range(1, _MARK_TRIES + 1):
            try:
                async with self.ctx.db.write(organization_id=mail.organization_id) as session:
                    await write(session, *args)
                return
            except Exception:
                if attempt == _MARK_TRIES:
                    raise
                log.warning("mail outcome not recorded (try %s), trying again", attempt)
                await asyncio.sleep(attempt)

    async def _prepare(self, mail: queue.QueuedMail) -> Skip | Ready:
        """Whether the mail still goes, and its text, from what is true now."""
        org = mail.organization_id
        async with self.ctx.db.read(organization_id=org) as session:
            settings = await queue.get_settings(session, org)
            booked = (
                await session.execute(
                    select(
                        appointments.c.status, appointments.c.start_at, appointments.c.end_at
                    ).where(
                        appointments.c.organization_id == org,
                        appointments.c.id == mail.appointment_id,
                    )
                )
            ).first()
            tz_name = (
                await session.execute(
                    select(known_establishments.c.timezone).where(
                        known_establishments.c.organization_id == org,
                        known_establishments.c.establishment_id == mail.establishment_id,
                    )
                )
            ).scalar_one_or_none()
        if not settings.enabled:
            return Skip("the organization's mails are off")
        start, end = mail.starts_at, mail.ends_at
        if booked is not None:
            # This service's own appointment: its row is the truth, whatever event is late.
            if booked.status != model.Status.BOOKED.value:
                return Skip(f"the appointment is {booked.status.lower()}")
            start, end = booked.start_at, booked.end_at
        if start <= utcnow():
            return Skip("the appointment has started")
        # No caller here: the peers are asked as the organization's owner in the
        # appointment's establishment.
        with scope_context(Scope(org, mail.establishment_id, "", Role.OWNER)):
            client = await self._client(mail.client_id)
            if client is None:
                return Skip("the client is not in the client file")
            if not client.email:
                return Skip("the client has no e-mail address")
            service_name = await self._service_name(mail.service_id, mail.establishment_id)
        appointment = Appointment(
            service_name=service_name, start=start, end=end, timezone=model.zone(tz_name)
        )
        # One line each: a header never carries a line break.
        first_name = " ".join(client.first_name.split())
        full_name = " ".join(f"{client.first_name} {client.last_name}".split())
        return Ready(
            recipient=client.email.strip(),
            recipient_name=full_name,
            rendered=render(mail.kind, first_name, appointment, self.settings.sender_name),
        )

    async def _client(self, client_id: str) -> clients_pb2.Client | None:
        stub = clients_pb2_grpc.ClientsServiceStub(self.ctx.channel("clients"))
        reply = await self.ctx.call(
            "clients", stub.GetClients, clients_pb2.GetClientsRequest(ids=[client_id])
        )
        # B07: a merged client's mail goes to the kept record.
        wanted = reply.merged.get(client_id, client_id)
        return next((c for c in reply.clients if c.id == wanted), None)

    async def _service_name(self, service_id: str, establishment_id: str) -> str:
        """The name in the catalogue, also of a service deleted since the booking."""
        stub = catalog_pb2_grpc.CatalogServiceStub(self.ctx.channel("catalog"))
        reply = await self.ctx.call(
            "catalog",
            stub.GetServices,
            catalog_pb2.GetServicesRequest(
                ids=[service_id], establishment_id=establishment_id, include_deleted=True
            ),
        )
        return next((s.name for s in reply.services if s.id == service_id), "")


def mail_workers(ctx: ServiceContext) -> list[Worker]:
    """The sender, with the mail settings of the environment (SALON_SMTP_HOST...)."""
    return [MailSender(ctx, MailerSettings())]
