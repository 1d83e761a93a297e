"""The checkout recovery worker: releases the stock of checkouts that never finished.

A checkout claims its attempt PENDING before it reserves stock, and marks it DONE in the
transaction that writes the receipt. An attempt still PENDING after
PaymentsSettings().checkout_recovery_seconds belongs to a checkout that crashed (or hangs):
this worker fences it first (PENDING -> RELEASING, conditional on the same reservation id,
so that a late write of that checkout can no longer complete it: its DONE mark expects
PENDING and rolls the whole receipt back), then releases the reservation in inventory and
marks the attempt FAILED (the key may be used again). An attempt left RELEASING (a
compensation whose release failed, or this worker's own failed release) is released again
on each pass until inventory answers: releasing twice is a no-op there.

Inventory is called on behalf of the attempt's user in its organization and establishment
(a scope built here; ServiceContext.call signs it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from services.common.db import utcnow
from services.common.runtime import ServiceContext, Worker
from services.common.scope import Role, Scope, scope_context
from services.payments.api.till import GrpcStock
from services.payments.domain.checkout import Attempt, AttemptState, Stock
from services.payments.settings import PaymentsSettings
from services.payments.store import till_repository

log = logging.getLogger("salon.payments.recovery")


class CheckoutRecovery:
    def __init__(
        self,
        ctx: ServiceContext,
        settings: PaymentsSettings | None = None,
        stock: Stock | None = None,
        *,
        poll_seconds: float | None = None,
    ) -> None:
        self.ctx = ctx
        self.after = timedelta(seconds=(settings or PaymentsSettings()).checkout_recovery_seconds)
        self.stock = stock or GrpcStock(ctx)
        # Often enough that a stale attempt waits at most a fraction more than `after`.
        self.poll_seconds = poll_seconds or min(max(self.after.total_seconds() / 4, 0.1), 15.0)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._wake = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="payments-checkout-recovery")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=15)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self.recover_once()
            except Exception:
                log.exception("checkout recovery failed; trying again")
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            self._wake.clear()

    async def recover_once(self) -> int:
        """One pass over the stale attempts; the number released and marked FAILED."""
        if self.ctx.signer is None:  # the process is still starting
            return 0
        # Across organizations: the scan only finds the stale attempts of every
        # organization; each one is then recovered under its own organization.
        async with self.ctx.db.read(across_organizations=True) as conn:
            stale = await till_repository.stale_attempts(conn, utcnow() - self.after)
        recovered = 0
        for attempt in stale:
            if self._stopping:
                break
            try:
                recovered += await self._recover(attempt)
            except Exception as exc:
                log.warning(
                    "checkout %s (reservation %s) not recovered yet: %s",
                    attempt.id,
                    attempt.reservation_id,
                    exc,
                )
        return recovered

    async def _recover(self, attempt: Attempt) -> int:
        org, est, key = attempt.organization_id, attempt.establishment_id, attempt.idempotency_key
        if attempt.state is AttemptState.PENDING:
            async with self.ctx.db.write(organization_id=org) as conn:
                fenced = await till_repository.move_attempt(
                    conn,
                    org,
                    est,
                    key,
                    attempt.reservation_id,
                    AttemptState.PENDING,
                    AttemptState.RELEASING,
                )
            if not fenced:  # finished (or compensated) meanwhile
                return 0
        # The attempt's own user, organization and establishment: inventory releases the
        # reservation of the session establishment.
        with scope_context(Scope(org, est, attempt.user_id or "checkout-recovery", Role.STAFF)):
            await self.stock.release(attempt.reservation_id)
        async with self.ctx.db.write(organization_id=org) as conn:
            done = await till_repository.move_attempt(
                conn,
                org,
                est,
                key,
                attempt.reservation_id,
                AttemptState.RELEASING,
                AttemptState.FAILED,
            )
        if done:
            log.info("checkout %s: reservation %s released", attempt.id, attempt.reservation_id)
        return int(done)


def recovery_workers(ctx: ServiceContext) -> list[Worker]:
    return [CheckoutRecovery(ctx)]
