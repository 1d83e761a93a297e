"""Marketing campaigns (R30) and the messages they recorded."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.schema.clients.types import Client
from gateway.schema.tenancy.types import Establishment, load_establishment
from salon.clients.v1 import marketing_pb2


@strawberry.enum(description="How a campaign reaches its audience.")
class CampaignChannel(Enum):
    EMAIL = "EMAIL"
    SMS = "SMS"


@strawberry.enum(description="Who a campaign is for, out of the shared client file (R30).")
class CampaignAudience(Enum):
    ORGANIZATION = "ORGANIZATION"
    ESTABLISHMENT = "ESTABLISHMENT"


@strawberry.enum
class CampaignStatus(Enum):
    DRAFT = "DRAFT"
    SENDING = "SENDING"
    SENT = "SENT"


@strawberry.enum
class CampaignMessageStatus(Enum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


CHANNEL_TO_PROTO = {
    CampaignChannel.EMAIL: marketing_pb2.CHANNEL_EMAIL,
    CampaignChannel.SMS: marketing_pb2.CHANNEL_SMS,
}
AUDIENCE_TO_PROTO = {
    CampaignAudience.ORGANIZATION: marketing_pb2.AUDIENCE_ORGANIZATION,
    CampaignAudience.ESTABLISHMENT: marketing_pb2.AUDIENCE_ESTABLISHMENT,
}


def _channel(value: int) -> CampaignChannel:
    return CampaignChannel(marketing_pb2.Channel.Name(value).removeprefix("CHANNEL_"))  # type: ignore[arg-type]


def _ts(msg: object, name: str) -> datetime | None:
    if not msg.HasField(name):  # type: ignore[attr-defined]
        return None
    return getattr(msg, name).ToDatetime(tzinfo=UTC)  # type: ignore[no-any-return]


@strawberry.type(description="How many messages a campaign recorded, by status.")
class CampaignCounts:
    pending: int
    sent: int
    failed: int
    skipped: int


@strawberry.type(description="What a campaign sent, or did not, to one client (R30).")
class CampaignMessage:
    id: strawberry.ID
    channel: CampaignChannel
    address: str | None = strawberry.field(
        description="The e-mail address or phone number; null when skipped for want of one."
    )
    status: CampaignMessageStatus
    reason: str | None = strawberry.field(
        description="Why it was skipped or failed, or the last failure of a pending one."
    )
    attempts: int
    sent_at: datetime | None
    client_id: strawberry.Private[str]

    @classmethod
    def of(cls, msg: marketing_pb2.CampaignMessage) -> CampaignMessage:
        return cls(
            id=strawberry.ID(msg.id),
            channel=_channel(msg.channel),
            address=msg.address or None,
            status=CampaignMessageStatus(
                marketing_pb2.MessageStatus.Name(msg.status).removeprefix("MESSAGE_STATUS_")
            ),
            reason=msg.reason or None,
            attempts=msg.attempts,
            sent_at=_ts(msg, "sent_at"),
            client_id=msg.client_id,
        )

    @strawberry.field(description="From the shared client file (an erased client is anonymous).")
    async def client(self, info: Info[Context, None]) -> Client | None:
        found = await info.context.loaders.client_by_id.load(self.client_id)
        return Client.of(found) if found is not None else None


@strawberry.type(
    description="A marketing campaign of one establishment (R30): seen and sent there only; "
    "its audience comes from the shared client file, consent respected."
)
class Campaign:
    id: strawberry.ID
    name: str
    channel: CampaignChannel
    subject: str | None = strawberry.field(description="E-mail only.")
    body: str = strawberry.field(
        description="{{firstName}} and {{lastName}} are filled in for each client."
    )
    audience: CampaignAudience
    status: CampaignStatus
    created_at: datetime
    sent_at: datetime | None = strawberry.field(
        description="When sendCampaign turned it into messages."
    )
    counts: CampaignCounts
    establishment_id: strawberry.Private[str]

    @classmethod
    def of(cls, msg: marketing_pb2.Campaign) -> Campaign:
        created = _ts(msg, "created_at")
        assert created is not None
        return cls(
            id=strawberry.ID(msg.id),
            name=msg.name,
            channel=_channel(msg.channel),
            subject=msg.subject or None,
            body=msg.body,
            audience=CampaignAudience(
                marketing_pb2.Audience.Name(msg.audience).removeprefix("AUDIENCE_")
            ),
            status=CampaignStatus(
                marketing_pb2.CampaignStatus.Name(msg.status).removeprefix("CAMPAIGN_STATUS_")
            ),
            created_at=created,
            sent_at=_ts(msg, "sent_at"),
            counts=CampaignCounts(
                pending=msg.counts.pending,
                sent=msg.counts.sent,
                failed=msg.counts.failed,
                skipped=msg.counts.skipped,
            ),
            establishment_id=msg.establishment_id,
        )

    @strawberry.field
    async def establishment(self, info: Info[Context, None]) -> Establishment:
        est = await load_establishment(info, self.establishment_id)
        assert est is not None
        return est

    @strawberry.field(
        description="The recorded messages, one per client of the audience, by id; `after` "
        "is the id of the last message of the previous page."
    )
    async def messages(
        self, info: Info[Context, None], first: int | None = 100, after: strawberry.ID | None = None
    ) -> list[CampaignMessage]:
        ctx = info.context
        reply = await ctx.call(
            "clients",
            ctx.state.backends.marketing.ListCampaignMessages,
            marketing_pb2.ListCampaignMessagesRequest(
                campaign_id=str(self.id), first=100 if first is None else first, after=after or ""
            ),
        )
        return [CampaignMessage.of(m) for m in reply.messages]
