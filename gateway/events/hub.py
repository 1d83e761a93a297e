"""Events for GraphQL subscriptions: one core-NATS subscription per gateway process, fanned
out to a bounded in-memory queue per subscriber.

Core NATS, not a durable consumer: a subscription shows what happens while it is open
(what happened before is the audit log's business), and every gateway replica sees every
event, so a subscriber's replica does not matter. The NATS subscription exists while at
least one subscriber listens. A subscriber that falls a whole queue behind is dropped with
an error (it subscribes again) rather than letting its queue grow without limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from services.common.events import Event

log = logging.getLogger("salon.gateway.events")

SUBJECTS = "salon.>"
# Events a subscriber may have waiting; one more and it is dropped.
QUEUE_LIMIT = 1000


class SubscriberDropped(Exception):
    """The subscriber fell `QUEUE_LIMIT` events behind; its queue was emptied."""


class Listener:
    """One subscriber: the events its filter accepts, in order, at most `limit` waiting."""

    def __init__(self, accepts: Callable[[Event], bool], limit: int) -> None:
        self.accepts = accepts
        self.limit = limit
        self.dropped = False
        self.closed = False
        # One slot more than the limit, for the end marker (None).
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue(limit + 1)

    def offer(self, event: Event) -> None:
        if self.dropped or self.closed:
            return
        if self._queue.qsize() >= self.limit:
            self.dropped = True
            self._end()
            return
        self._queue.put_nowait(event)

    def close(self) -> None:
        """The hub is stopping: the subscriber ends after what it has waiting."""
        if not self.closed and not self.dropped:
            self.closed = True
            self._queue.put_nowait(None)

    def _end(self) -> None:
        while not self._queue.empty():  # free the memory now, not when the reader reads
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    async def next(self, wait: float | None = None) -> Event | None:
        """The next event; None when the hub stopped; TimeoutError after `wait` seconds
        without one; SubscriberDropped when this subscriber was dropped."""
        event = await asyncio.wait_for(self._queue.get(), wait)
        if event is None:
            if self.dropped:
                raise SubscriberDropped()
            self._queue.put_nowait(None)  # stays ended for a later call
        return event


class EventHub:
    def __init__(
        self, nc: NatsClient, *, subjects: str = SUBJECTS, queue_limit: int = QUEUE_LIMIT
    ) -> None:
        self.nc = nc
        self.subjects = subjects
        self.queue_limit = queue_limit
        # By organization: an event is only ever offered to its organization's (R01).
        self._listeners: dict[str, set[Listener]] = {}
        self._sub: Subscription | None = None
        self._lock = asyncio.Lock()
        self._stopped = False

    @property
    def listeners(self) -> int:
        return sum(len(group) for group in self._listeners.values())

    @contextlib.asynccontextmanager
    async def listen(
        self, organization_id: str, accepts: Callable[[Event], bool]
    ) -> AsyncIterator[Listener]:
        """A subscriber to one organization's events that `accepts`, for the duration of the
        block. When the block starts, the NATS subscription is registered with the server:
        events published from then on reach it."""
        listener = Listener(accepts, self.queue_limit)
        async with self._lock:
            if self._stopped:
                listener.close()
            else:
                self._listeners.setdefault(organization_id, set()).add(listener)
                try:
                    if self._sub is None:
                        self._sub = await self.nc.subscribe(self.subjects, cb=self._deliver)
                        await self.nc.flush(timeout=5)
                except BaseException:
                    self._forget(organization_id, listener)
                    await self._unsubscribe_if_idle()
                    raise
        try:
            yield listener
        finally:
            await self._leave(organization_id, listener)

    async def _leave(self, organization_id: str, listener: Listener) -> None:
        async with self._lock:
            self._forget(organization_id, listener)
            await self._unsubscribe_if_idle()

    async def _unsubscribe_if_idle(self) -> None:
        if not self._listeners and self._sub is not None:
            sub, self._sub = self._sub, None
            with contextlib.suppress(Exception):  # the connection may be closing
                await sub.unsubscribe()

    async def _deliver(self, msg: Msg) -> None:
        try:
            event = Event.from_message(msg.subject, msg.headers, msg.data)
        except ValueError:
            return  # not one of ours: nothing to show
        organization = event.organization_id
        for listener in list(self._listeners.get(organization, ())):
            if listener.accepts(event):
                listener.offer(event)
                if listener.dropped:
                    log.warning("dropped a subscriber %d events behind", self.queue_limit)
                    self._forget(organization, listener)

    def _forget(self, organization_id: str, listener: Listener) -> None:
        group = self._listeners.get(organization_id)
        if group is not None:
            group.discard(listener)
            if not group:
                del self._listeners[organization_id]

    async def stop(self) -> None:
        """End every subscriber (their subscriptions complete) and unsubscribe."""
        async with self._lock:
            self._stopped = True
            for group in self._listeners.values():
                for listener in group:
                    listener.close()
            self._listeners.clear()
            if self._sub is not None:
                sub, self._sub = self._sub, None
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()
