"""The transactional outbox and its relay to JetStream.

A change and its event are written in one transaction (:func:`record_event`). The relay
publishes unsent rows in order with ``Nats-Msg-Id`` = event id, so JetStream drops a
re-publish within its duplicate window, and marks a row sent only after the ack. A crash
between publish and mark re-publishes on restart; consumers also remember processed ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import nats
from google.protobuf.message import Message
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import BadRequestError
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common import tracing
from services.common.db import Database, UTCDateTime, new_id, utcnow
from services.common.events import Event, EventType
from services.common.scope import Scope

log = logging.getLogger("salon.outbox")

# "00-<32 hex>-<16 hex>-<2 hex>" is 55 characters; room for a later version's fields.
TRACEPARENT_WIDTH = 64


def outbox_tables(metadata: MetaData) -> tuple[Table, Table]:
    """The outbox and processed-events tables, added to a service's metadata."""
    outbox = Table(
        "outbox",
        metadata,
        Column(
            "seq",
            BigInteger().with_variant(Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        Column("id", String(32), nullable=False, unique=True),
        Column("type", String(120), nullable=False),
        Column("subject", String(250), nullable=False),
        Column("source", String(60), nullable=False),
        Column("organization_id", String(32), nullable=False),
        Column("establishment_id", String(32), nullable=True),
        Column("actor_id", String(32), nullable=True),
        Column("occurred_at", UTCDateTime(), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("sent_at", UTCDateTime(), nullable=True, index=True),
        # The W3C traceparent of the span that wrote the row (tracing on), published as the
        # NATS header `traceparent` so that consumers continue the trace.
        Column("traceparent", String(TRACEPARENT_WIDTH), nullable=True),
    )
    processed = Table(
        "processed_events",
        metadata,
        Column("consumer", String(80), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("processed_at", UTCDateTime(), nullable=False),
    )
    return outbox, processed


async def record_event(
    session: AsyncConnection,
    outbox: Table,
    event_type: EventType,
    message: Message,
    scope: Scope,
    *,
    establishment_id: str | None,
) -> str:
    """Write an event in the caller's transaction; returns its id."""
    event_id = new_id()
    await session.execute(
        outbox.insert().values(
            id=event_id,
            type=event_type.name,
            subject=event_type.subject(scope.organization_id, establishment_id),
            source=f"/salon/{event_type.service}",
            organization_id=scope.organization_id,
            establishment_id=establishment_id,
            actor_id=scope.user_id or None,
            occurred_at=utcnow(),
            payload=message.SerializeToString(),
            traceparent=tracing.current_traceparent(),
        )
    )
    return event_id


async def ensure_stream(
    js: JetStreamContext, name: str, max_age_days: int, replicas: int = 1
) -> None:
    """The events stream, created by whichever part starts first. ``replicas``: 3 on a
    JetStream cluster (SALON_EVENTS_REPLICAS); an existing stream keeps its own."""
    config = StreamConfig(
        name=name,
        subjects=["salon.>"],
        storage=StorageType.FILE,
        duplicate_window=timedelta(minutes=2).total_seconds(),
        max_age=timedelta(days=max_age_days).total_seconds(),
        num_replicas=replicas,
    )
    try:
        await js.add_stream(config)
    except BadRequestError:
        # Another process created it with other limits: keep what is there.
        await js.stream_info(name)


class OutboxRelay:
    """Publishes a service's outbox to JetStream; one task per process."""

    def __init__(
        self,
        db: Database,
        outbox: Table,
        js: JetStreamContext,
        *,
        batch_size: int = 200,
        poll_seconds: float = 0.5,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.js = js
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def wake(self) -> None:
        """Call after a commit that wrote events, so they go out now rather than at the poll."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Finish the batch under way and one last flush, then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=10)
            except TimeoutError:
                log.warning("outbox relay did not stop in time; unsent rows stay for next start")

    async def _run(self) -> None:
        while True:
            # Read before the pass: the pass that ends a stop began after stop() was called,
            # so it saw every commit made before the stop (one under way already may not).
            stopping = self._stopping
            try:
                while await self.relay_once():
                    pass
            except (nats.errors.Error, TimeoutError, OSError) as exc:
                log.warning("outbox relay: %s; retrying", exc)
                # Stopping does not end the retries: the last flush is what a stop owes
                # (a publish that timed out under load is tried again); stop() bounds it.
                await asyncio.sleep(0.2 if self._stopping else 1)
                continue
            except Exception:
                log.exception("outbox relay failed; retrying")
                await asyncio.sleep(0.2 if self._stopping else 1)
                continue
            if stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            self._wake.clear()

    async def pending(self) -> list[Event]:
        # Across organizations: the relay publishes every organization's events, in the
        # order they were written; it reads outbox rows only (each names its organization
        # in its subject and headers).
        async with self.db.read(across_organizations=True) as session:
            rows = (
                (
                    await session.execute(
                        select(self.outbox)
                        .where(self.outbox.c.sent_at.is_(None))
                        .order_by(self.outbox.c.seq)
                        .limit(self.batch_size)
                    )
                )
                .mappings()
                .all()
            )
        return [
            Event(
                id=r["id"],
                type=r["type"],
                source=r["source"],
                time=r["occurred_at"],
                organization_id=r["organization_id"],
                establishment_id=r["establishment_id"],
                actor_id=r["actor_id"],
                subject=r["subject"],
                data=r["payload"],
                traceparent=r["traceparent"],
            )
            for r in rows
        ]

    async def publish(self, events: list[Event], acked: list[str]) -> None:
        """Publish in order, each awaited until JetStream acks it; acked ids go to `acked`.
        A traced event (tracing on) is published in a PRODUCER span, a child of the span
        that wrote it, whose traceparent the header carries on."""
        for ev in events:
            if tracing.enabled() and ev.traceparent:
                await self._publish_traced(ev)
            else:
                await self.js.publish(ev.subject, ev.data, headers=ev.headers(), timeout=5)
            acked.append(ev.id)

    async def _publish_traced(self, ev: Event) -> None:
        with tracing.span(
            f"publish {ev.type}",
            kind=tracing.SpanKind.PRODUCER,
            parent=tracing.context_of(ev.traceparent),
            attributes={
                "messaging.system": "nats",
                "messaging.operation.type": "send",
                "messaging.destination.name": ev.subject,
                "messaging.message.id": ev.id,
                "cloudevents.event_type": ev.type,
                "salon.organization_id": ev.organization_id,
            },
        ):
            headers = ev.headers()
            tracing.inject(headers)
            await self.js.publish(ev.subject, ev.data, headers=headers, timeout=5)

    async def mark_sent(self, ids: list[str]) -> None:
        if not ids:
            return
        # Across organizations: a batch holds several organizations' events; this only
        # sets `sent_at` on the outbox rows just published, by id.
        async with self.db.write(across_organizations=True) as session:
            await session.execute(
                update(self.outbox)
                .where(self.outbox.c.id.in_(ids), self.outbox.c.sent_at.is_(None))
                .values(sent_at=utcnow())
            )

    async def relay_once(self) -> bool:
        """One batch: True when a full batch went out (there may be more)."""
        events = await self.pending()
        if not events:
            return False
        acked: list[str] = []
        try:
            await self.publish(events, acked)
        finally:
            # What was acked is marked even when a later publish failed.
            await self.mark_sent(acked)
        return len(events) == self.batch_size

    async def backlog(self) -> tuple[int, float]:
        """Unsent rows and the age in seconds of the oldest one."""
        # Across organizations: the metrics gauge is one figure for the whole outbox (a
        # count and an age; no label carries an organization).
        async with self.db.read(across_organizations=True) as session:
            count, oldest = (
                await session.execute(
                    select(func.count(), func.min(self.outbox.c.occurred_at)).where(
                        self.outbox.c.sent_at.is_(None)
                    )
                )
            ).one()
        age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
        return int(count), age
