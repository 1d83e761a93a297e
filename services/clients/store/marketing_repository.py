"""Queries of marketing campaigns (R30). Every read of a campaign filters on the
organization and the establishment of the scope: another establishment's campaign is not
found. The sender's side (claims, outcomes) works on the service's queue across
organizations, like the outbox relay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.clients.domain import marketing
from services.clients.domain.marketing import (
    Audience,
    Campaign,
    CampaignStatus,
    Channel,
    Counts,
    Message,
    MessageStatus,
    NewCampaign,
    Recipient,
)
from services.clients.store.marketing_tables import campaign_messages, campaigns
from services.clients.store.tables import client_establishments, clients
from services.common.db import new_id, utcnow
from services.common.errors import not_found
from services.common.mail import backoff

_REASON_LENGTH = 500
# Rows per INSERT when a campaign is turned into its messages.
_INSERT_BATCH = 500


def _to_campaign(row: Any, counts: Counts | None = None) -> Campaign:
    return Campaign(
        id=row.id,
        organization_id=row.organization_id,
        establishment_id=row.establishment_id,
        name=row.name,
        channel=Channel(row.channel),
        subject=row.subject,
        body=row.body,
        audience=Audience(row.audience),
        status=CampaignStatus(row.status),
        created_by=row.created_by,
        created_at=row.created_at,
        sent_at=row.sent_at,
        counts=counts or Counts(),
    )


def _to_message(row: Any) -> Message:
    return Message(
        id=row.id,
        campaign_id=row.campaign_id,
        client_id=row.client_id,
        channel=Channel(row.channel),
        address=row.address,
        status=MessageStatus(row.status),
        reason=row.reason,
        attempts=int(row.attempts),
        sent_at=row.sent_at,
    )


def _in_establishment(organization_id: str, establishment_id: str) -> Any:
    return and_(
        campaigns.c.organization_id == organization_id,
        campaigns.c.establishment_id == establishment_id,
    )


async def _counts(
    conn: AsyncConnection, organization_id: str, campaign_ids: Sequence[str]
) -> dict[str, Counts]:
    found: dict[str, dict[str, int]] = {i: {} for i in campaign_ids}
    if campaign_ids:
        rows = await conn.execute(
            select(campaign_messages.c.campaign_id, campaign_messages.c.status, func.count())
            .where(
                campaign_messages.c.organization_id == organization_id,
                campaign_messages.c.campaign_id.in_(list(campaign_ids)),
            )
            .group_by(campaign_messages.c.campaign_id, campaign_messages.c.status)
        )
        for campaign_id, status, count in rows:
            found[campaign_id][status] = int(count)
    return {
        i: Counts(
            pending=c.get(MessageStatus.PENDING.value, 0),
            sent=c.get(MessageStatus.SENT.value, 0),
            failed=c.get(MessageStatus.FAILED.value, 0),
            skipped=c.get(MessageStatus.SKIPPED.value, 0),
        )
        for i, c in found.items()
    }


async def create_campaign(
    conn: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    created_by: str,
    new: NewCampaign,
) -> Campaign:
    """A DRAFT in the establishment, in the caller's write transaction."""
    now = utcnow()
    campaign_id = new_id()
    await conn.execute(
        campaigns.insert().values(
            id=campaign_id,
            organization_id=organization_id,
            establishment_id=establishment_id,
            name=new.name,
            channel=new.channel.value,
            subject=new.subject,
            body=new.body,
            audience=new.audience.value,
            status=CampaignStatus.DRAFT.value,
            created_by=created_by,
            created_at=now,
            updated_at=now,
        )
    )
    return (await get_campaigns(conn, organization_id, establishment_id, [campaign_id]))[0]


async def get_campaigns(
    conn: AsyncConnection, organization_id: str, establishment_id: str, ids: Sequence[str]
) -> list[Campaign]:
    """The establishment's campaigns among `ids`, in the order asked; others left out."""
    unique = list(dict.fromkeys(i for i in ids if i))
    if not unique:
        return []
    rows = (
        await conn.execute(
            select(campaigns).where(
                _in_establishment(organization_id, establishment_id), campaigns.c.id.in_(unique)
            )
        )
    ).all()
    counts = await _counts(conn, organization_id, [r.id for r in rows])
    by_id = {r.id: _to_campaign(r, counts[r.id]) for r in rows}
    return [by_id[i] for i in unique if i in by_id]


async def list_campaigns(
    conn: AsyncConnection, organization_id: str, establishment_id: str, first: int
) -> list[Campaign]:
    """The establishment's campaigns, newest first."""
    rows = (
        await conn.execute(
            select(campaigns)
            .where(_in_establishment(organization_id, establishment_id))
            .order_by(campaigns.c.created_at.desc(), campaigns.c.id.desc())
            .limit(first)
        )
    ).all()
    counts = await _counts(conn, organization_id, [r.id for r in rows])
    return [_to_campaign(r, counts[r.id]) for r in rows]


async def _audience(
    conn: AsyncConnection, organization_id: str, establishment_id: str, audience: Audience
) -> list[Recipient]:
    """The clients the campaign is for: the organization's whole file, or those with history
    in the establishment (R10)."""
    query = select(
        clients.c.id,
        clients.c.email,
        clients.c.phone,
        clients.c.marketing_email_opt_out,
        clients.c.marketing_sms_opt_out,
        clients.c.erased_at,
    ).where(
        clients.c.organization_id == organization_id,
        # B07: a merged record is not a person of its own; the kept record is in the file.
        clients.c.merged_into_id.is_(None),
    )
    if audience is Audience.ESTABLISHMENT:
        query = query.where(
            exists().where(
                client_establishments.c.organization_id == organization_id,
                client_establishments.c.establishment_id == establishment_id,
                client_establishments.c.client_id == clients.c.id,
            )
        )
    rows = await conn.execute(query.order_by(clients.c.sort_key, clients.c.id))
    return [
        Recipient(
            client_id=r.id,
            email=r.email,
            phone=r.phone,
            marketing_email_opt_out=bool(r.marketing_email_opt_out),
            marketing_sms_opt_out=bool(r.marketing_sms_opt_out),
            erased=r.erased_at is not None,
        )
        for r in rows
    ]


async def send_campaign(
    conn: AsyncConnection, organization_id: str, establishment_id: str, campaign_id: str
) -> tuple[Campaign, bool]:
    """Turn a DRAFT into its messages, in the caller's write transaction: the campaign, and
    whether this call did it (False: it was sent before, nothing is recorded again).

    The conditional UPDATE (status DRAFT -> SENDING) decides between racing calls: on
    SQLite writers take turns; on PostgreSQL the second waits for the first's row lock and
    then finds the status changed. The unique (organization, campaign, client) key is the
    second guard: a client never gets one campaign twice."""
    row = (
        await conn.execute(
            select(campaigns.c.id).where(
                _in_establishment(organization_id, establishment_id),
                campaigns.c.id == campaign_id,
            )
        )
    ).first()
    if row is None:
        raise not_found("campaign", "id")
    now = utcnow()
    started = await conn.execute(
        update(campaigns)
        .where(
            _in_establishment(organization_id, establishment_id),
            campaigns.c.id == campaign_id,
            campaigns.c.status == CampaignStatus.DRAFT.value,
        )
        .values(status=CampaignStatus.SENDING.value, sent_at=now, updated_at=now)
        .returning(campaigns.c.channel, campaigns.c.audience)
    )
    begun = started.first()
    if begun is None:
        found = await get_campaigns(conn, organization_id, establishment_id, [campaign_id])
        return found[0], False
    channel, audience = Channel(begun.channel), Audience(begun.audience)
    recipients = await _audience(conn, organization_id, establishment_id, audience)
    rows = []
    for recipient in recipients:
        decision = marketing.decide(channel, recipient)
        rows.append(
            {
                "id": new_id(),
                "organization_id": organization_id,
                "establishment_id": establishment_id,
                "campaign_id": campaign_id,
                "client_id": recipient.client_id,
                "channel": channel.value,
                "address": decision.address,
                "status": decision.status.value,
                "reason": decision.reason,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
    for start in range(0, len(rows), _INSERT_BATCH):
        await conn.execute(campaign_messages.insert(), rows[start : start + _INSERT_BATCH])
    await _finish_if_done(conn, organization_id, campaign_id, now)
    found = await get_campaigns(conn, organization_id, establishment_id, [campaign_id])
    return found[0], True


async def _finish_if_done(
    conn: AsyncConnection, organization_id: str, campaign_id: str, now: datetime
) -> None:
    """SENDING -> SENT once no message is pending."""
    await conn.execute(
        update(campaigns)
        .where(
            campaigns.c.organization_id == organization_id,
            campaigns.c.id == campaign_id,
            campaigns.c.status == CampaignStatus.SENDING.value,
            ~exists().where(
                campaign_messages.c.organization_id == organization_id,
                campaign_messages.c.campaign_id == campaign_id,
                campaign_messages.c.status == MessageStatus.PENDING.value,
            ),
        )
        .values(status=CampaignStatus.SENT.value, finished_at=now, updated_at=now)
    )


@dataclass(frozen=True)
class MessagePage:
    messages: list[Message]
    has_next_page: bool


async def list_messages(
    conn: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    campaign_id: str,
    first: int,
    after: str | None,
) -> MessagePage:
    """The messages of one campaign of the establishment, by id; NOT_FOUND (campaignId)
    for a campaign of another establishment or organization."""
    if not await get_campaigns(conn, organization_id, establishment_id, [campaign_id]):
        raise not_found("campaign", "campaignId")
    query = select(campaign_messages).where(
        campaign_messages.c.organization_id == organization_id,
        campaign_messages.c.campaign_id == campaign_id,
    )
    if after:
        query = query.where(campaign_messages.c.id > after)
    rows = (await conn.execute(query.order_by(campaign_messages.c.id).limit(first + 1))).all()
    return MessagePage([_to_message(r) for r in rows[:first]], len(rows) > first)


# -- the sender's side ----------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """A claimed message and what it needs to go: the campaign's text, the client now."""

    id: str
    organization_id: str
    establishment_id: str
    campaign_id: str
    channel: Channel
    address: str | None
    attempts: int
    subject: str | None
    body: str
    recipient: Recipient
    first_name: str
    last_name: str


def _takeable(now: datetime) -> Any:
    """Pending, due, and claimed by no one (or by someone whose claim ran out)."""
    return and_(
        campaign_messages.c.status == MessageStatus.PENDING.value,
        campaign_messages.c.next_attempt_at <= now,
        or_(campaign_messages.c.claimed_until.is_(None), campaign_messages.c.claimed_until < now),
    )


async def anything_due(conn: AsyncConnection, now: datetime) -> bool:
    """A read, so that an idle sender does not open a write transaction at every poll (on
    SQLite that would take the one writer)."""
    found = await conn.execute(select(campaign_messages.c.id).where(_takeable(now)).limit(1))
    return found.first() is not None


async def claim_next(
    conn: AsyncConnection, now: datetime, hold: timedelta
) -> tuple[str, str] | None:
    """Take the next due message for `hold`, in the caller's write transaction: its id and
    organization, or None when nothing is due (the scan spans organizations: the caller's
    transaction says so, for row-level security on PostgreSQL). A conditional UPDATE: of
    two replicas that pick the same row one changes it, the other changes nothing and gets
    None (PostgreSQL: SKIP LOCKED lets it pick another row rather than wait). Until the
    claim runs out no one else takes it."""
    due = _takeable(now)
    pick = (
        select(campaign_messages.c.id)
        .where(due)
        .order_by(campaign_messages.c.next_attempt_at, campaign_messages.c.id)
        .limit(1)
    )
    if conn.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    message_id = (await conn.execute(pick)).scalar_one_or_none()
    if message_id is None:
        return None
    claimed = (
        await conn.execute(
            update(campaign_messages)
            .where(campaign_messages.c.id == message_id, due)
            .values(claimed_until=now + hold)
            .returning(campaign_messages.c.id, campaign_messages.c.organization_id)
        )
    ).first()
    return None if claimed is None else (str(claimed.id), str(claimed.organization_id))


async def outgoing(conn: AsyncConnection, message_id: str) -> Outgoing | None:
    """The claimed message with its campaign and its client as they are now."""
    row = (
        await conn.execute(
            select(
                campaign_messages.c.id,
                campaign_messages.c.organization_id,
                campaign_messages.c.establishment_id,
                campaign_messages.c.campaign_id,
                campaign_messages.c.channel,
                campaign_messages.c.address,
                campaign_messages.c.attempts,
                campaigns.c.subject,
                campaigns.c.body,
                clients.c.id.label("client_id"),
                clients.c.first_name,
                clients.c.last_name,
                clients.c.email,
                clients.c.phone,
                clients.c.marketing_email_opt_out,
                clients.c.marketing_sms_opt_out,
                clients.c.erased_at,
                clients.c.merged_into_id,
            )
            .join(
                campaigns,
                and_(
                    campaigns.c.organization_id == campaign_messages.c.organization_id,
                    campaigns.c.id == campaign_messages.c.campaign_id,
                ),
            )
            .join(
                clients,
                and_(
                    clients.c.organization_id == campaign_messages.c.organization_id,
                    clients.c.id == campaign_messages.c.client_id,
                ),
            )
            .where(campaign_messages.c.id == message_id)
        )
    ).first()
    if row is None:
        return None
    return Outgoing(
        id=row.id,
        organization_id=row.organization_id,
        establishment_id=row.establishment_id,
        campaign_id=row.campaign_id,
        channel=Channel(row.channel),
        address=row.address,
        attempts=int(row.attempts),
        subject=row.subject,
        body=row.body,
        recipient=Recipient(
            client_id=row.client_id,
            email=row.email,
            phone=row.phone,
            marketing_email_opt_out=bool(row.marketing_email_opt_out),
            marketing_sms_opt_out=bool(row.marketing_sms_opt_out),
            erased=row.erased_at is not None,
            merged=row.merged_into_id is not None,
        ),
        first_name=row.first_name,
        last_name=row.last_name,
    )


async def _lock_campaigns(conn: AsyncConnection, campaign_ids: Sequence[str]) -> None:
    """Take the campaigns' rows until the transaction ends (PostgreSQL; SQLite's writers
    take turns anyway), in id order. Whoever settles a message holds its campaign first, so
    that "no message pending any more" is checked after the other settlements committed:
    without it, two replicas marking a campaign's last two messages at once would each see
    the other's still pending, and the campaign would stay SENDING."""
    if conn.dialect.name != "postgresql" or not campaign_ids:
        return
    await conn.execute(
        select(campaigns.c.id)
        .where(campaigns.c.id.in_(sorted(set(campaign_ids))))
        .order_by(campaigns.c.id)
        .with_for_update()
    )


async def _settle(
    conn: AsyncConnection, message_id: str, values: dict[str, Any], *, pending_only: bool
) -> None:
    now = utcnow()
    found = (
        await conn.execute(
            select(campaign_messages.c.organization_id, campaign_messages.c.campaign_id).where(
                campaign_messages.c.id == message_id
            )
        )
    ).first()
    if found is None:
        return
    await _lock_campaigns(conn, [found.campaign_id])
    conditions = [campaign_messages.c.id == message_id]
    if pending_only:
        conditions.append(campaign_messages.c.status == MessageStatus.PENDING.value)
    done = await conn.execute(
        update(campaign_messages)
        .where(*conditions)
        .values(**values, claimed_until=None, updated_at=now)
    )
    if done.rowcount:  # type: ignore[attr-defined]
        await _finish_if_done(conn, found.organization_id, found.campaign_id, now)


async def mark_sent(conn: AsyncConnection, message_id: str, address: str) -> None:
    """The server (or the SMS gateway) took it. Whatever happened to the row meanwhile, it
    was sent; but when the client was erased while it was on its way (B11), their address
    is not written back."""
    erased = campaign_messages.c.reason == marketing.ERASED
    await _settle(
        conn,
        message_id,
        {
            "status": MessageStatus.SENT.value,
            "address": case((erased, None), else_=address),
            "reason": case((erased, marketing.ERASED), else_=None),
            "sent_at": utcnow(),
        },
        pending_only=False,
    )


async def mark_skipped(conn: AsyncConnection, message_id: str, reason: str) -> None:
    """Not to be sent after all (consent withdrawn, address gone, client erased since the
    campaign was sent). An erased client's address is not kept."""
    await _settle(
        conn,
        message_id,
        {"status": MessageStatus.SKIPPED.value, "address": None, "reason": reason[:_REASON_LENGTH]},
        pending_only=True,
    )


async def mark_refused(conn: AsyncConnection, message_id: str, reason: str) -> None:
    """Refused for good by the server: FAILED, not retried."""
    await _settle(
        conn,
        message_id,
        {
            "status": MessageStatus.FAILED.value,
            "attempts": campaign_messages.c.attempts + 1,
            "reason": reason[:_REASON_LENGTH],
        },
        pending_only=True,
    )


async def mark_failed(conn: AsyncConnection, message_id: str, reason: str) -> datetime | None:
    """One more failed attempt: tried again after the backoff (the next attempt's time), or
    FAILED after the last attempt (None)."""
    now = utcnow()
    attempts = (
        await conn.execute(
            select(campaign_messages.c.attempts).where(campaign_messages.c.id == message_id)
        )
    ).scalar_one() + 1
    if attempts >= marketing.MAX_ATTEMPTS:
        await _settle(
            conn,
            message_id,
            {
                "status": MessageStatus.FAILED.value,
                "attempts": attempts,
                "reason": f"gave up after {attempts} attempts: {reason}"[:_REASON_LENGTH],
            },
            pending_only=True,
        )
        return None
    next_attempt = now + backoff(attempts)
    await conn.execute(
        update(campaign_messages)
        .where(
            campaign_messages.c.id == message_id,
            campaign_messages.c.status == MessageStatus.PENDING.value,
        )
        .values(
            attempts=attempts,
            reason=reason[:_REASON_LENGTH],
            next_attempt_at=next_attempt,
            claimed_until=None,
            updated_at=now,
        )
    )
    return next_attempt


# -- privacy (B11) ------------------------------------------------------------------------


async def forget_client(conn: AsyncConnection, organization_id: str, client_id: str) -> None:
    """The client was erased: no address of theirs stays in the campaigns' records, and
    nothing still pending goes to them."""
    now = utcnow()
    of_client = and_(
        campaign_messages.c.organization_id == organization_id,
        campaign_messages.c.client_id == client_id,
    )
    campaign_ids = list(
        (await conn.execute(select(campaign_messages.c.campaign_id).where(of_client))).scalars()
    )
    if not campaign_ids:
        return
    # Campaigns first, then messages: the order every settlement takes (no deadlock).
    await _lock_campaigns(conn, campaign_ids)
    await conn.execute(
        update(campaign_messages)
        .where(of_client, campaign_messages.c.status == MessageStatus.PENDING.value)
        .values(
            status=MessageStatus.SKIPPED.value,
            reason=marketing.ERASED,
            claimed_until=None,
            updated_at=now,
        )
    )
    await conn.execute(
        update(campaign_messages).where(of_client).values(address=None, updated_at=now)
    )
    for campaign_id in campaign_ids:
        await _finish_if_done(conn, organization_id, campaign_id, now)


async def export_messages(
    conn: AsyncConnection, organization_id: str, client_id: str
) -> list[dict[str, Any]]:
    """The campaign messages recorded for the client, oldest first (B11 export)."""
    rows = await conn.execute(
        select(campaign_messages, campaigns.c.name)
        .join(campaigns, campaigns.c.id == campaign_messages.c.campaign_id)
        .where(
            campaign_messages.c.organization_id == organization_id,
            campaign_messages.c.client_id == client_id,
        )
        .order_by(campaign_messages.c.created_at, campaign_messages.c.id)
    )
    return [
        {
            "campaignId": r.campaign_id,
            "campaignName": r.name,
            "establishmentId": r.establishment_id,
            "channel": r.channel,
            "address": r.address,
            "status": r.status,
            "reason": r.reason,
            "sentAt": r.sent_at,
        }
        for r in rows
    ]
