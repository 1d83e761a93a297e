from __future__ import annotations

import strawberry

from gateway.schema.marketing.types import CampaignAudience, CampaignChannel


@strawberry.input(description="A draft campaign in the session establishment (R30).")
class CreateCampaignInput:
    name: str
    channel: CampaignChannel
    subject: str | None = strawberry.field(default=None, description="E-mail only; required.")
    body: str = strawberry.field(
        description="Plain text; {{firstName}} and {{lastName}} are filled in per client."
    )
    audience: CampaignAudience = strawberry.field(
        default=CampaignAudience.ORGANIZATION,
        description="ORGANIZATION: every client of the shared file; ESTABLISHMENT: the "
        "clients with history in the session establishment.",
    )


@strawberry.input(description="OWNER or MANAGER. Sends once, whatever the repeats.")
class SendCampaignInput:
    id: strawberry.ID
