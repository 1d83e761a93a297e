"""Subscription.events (B06): the organization's events as they happen, over WebSocket
(graphql-transport-ws), scoped like everything else by the session, never by arguments:
the session establishment's events and the organization-level ones (what every
establishment shares), for an owner every establishment's; never another organization's
(R01). `types` keeps the listed event types only (docs/events.md names them)."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Callable

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.errors import Invalid, PublicError, Unauthenticated
from gateway.events.hub import SubscriberDropped
from gateway.schema.base import AUTHENTICATED
from gateway.schema.events.types import Event
from gateway.store import tenancy
from services.common import events
from services.common.scope import Role

MAX_TYPES = 50
MAX_TYPE_LENGTH = 120
# How often a long subscription checks that its session still holds (logout, expiry,
# another establishment).
SESSION_CHECK_SECONDS = 30.0


class TooSlow(PublicError):
    code = "TOO_SLOW"


class Unavailable(PublicError):
    code = "UNAVAILABLE"


def wanted_types(types: list[str] | None) -> frozenset[str] | None:
    if types is None:
        return None
    if len(types) > MAX_TYPES:
        raise Invalid(f"types: at most {MAX_TYPES}")
    for name in types:
        try:
            if len(name) > MAX_TYPE_LENGTH:
                raise ValueError(name)
            events.EventType.parse(name)
        except ValueError:
            raise Invalid(
                f"types: {name[:MAX_TYPE_LENGTH]!r} is not an event type name "
                "(salon.<service>.<entity>.<verb>.v<version>)"
            ) from None
    return frozenset(types)


def visible_to(
    session: tenancy.SessionInfo, types: frozenset[str] | None
) -> Callable[[events.Event], bool]:
    organization = session.organization_id
    prefix = f"salon.{organization}."
    establishment = None if session.role is Role.OWNER else session.establishment_id

    def accepts(event: events.Event) -> bool:
        if event.organization_id != organization or not event.subject.startswith(prefix):
            return False
        if establishment is not None and event.establishment_id not in (None, establishment):
            return False
        return types is None or event.type in types

    return accepts


async def _check_session(ctx: Context, session: tenancy.SessionInfo) -> None:
    async with ctx.state.db.read(organization_id=session.organization_id) as conn:
        now = await tenancy.resolve_session(conn, session.token)
    same = now is not None and (now.organization_id, now.establishment_id, now.role) == (
        session.organization_id,
        session.establishment_id,
        session.role,
    )
    if not same:
        raise Unauthenticated("the session ended or changed: sign in and subscribe again")


@strawberry.type
class EventsSubscription:
    @strawberry.subscription(
        permission_classes=AUTHENTICATED,
        description="B06: the organization's events as they happen (WebSocket, "
        "graphql-transport-ws; the session from the connection_init payload "
        '{"Authorization": "Bearer <token>"} or the cookie): the session establishment\'s '
        "and the organization-level ones, for an owner every establishment's. `types`: only "
        "these event types. A subscriber that falls far behind ends with TOO_SLOW.",
    )
    async def events(
        self, info: Info[Context, None], types: list[str] | None = None
    ) -> AsyncGenerator[Event, None]:
        ctx = info.context
        session = ctx.session()
        accepts = visible_to(session, wanted_types(types))
        hub = ctx.state.hub
        if hub is None:
            raise Unavailable("events are not available on this gateway now")
        checked = time.monotonic()
        async with hub.listen(session.organization_id, accepts) as listener:
            while True:
                try:
                    event = await listener.next(wait=SESSION_CHECK_SECONDS)
                except SubscriberDropped:
                    raise TooSlow(
                        "events came faster than this subscription read them: subscribe again"
                    ) from None
                except TimeoutError:
                    await _check_session(ctx, session)
                    checked = time.monotonic()
                    continue
                if event is None:
                    return  # the gateway is stopping
                if time.monotonic() - checked >= SESSION_CHECK_SECONDS:
                    await _check_session(ctx, session)
                    checked = time.monotonic()
                yield Event.of(event)
