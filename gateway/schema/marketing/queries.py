from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.errors import Invalid
from gateway.schema.base import AUTHENTICATED
from gateway.schema.marketing.types import Campaign
from salon.clients.v1 import marketing_pb2
from services.common.errors import DomainError


@strawberry.type
class MarketingQuery:
    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="The session establishment's campaigns, newest first (R30).",
    )
    async def campaigns(self, info: Info[Context, None], first: int | None = 50) -> list[Campaign]:
        ctx = info.context
        try:
            reply = await ctx.call(
                "clients",
                ctx.state.backends.marketing.ListCampaigns,
                marketing_pb2.ListCampaignsRequest(first=50 if first is None else first),
            )
        except DomainError as exc:
            raise Invalid(f"{exc.field}: {exc.message}" if exc.field else exc.message) from None
        return [Campaign.of(c) for c in reply.campaigns]

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="null when unknown or of another establishment or organization (R30).",
    )
    async def campaign(self, info: Info[Context, None], id: strawberry.ID) -> Campaign | None:
        if len(id) > 64:
            return None
        ctx = info.context
        reply = await ctx.call(
            "clients",
            ctx.state.backends.marketing.GetCampaigns,
            marketing_pb2.GetCampaignsRequest(ids=[str(id)]),
        )
        return Campaign.of(reply.campaigns[0]) if reply.campaigns else None
