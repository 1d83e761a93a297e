"""Durable JetStream consumers that apply each event once.

Each event is handled inside a write transaction that also records its id in
``processed_events``; a redelivery (after a crash before the ack, or a re-publish outside
the duplicate window) finds the id and is only acked. Undecodable messages are
terminated; failing handlers are retried with a growing delay, then terminated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common import tracing
from services.common.db import Database, insert_ignore, utcnow
from services.common.events import Event
from services.common.metrics import PartMetrics

log = logging.getLogger("salon.consumer")

Handler = Callable[[AsyncConnection, Event], Awaitable[None]]

# How long one pull waits for messages; also the longest a stop waits for a fetch.
FETCH_WAIT = 0.5


class EventConsumer:
    def __init__(
        self,
        js: JetStreamContext,
        db: Database,
        processed: Table,
        *,
        stream: str,
        durable: str,
        handlers: Mapping[str, tuple[str, Handler]],
        max_deliver: int = 10,
        batch: int = 100,
    ) -> None:
        """`handlers` maps an event type name to (subject filter, handler)."""
        self.js = js
        self.db = db
        self.processed = processed
        self.stream = stream
        self.durable = durable
        self.handlers = {name: h for name, (_f, h) in handlers.items()}
        self.filters = sorted({f for f, _h in handlers.values()})
        self.max_deliver = max_deliver
        self.batch = batch
        self._task: asyncio.Task[None] | None = None
        self._sub: JetStreamContext.PullSubscription | None = None
        self._stopping = False
        # Set by the process that runs the consumer (ServiceProcess, the gateway).
        self.metrics: PartMetrics | None = None

    def _count(self, event_type: str, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.event(self.durable, event_type, outcome)

    async def lag(self) -> tuple[int, int]:
        """(messages not delivered yet, delivered and not acked) from JetStream's consumer
        info: one request, made by the metrics refresher every few seconds."""
        info = await self.js.consumer_info(self.stream, self.durable)
        return int(info.num_pending or 0), int(info.num_ack_pending or 0)

    async def subscribe(self) -> JetStreamContext.PullSubscription:
        """Create or update the durable consumer (a later release may listen to more
        types), then bind to it."""
        config = ConsumerConfig(
            durable_name=self.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            max_deliver=self.max_deliver,
            ack_wait=30,
            filter_subjects=self.filters if len(self.filters) > 1 else None,
            filter_subject=self.filters[0] if len(self.filters) == 1 else None,
        )
        await self.js.add_consumer(self.stream, config)
        return await self.js.pull_subscribe_bind(durable=self.durable, stream=self.stream)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self.durable}")

    async def stop(self) -> None:
        """Let the fetch under way end (it waits at most FETCH_WAIT), finish the batch, then
        unsubscribe. Cancelling a pull fetch instead leaves a request behind that makes the
        connection's drain wait for its full timeout."""
        self._stopping = True
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=FETCH_WAIT + 5)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None

    async def _run(self) -> None:
        while not self._stopping:
            try:
                if self._sub is None:
                    self._sub = await self.subscribe()
                try:
                    msgs = await self._sub.fetch(self.batch, timeout=FETCH_WAIT)
                except TimeoutError:
                    continue
                for msg in msgs:
                    await self.handle(msg)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer %s: %s; retrying", self.durable, exc)
                self._sub = None
                await asyncio.sleep(1)

    async def handle(self, msg: Msg) -> None:
        try:
            event = Event.from_message(msg.subject, msg.headers, msg.data)
        except ValueError as exc:
            log.error("consumer %s: poison message on %s: %s", self.durable, msg.subject, exc)
            await msg.term()
            self._count("unknown", "poison")
            return
        handler = self.handlers.get(event.type)
        if handler is None:
            await msg.ack()
            self._count(event.type, "ignored")
            return
        if not tracing.enabled():
            await self._apply(msg, event, handler)
            return
        # A CONSUMER span, a child of the publishing span the traceparent header names
        # (a root when the event came untraced), around the handler's transaction.
        with tracing.span(
            f"process {event.type}",
            kind=tracing.SpanKind.CONSUMER,
            parent=tracing.context_of(event.traceparent),
            attributes={
                "messaging.system": "nats",
                "messaging.operation.type": "process",
                "messaging.destination.name": event.subject,
                "messaging.message.id": event.id,
                "messaging.consumer.group.name": self.durable,
                "cloudevents.event_type": event.type,
                "salon.organization_id": event.organization_id,
            },
        ) as span:
            outcome = await self._apply(msg, event, handler)
            if span is not None:
                span.set_attribute("salon.outcome", outcome)
                if outcome in ("retried", "failed"):
                    span.set_status(tracing.Status(tracing.StatusCode.ERROR, outcome))

    async def _apply(self, msg: Msg, event: Event, handler: Handler) -> str:
        """The handler and the processed id in one transaction, then the ack (or a nak, or
        a term); returns the outcome counted."""
        fresh = False
        try:
            # The event's organization, as an RPC has its scope's: the handler sees and
            # writes that organization's rows only (row-level security on PostgreSQL).
            async with self.db.write(organization_id=event.organization_id) as session:
                fresh = await insert_ignore(
                    session,
                    self.processed,
                    {"consumer": self.durable, "event_id": event.id, "processed_at": utcnow()},
                )
                if fresh:
                    await handler(session, event)
        except Exception as exc:
            tracing.record_exception(exc)
            delivered = msg.metadata.num_delivered if msg.metadata else 1
            if delivered >= self.max_deliver:
                log.exception("consumer %s: giving up on %s", self.durable, event.id)
                await msg.term()
                outcome = "failed"
            else:
                log.exception("consumer %s: %s failed, retrying", self.durable, event.id)
                await msg.nak(delay=min(2**delivered, 60))
                outcome = "retried"
            self._count(event.type, outcome)
            return outcome
        await msg.ack()
        outcome = "handled" if fresh else "duplicate"
        self._count(event.type, outcome)
        return outcome
