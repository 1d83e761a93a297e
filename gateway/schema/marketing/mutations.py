"""Campaign mutations (R30). Every payload names the establishment the change applied to
(R07): the session establishment, the campaign's."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.schema.base import AUTHENTICATED, UserError, user_errors
from gateway.schema.marketing.inputs import CreateCampaignInput, SendCampaignInput
from gateway.schema.marketing.types import AUDIENCE_TO_PROTO, CHANNEL_TO_PROTO, Campaign
from gateway.schema.tenancy.types import Establishment, load_establishments
from salon.clients.v1 import marketing_pb2
from services.common.errors import DomainError


@strawberry.type
class CreateCampaignPayload:
    campaign: Campaign | None = None
    establishments: list[Establishment] = strawberry.field(
        default_factory=list, description="Where it was created: the session establishment."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SendCampaignPayload:
    campaign: Campaign | None = None
    establishments: list[Establishment] = strawberry.field(
        default_factory=list, description="Whose campaign was sent: the session establishment."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MarketingMutation:
    @strawberry.mutation(
        permission_classes=AUTHENTICATED,
        description="A draft in the session establishment (R30); nothing is sent yet.",
    )
    async def create_campaign(
        self, info: Info[Context, None], input: CreateCampaignInput
    ) -> CreateCampaignPayload:
        ctx = info.context
        request = marketing_pb2.CreateCampaignRequest(
            name=input.name,
            channel=CHANNEL_TO_PROTO[input.channel],
            subject=input.subject or "",
            body=input.body,
            audience=AUDIENCE_TO_PROTO[input.audience],
        )
        try:
            msg = await ctx.call("clients", ctx.state.backends.marketing.CreateCampaign, request)
        except DomainError as exc:
            return CreateCampaignPayload(errors=user_errors(exc))
        return CreateCampaignPayload(
            campaign=Campaign.of(msg),
            establishments=await load_establishments(info, [msg.establishment_id]),
        )

    @strawberry.mutation(
        permission_classes=AUTHENTICATED,
        description="OWNER or MANAGER. Turns a draft of the session establishment into one "
        "message per client of its audience (consent respected) and sends them; a campaign "
        "already sent is answered as it is, nothing goes twice (R30).",
    )
    async def send_campaign(
        self, info: Info[Context, None], input: SendCampaignInput
    ) -> SendCampaignPayload:
        ctx = info.context
        try:
            msg = await ctx.call(
                "clients",
                ctx.state.backends.marketing.SendCampaign,
                marketing_pb2.SendCampaignRequest(id=str(input.id)),
            )
        except DomainError as exc:
            return SendCampaignPayload(errors=user_errors(exc))
        return SendCampaignPayload(
            campaign=Campaign.of(msg),
            establishments=await load_establishments(info, [msg.establishment_id]),
        )
