"""webhooks, webhookDeliveries (B06), OWNER only."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.errors import Forbidden, Invalid, NotFound
from gateway.schema.base import AUTHENTICATED
from gateway.schema.webhooks.types import Webhook, WebhookDelivery
from gateway.webhooks import store
from services.common.scope import Role


def _owner(ctx: Context) -> str:
    session = ctx.session()
    if session.role is not Role.OWNER:
        raise Forbidden("webhooks are for owners")
    return session.organization_id


@strawberry.type
class WebhooksQuery:
    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="OWNER (B06): the organization's webhooks, oldest first.",
    )
    async def webhooks(self, info: Info[Context, None]) -> list[Webhook]:
        organization_id = _owner(info.context)
        async with info.context.state.db.read(organization_id=organization_id) as conn:
            found = await store.endpoints(conn, organization_id)
        return [Webhook.of(e) for e in found]

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="OWNER (B06): a webhook's deliveries, newest first, `first` 1..100.",
    )
    async def webhook_deliveries(
        self, info: Info[Context, None], webhook_id: strawberry.ID, first: int | None = 20
    ) -> list[WebhookDelivery]:
        organization_id = _owner(info.context)
        limit = 20 if first is None else first
        if not 1 <= limit <= store.MAX_DELIVERIES:
            raise Invalid(f"first: between 1 and {store.MAX_DELIVERIES}")
        async with info.context.state.db.read(organization_id=organization_id) as conn:
            if await store.endpoint(conn, organization_id, str(webhook_id)) is None:
                raise NotFound("no such webhook")
            found = await store.deliveries(conn, organization_id, str(webhook_id), limit)
        return [WebhookDelivery.of(d) for d in found]
