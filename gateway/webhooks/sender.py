"""The webhook sender: a task of each gateway process that sends the due deliveries.

For each due delivery: claim it (a conditional UPDATE sets ``claimed_until`` = now + LEASE
on a row still pending, due and unclaimed or whose claim ran out: two replicas never send
one delivery at the same time, and one that dies mid-send leaves it to the other once the
lease runs out); read its endpoint in the delivery's organization (never another's); in
production check again that the host resolves to public addresses only (its DNS may have
changed since it was registered); POST the stored body, signed (Standard Webhooks:
``webhook-id`` is the event id, the same on every attempt), with a timeout and no
redirect followed. A 2xx marks it DELIVERED; anything else (another status, a redirect, a
timeout, a refused connection) counts an attempt and retries after the next delay of
``webhook_retry_seconds``; after the last, FAILED.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import timedelta

import httpx

from gateway.settings import GatewaySettings
from gateway.webhooks import signing, store, urls
from services.common.db import Database, utcnow
from services.common.errors import DomainError

log = logging.getLogger("salon.gateway.webhooks")

# How long a claimed delivery is this replica's: far more than one attempt takes.
LEASE = timedelta(seconds=60)
BATCH = 20
USER_AGENT = "salon-webhooks/1"


class WebhookSender:
    def __init__(
        self,
        db: Database,
        settings: GatewaySettings,
        client: httpx.AsyncClient | None = None,
        resolver: urls.Resolver = urls.resolve,
    ) -> None:
        self.db = db
        self.settings = settings
        self.box = store.SecretBox(settings)
        self.resolver = resolver
        self.client = client or httpx.AsyncClient(
            timeout=settings.webhook_timeout_seconds,
            follow_redirects=False,
            headers={"user-agent": USER_AGENT},
            trust_env=False,
        )
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._wake = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="gateway-webhook-sender")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        """Let the attempt in flight finish (bounded by the HTTP timeout), then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(
                    asyncio.shield(self._task), timeout=self.settings.webhook_timeout_seconds + 5
                )
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        await self.client.aclose()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                while not self._stopping and await self.send_due():
                    pass
            except Exception:
                log.exception("webhook sender failed; trying again")
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.webhook_poll_seconds)
            self._wake.clear()

    async def send_due(self) -> int:
        """Claim and send the due deliveries, at most BATCH; how many were sent."""
        # Across organizations: the scan finds the due deliveries of every organization;
        # each is claimed by its id, then read and recorded under its own organization.
        async with self.db.read(across_organizations=True) as conn:
            ids = await store.due(conn, utcnow(), BATCH)
        sent = 0
        for delivery_id in ids:
            if self._stopping:
                break
            sent += await self.send_one(delivery_id)
        return sent

    async def send_one(self, delivery_id: str) -> bool:
        # Across organizations: the claim knows the delivery's id only (one conditional
        # UPDATE of its lease).
        async with self.db.write(across_organizations=True) as conn:
            claimed = await store.claim(conn, delivery_id, utcnow(), LEASE)
        if claimed is None:
            return False  # another replica has it, or it is not due any more
        delivery, until = claimed
        async with self.db.read(organization_id=delivery.organization_id) as conn:
            found = await store.endpoint(conn, delivery.organization_id, delivery.endpoint_id)
        status_code: int | None = None
        error: str | None = None
        if found is None or not found[0].enabled:
            error = "the webhook was deleted or disabled"
            ok, final = False, True
        else:
            endpoint, sealed = found
            status_code, error = await self._attempt(endpoint.url, sealed, delivery)
            ok, final = error is None, False
        retries = self.settings.webhook_retry_seconds
        attempt = delivery.attempts + 1
        now = utcnow()
        if ok:
            status, next_at = store.Status.DELIVERED, now
        elif final or attempt > len(retries):
            status, next_at = store.Status.FAILED, now
        else:
            status, next_at = store.Status.PENDING, now + timedelta(seconds=retries[attempt - 1])
        async with self.db.write(organization_id=delivery.organization_id) as conn:
            marked = await store.finish(
                conn,
                delivery,
                until,
                status=status,
                next_attempt_at=next_at,
                status_code=status_code,
                error=error,
            )
        if not marked:
            log.warning("webhook delivery %s: its claim ran out before the mark", delivery.id)
        elif not ok:
            log.info(
                "webhook delivery %s, attempt %d: %s (%s)",
                delivery.id,
                attempt,
                error,
                status.value,
            )
        return ok

    async def _attempt(
        self, url: str, sealed: str, delivery: store.Delivery
    ) -> tuple[int | None, str | None]:
        """(the status code, None when delivered or what went wrong)."""
        try:
            _url, host, port = urls.parse(url, production=self.settings.production)
            if self.settings.production:
                await urls.check_host(host, port, self.resolver)
        except DomainError as exc:
            return None, f"address refused: {exc.message}"
        body = delivery.payload.encode()
        headers = signing.headers(self.box.open(sealed), delivery.event_id, int(time.time()), body)
        try:
            reply = await self.client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if 200 <= reply.status_code < 300:
            return reply.status_code, None
        return reply.status_code, f"HTTP {reply.status_code}"
