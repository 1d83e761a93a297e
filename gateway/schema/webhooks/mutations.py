"""registerWebhook, deleteWebhook (B06), OWNER only."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.events import registry
from gateway.schema.base import AUTHENTICATED, UserError, user_errors
from gateway.schema.webhooks.inputs import DeleteWebhookInput, RegisterWebhookInput
from gateway.schema.webhooks.types import Webhook
from gateway.webhooks import signing, store, urls
from services.common.errors import DomainError, ErrorCode
from services.common.scope import Role

MAX_TYPES = 100


@strawberry.type
class RegisterWebhookPayload:
    webhook: Webhook | None = None
    secret: str | None = strawberry.field(
        default=None,
        description="The signing secret (whsec_...), shown this once: keep it to verify "
        "the webhook-signature header of every delivery.",
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteWebhookPayload:
    deleted_webhook_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _owner(ctx: Context) -> None:
    if ctx.session(mutation=True).role is not Role.OWNER:
        raise DomainError(ErrorCode.FORBIDDEN, "webhooks are for owners")


def event_types(names: list[str]) -> list[str]:
    """The names, each a known event type (its message is in the registry), sorted, once."""
    if len(names) > MAX_TYPES:
        raise DomainError(ErrorCode.INVALID, f"at most {MAX_TYPES} types", "eventTypes")
    for name in names:
        if registry.message_class(name.strip()) is None:
            raise DomainError(
                ErrorCode.INVALID, f"not a known event type: {name[:120]!r}", "eventTypes"
            )
    return sorted({name.strip() for name in names})


@strawberry.type
class WebhooksMutation:
    @strawberry.mutation(
        permission_classes=AUTHENTICATED,
        description="OWNER (B06): the organization's events of `eventTypes` (empty: all) "
        "POSTed to `url`, signed (Standard Webhooks), retried with backoff. The secret is "
        "in this answer only.",
    )
    async def register_webhook(
        self, info: Info[Context, None], input: RegisterWebhookInput
    ) -> RegisterWebhookPayload:
        ctx = info.context
        settings = ctx.state.settings
        try:
            _owner(ctx)
            url = await urls.check(input.url, production=settings.production)
            types = event_types(input.event_types)
            organization_id = ctx.session().organization_id
            secret = signing.new_secret()
            sealed = store.SecretBox(settings).seal(secret)
            async with ctx.state.db.write(organization_id=organization_id) as conn:
                if await store.count_endpoints(conn, organization_id) >= store.MAX_ENDPOINTS:
                    raise DomainError(
                        ErrorCode.INVALID,
                        f"at most {store.MAX_ENDPOINTS} webhooks per organization",
                    )
                endpoint = await store.add_endpoint(conn, organization_id, url, types, sealed)
        except DomainError as exc:
            return RegisterWebhookPayload(errors=user_errors(exc))
        return RegisterWebhookPayload(webhook=Webhook.of(endpoint), secret=secret)

    @strawberry.mutation(
        permission_classes=AUTHENTICATED,
        description="OWNER (B06): the webhook and its deliveries; pending ones are not sent.",
    )
    async def delete_webhook(
        self, info: Info[Context, None], input: DeleteWebhookInput
    ) -> DeleteWebhookPayload:
        ctx = info.context
        try:
            _owner(ctx)
            async with ctx.state.db.write(organization_id=ctx.organization_id()) as conn:
                deleted = await store.delete_endpoint(
                    conn, ctx.session().organization_id, str(input.id)
                )
            if not deleted:
                raise DomainError(ErrorCode.NOT_FOUND, "no such webhook", "id")
        except DomainError as exc:
            return DeleteWebhookPayload(errors=user_errors(exc))
        return DeleteWebhookPayload(deleted_webhook_id=input.id)
