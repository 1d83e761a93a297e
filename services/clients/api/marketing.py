"""gRPC API of marketing campaigns (R30): protobuf in, domain and store calls, protobuf out.

Every campaign is the session establishment's: created there, read, listed and sent only
there (another establishment's is NOT_FOUND). SendCampaign records CampaignSent and the
messages in one transaction; the campaign sender (marketing/sender.py) sends them.
"""

from __future__ import annotations

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from salon.clients.v1 import events_pb2, marketing_pb2, marketing_pb2_grpc
from services.clients.domain import marketing
from services.clients.domain.marketing import Audience, CampaignStatus, Channel, MessageStatus
from services.clients.store import marketing_repository as store
from services.clients.store.tables import outbox
from services.common.errors import invalid
from services.common.events import EventType
from services.common.outbox import record_event
from services.common.runtime import ServiceContext
from services.common.scope import current_scope

CAMPAIGN_CREATED = EventType("clients", "campaign", "created")
CAMPAIGN_SENT = EventType("clients", "campaign", "sent")
MAX_BATCH = 1000

_CHANNEL_TO_PROTO = {
    Channel.EMAIL: marketing_pb2.CHANNEL_EMAIL,
    Channel.SMS: marketing_pb2.CHANNEL_SMS,
}
_CHANNEL_FROM_PROTO = {v: k for k, v in _CHANNEL_TO_PROTO.items()}
_AUDIENCE_TO_PROTO = {
    Audience.ORGANIZATION: marketing_pb2.AUDIENCE_ORGANIZATION,
    Audience.ESTABLISHMENT: marketing_pb2.AUDIENCE_ESTABLISHMENT,
}
_AUDIENCE_FROM_PROTO = {v: k for k, v in _AUDIENCE_TO_PROTO.items()}
_CAMPAIGN_STATUS = {
    CampaignStatus.DRAFT: marketing_pb2.CAMPAIGN_STATUS_DRAFT,
    CampaignStatus.SENDING: marketing_pb2.CAMPAIGN_STATUS_SENDING,
    CampaignStatus.SENT: marketing_pb2.CAMPAIGN_STATUS_SENT,
}
_MESSAGE_STATUS = {
    MessageStatus.PENDING: marketing_pb2.MESSAGE_STATUS_PENDING,
    MessageStatus.SENT: marketing_pb2.MESSAGE_STATUS_SENT,
    MessageStatus.FAILED: marketing_pb2.MESSAGE_STATUS_FAILED,
    MessageStatus.SKIPPED: marketing_pb2.MESSAGE_STATUS_SKIPPED,
}


def _ts(value: object) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)  # type: ignore[arg-type]
    return ts


def campaign_to_proto(campaign: marketing.Campaign) -> marketing_pb2.Campaign:
    msg = marketing_pb2.Campaign(
        id=campaign.id,
        establishment_id=campaign.establishment_id,
        name=campaign.name,
        channel=_CHANNEL_TO_PROTO[campaign.channel],
        subject=campaign.subject or "",
        body=campaign.body,
        audience=_AUDIENCE_TO_PROTO[campaign.audience],
        status=_CAMPAIGN_STATUS[campaign.status],
        created_at=_ts(campaign.created_at),
        counts=marketing_pb2.MessageCounts(
            pending=campaign.counts.pending,
            sent=campaign.counts.sent,
            failed=campaign.counts.failed,
            skipped=campaign.counts.skipped,
        ),
        created_by=campaign.created_by,
    )
    if campaign.sent_at is not None:
        msg.sent_at.CopyFrom(_ts(campaign.sent_at))
    return msg


def message_to_proto(message: marketing.Message) -> marketing_pb2.CampaignMessage:
    msg = marketing_pb2.CampaignMessage(
        id=message.id,
        campaign_id=message.campaign_id,
        client_id=message.client_id,
        channel=_CHANNEL_TO_PROTO[message.channel],
        address=message.address or "",
        status=_MESSAGE_STATUS[message.status],
        reason=message.reason or "",
        attempts=message.attempts,
    )
    if message.sent_at is not None:
        msg.sent_at.CopyFrom(_ts(message.sent_at))
    return msg


class MarketingServicer(marketing_pb2_grpc.MarketingServiceServicer):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    async def CreateCampaign(
        self, request: marketing_pb2.CreateCampaignRequest, context: grpc.aio.ServicerContext
    ) -> marketing_pb2.Campaign:
        scope = current_scope()
        new = marketing.check_new(
            request.name,
            _CHANNEL_FROM_PROTO.get(request.channel),
            request.subject,
            request.body,
            _AUDIENCE_FROM_PROTO.get(request.audience),
        )
        async with self.ctx.db.write() as conn:
            campaign = await store.create_campaign(
                conn, scope.organization_id, scope.establishment_id, scope.user_id, new
            )
            message = campaign_to_proto(campaign)
            await record_event(
                conn,
                outbox,
                CAMPAIGN_CREATED,
                events_pb2.CampaignCreated(campaign=message),
                scope,
                establishment_id=scope.establishment_id,
            )
        self.ctx.wake_relay()
        return message

    async def GetCampaigns(
        self, request: marketing_pb2.GetCampaignsRequest, context: grpc.aio.ServicerContext
    ) -> marketing_pb2.GetCampaignsResponse:
        scope = current_scope()
        if len(request.ids) > MAX_BATCH:
            raise invalid("ids", f"at most {MAX_BATCH} ids per call")
        async with self.ctx.db.read() as conn:
            found = await store.get_campaigns(
                conn, scope.organization_id, scope.establishment_id, list(request.ids)
            )
        return marketing_pb2.GetCampaignsResponse(campaigns=[campaign_to_proto(c) for c in found])

    async def ListCampaigns(
        self, request: marketing_pb2.ListCampaignsRequest, context: grpc.aio.ServicerContext
    ) -> marketing_pb2.GetCampaignsResponse:
        scope = current_scope()
        first = marketing.check_page(request.first, marketing.MAX_PAGE, 50)
        async with self.ctx.db.read() as conn:
            found = await store.list_campaigns(
                conn, scope.organization_id, scope.establishment_id, first
            )
        return marketing_pb2.GetCampaignsResponse(campaigns=[campaign_to_proto(c) for c in found])

    async def SendCampaign(
        self, request: marketing_pb2.SendCampaignRequest, context: grpc.aio.ServicerContext
    ) -> marketing_pb2.Campaign:
        scope = current_scope()
        campaign_id = marketing.check_campaign_id(request.id)
        marketing.check_sender(scope)
        async with self.ctx.db.write() as conn:
            campaign, started = await store.send_campaign(
                conn, scope.organization_id, scope.establishment_id, campaign_id
            )
            message = campaign_to_proto(campaign)
            if started:
                await record_event(
                    conn,
                    outbox,
                    CAMPAIGN_SENT,
                    events_pb2.CampaignSent(campaign=message),
                    scope,
                    establishment_id=scope.establishment_id,
                )
        if started:
            self.ctx.wake_relay()
        return message

    async def ListCampaignMessages(
        self,
        request: marketing_pb2.ListCampaignMessagesRequest,
        context: grpc.aio.ServicerContext,
    ) -> marketing_pb2.ListCampaignMessagesResponse:
        scope = current_scope()
        campaign_id = marketing.check_campaign_id(request.campaign_id, "campaignId")
        first = marketing.check_page(request.first, marketing.MAX_MESSAGES_PAGE, 100)
        async with self.ctx.db.read() as conn:
            page = await store.list_messages(
                conn,
                scope.organization_id,
                scope.establishment_id,
                campaign_id,
                first,
                request.after or None,
            )
        return marketing_pb2.ListCampaignMessagesResponse(
            messages=[message_to_proto(m) for m in page.messages],
            has_next_page=page.has_next_page,
        )
