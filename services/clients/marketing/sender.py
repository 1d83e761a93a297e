"""The campaign sender: a worker of the clients service that sends the campaigns' pending
messages (R30).

Every MAIL_POLL_SECONDS it takes the due messages one by one. For each:

1. claim it (a write transaction sets ``claimed_until`` = now + CLAIM, only on a row that
   is pending, due and unclaimed or whose claim ran out): two replicas never send one
   message at once, and a replica that dies mid-send leaves it to be retried once the
   claim runs out;
2. read the client as it is now and apply the rules again (domain/marketing.py): consent
   withdrawn, the address gone or the client erased since the campaign was sent: SKIPPED;
3. hand it over: an e-mail to the shared mail path (services/common/mail.py: SMTP, or
   ``MAILBOX_DIR/campaign-<message>.eml``), an SMS to the configured SMS sender
   (marketing/sms.py);
4. mark it SENT only once it was accepted. A refusal for good (SMTP 5xx for the recipient,
   an HTTP 4xx from the SMS endpoint) is FAILED at once; any other failure counts an
   attempt and is retried after 2, 4, 8... seconds (at most five minutes apart), FAILED
   after MAX_ATTEMPTS. The campaign is SENT once no message is pending.

The one window for a second copy is a crash between acceptance and the mark (SMTP and
most SMS APIs have no two-phase commit): the Message-ID (and the SMS Idempotency-Key) is
the message's id, so the receiving side can tell the copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from services.clients.domain import marketing
from services.clients.domain.marketing import Channel, MessageStatus
from services.clients.marketing.sms import Sms, SmsSender, sms_sender_for
from services.clients.settings import MarketingSettings
from services.clients.store import marketing_repository as store
from services.common.db import utcnow
from services.common.mail import Refused, Transport, transport_for
from services.common.runtime import ServiceContext, Worker

log = logging.getLogger("salon.clients.marketing")

# How long a claimed message is this replica's; far longer than one send may take.
CLAIM = timedelta(seconds=60)
# How many times the mark after a send is tried again before the claim is left to run out.
_MARK_TRIES = 5


class CampaignSender:
    def __init__(
        self,
        ctx: ServiceContext,
        settings: MarketingSettings,
        transport: Transport | None = None,
        sms: SmsSender | None = None,
    ) -> None:
        self.ctx = ctx
        self.settings = settings
        self.transport = transport or transport_for(settings)
        self.sms = sms or sms_sender_for(settings)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._wake = asyncio.Event()

    @property
    def _send_limit(self) -> float:
        return max(self.settings.smtp_timeout_seconds, self.settings.sms_timeout_seconds) + 5

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="clients-campaign-sender")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        """Finish the message in flight, then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=self._send_limit + 10)
            except TimeoutError:
                log.warning("campaign sender did not stop in time; its claim runs out")
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        await self.sms.close()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                while not self._stopping and await self.send_next():
                    pass
            except Exception:
                log.exception("campaign sender failed; trying again")
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.mail_poll_seconds)
            self._wake.clear()

    async def send_next(self) -> bool:
        """Claim and send one due message; False when none is due."""
        # Across organizations (row-level security on PostgreSQL): the one queue of every
        # organization's messages is scanned and claimed here; the message is then read,
        # decided and recorded under its own organization.
        async with self.ctx.db.read(across_organizations=True) as conn:
            if not await store.anything_due(conn, utcnow()):
                return False
        async with self.ctx.db.write(across_organizations=True) as conn:
            claimed = await store.claim_next(conn, utcnow(), CLAIM)
        if claimed is None:
            return False
        await self._deliver(*claimed)
        return True

    async def _deliver(self, message_id: str, organization_id: str) -> None:
        async with self.ctx.db.read(organization_id=organization_id) as conn:
            out = await store.outgoing(conn, message_id)
        if out is None:  # gone meanwhile (cannot happen while the rows are never deleted)
            return
        decision = marketing.decide(out.channel, out.recipient)
        if decision.status is MessageStatus.SKIPPED:
            reason = decision.reason or "skipped"
            await self._mark(organization_id, store.mark_skipped, out.id, reason)
            return
        address = decision.address or ""
        try:
            await asyncio.wait_for(self._hand_over(out, address), timeout=self._send_limit)
        except Refused as exc:
            log.warning("campaign message %s refused for good: %s", out.id, exc)
            await self._mark(organization_id, store.mark_refused, out.id, f"refused: {exc}")
            return
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            log.warning(
                "campaign message %s not sent (attempt %s): %s", out.id, out.attempts + 1, reason
            )
            await self._mark(organization_id, store.mark_failed, out.id, reason)
            return
        await self._mark(organization_id, store.mark_sent, out.id, address)
        log.info("campaign message %s (%s) sent", out.id, out.channel.value)

    async def _hand_over(self, out: store.Outgoing, address: str) -> None:
        body = marketing.personalise(out.body, out.first_name, out.last_name)
        if out.channel is Channel.SMS:
            await self.sms.send(Sms(out.id, self.settings.sms_from, address, body))
            return
        mail = EmailMessage()
        mail["From"] = self.settings.mail_from
        mail["To"] = address
        mail["Subject"] = marketing.personalise(out.subject or "", out.first_name, out.last_name)
        mail["Date"] = format_datetime(utcnow())
        mail["Message-ID"] = f"<{out.id}@{self.settings.sender_domain}>"
        mail["X-Salon-Campaign"] = out.campaign_id
        mail.set_content(body)
        await self.transport.send(mail, f"campaign-{out.id}")

    async def _mark(
        self, organization_id: str, write: Callable[..., Awaitable[Any]], *args: Any
    ) -> None:
        """Record the outcome; a failing database is tried again for a while (after a send,
        giving up would let the claim run out and the message go a second time)."""
        for attempt in range(1, _MARK_TRIES + 1):
            try:
                async with self.ctx.db.write(organization_id=organization_id) as conn:
                    await write(conn, *args)
                return
            except Exception:
                if attempt == _MARK_TRIES:
                    raise
                log.warning("campaign message outcome not recorded (try %s)", attempt)
                await asyncio.sleep(attempt)


def marketing_workers(ctx: ServiceContext) -> list[Worker]:
    """The sender, with the settings of the environment (SALON_SMTP_HOST, SALON_SMS_URL...)."""
    return [CampaignSender(ctx, MarketingSettings())]
