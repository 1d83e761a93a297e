"""Webhook endpoints and deliveries in the gateway's database. Every read and change names
the organization (R01); the sender's scan is the only one across organizations, and it
reads each delivery's endpoint by (organization, id)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import orjson
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.settings import GatewaySettings
from gateway.store.tables import webhook_deliveries, webhook_endpoints
from services.common.db import insert_ignore, new_id, utcnow

MAX_ENDPOINTS = 20
MAX_DELIVERIES = 100
MAX_ERROR = 500


class Status(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


class SecretBox:
    """The endpoints' secrets at rest: Fernet with SALON_WEBHOOKS_KEY, or a key derived
    from the first scope secret when that is not set."""

    def __init__(self, settings: GatewaySettings) -> None:
        key = settings.webhooks_key.strip()
        if not key:
            seed = b"salon webhooks key\0" + settings.scope_secrets()[0]
            key = base64.urlsafe_b64encode(hashlib.sha256(seed).digest()).decode()
        try:
            self._fernet = Fernet(key.encode())
        except (ValueError, TypeError):
            raise RuntimeError("SALON_WEBHOOKS_KEY is not a Fernet key") from None

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except InvalidToken:
            raise RuntimeError("a webhook secret cannot be decrypted with this key") from None


@dataclass(frozen=True)
class Endpoint:
    id: str
    organization_id: str
    url: str
    event_types: list[str]
    enabled: bool
    created_at: datetime

    def wants(self, event_type: str, occurred_at: datetime) -> bool:
        """Enabled, the type is one it asked for, and the event is not older than the
        endpoint (a new endpoint is not sent the past, nor a replay of it)."""
        return (
            self.enabled
            and occurred_at >= self.created_at
            and (not self.event_types or event_type in self.event_types)
        )


@dataclass(frozen=True)
class Delivery:
    id: str
    organization_id: str
    endpoint_id: str
    event_id: str
    event_type: str
    payload: str
    attempts: int
    status: Status
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


def _endpoint(row: object) -> Endpoint:
    r = row._mapping  # type: ignore[attr-defined]
    return Endpoint(
        id=r["id"],
        organization_id=r["organization_id"],
        url=r["url"],
        event_types=list(orjson.loads(r["event_types"])),
        enabled=bool(r["enabled"]),
        created_at=r["created_at"],
    )


def _delivery(row: object) -> Delivery:
    r = row._mapping  # type: ignore[attr-defined]
    return Delivery(
        id=r["id"],
        organization_id=r["organization_id"],
        endpoint_id=r["endpoint_id"],
        event_id=r["event_id"],
        event_type=r["event_type"],
        payload=r["payload"],
        attempts=r["attempts"],
        status=Status(r["status"]),
        next_attempt_at=r["next_attempt_at"],
        last_status_code=r["last_status_code"],
        last_error=r["last_error"],
        created_at=r["created_at"],
        delivered_at=r["delivered_at"],
    )


async def count_endpoints(conn: AsyncConnection, organization_id: str) -> int:
    rows = await conn.execute(
        select(webhook_endpoints.c.id).where(webhook_endpoints.c.organization_id == organization_id)
    )
    return len(rows.all())


async def add_endpoint(
    conn: AsyncConnection,
    organization_id: str,
    url: str,
    event_types: Sequence[str],
    sealed_secret: str,
) -> Endpoint:
    endpoint = Endpoint(new_id(), organization_id, url, list(event_types), True, utcnow())
    await conn.execute(
        webhook_endpoints.insert().values(
            id=endpoint.id,
            organization_id=organization_id,
            url=url,
            event_types=orjson.dumps(endpoint.event_types).decode(),
            secret=sealed_secret,
            enabled=True,
            created_at=endpoint.created_at,
        )
    )
    return endpoint


async def endpoints(conn: AsyncConnection, organization_id: str) -> list[Endpoint]:
    rows = await conn.execute(
        select(webhook_endpoints)
        .where(webhook_endpoints.c.organization_id == organization_id)
        .order_by(webhook_endpoints.c.created_at, webhook_endpoints.c.id)
    )
    return [_endpoint(r) for r in rows]


async def endpoint(
    conn: AsyncConnection, organization_id: str, endpoint_id: str
) -> tuple[Endpoint, str] | None:
    """The endpoint and its sealed secret, in that organization only."""
    row = (
        await conn.execute(
            select(webhook_endpoints).where(
                webhook_endpoints.c.organization_id == organization_id,
                webhook_endpoints.c.id == endpoint_id,
            )
        )
    ).first()
    return (_endpoint(row), row._mapping["secret"]) if row is not None else None


async def delete_endpoint(conn: AsyncConnection, organization_id: str, endpoint_id: str) -> bool:
    """The endpoint and its deliveries (pending ones are not sent any more)."""
    result = await conn.execute(
        delete(webhook_endpoints).where(
            webhook_endpoints.c.organization_id == organization_id,
            webhook_endpoints.c.id == endpoint_id,
        )
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await conn.execute(
        delete(webhook_deliveries).where(
            webhook_deliveries.c.organization_id == organization_id,
            webhook_deliveries.c.endpoint_id == endpoint_id,
        )
    )
    return True


async def enqueue(
    conn: AsyncConnection,
    organization_id: str,
    event_id: str,
    event_type: str,
    payload: str,
    occurred_at: datetime,
) -> int:
    """One delivery per endpoint of `organization_id` that wants the event; the number
    added (a redelivered event adds none)."""
    added = 0
    now = utcnow()
    for found in await endpoints(conn, organization_id):
        if not found.wants(event_type, occurred_at):
            continue
        added += await insert_ignore(
            conn,
            webhook_deliveries,
            {
                "id": new_id(),
                "organization_id": organization_id,
                "endpoint_id": found.id,
                "event_id": event_id,
                "event_type": event_type,
                "payload": payload,
                "attempts": 0,
                "status": Status.PENDING.value,
                "next_attempt_at": now,
                "claimed_until": None,
                "created_at": now,
            },
        )
    return added


async def deliveries(
    conn: AsyncConnection, organization_id: str, endpoint_id: str, limit: int
) -> list[Delivery]:
    """An endpoint's deliveries, newest first."""
    rows = await conn.execute(
        select(webhook_deliveries)
        .where(
            webhook_deliveries.c.organization_id == organization_id,
            webhook_deliveries.c.endpoint_id == endpoint_id,
        )
        .order_by(webhook_deliveries.c.created_at.desc(), webhook_deliveries.c.id.desc())
        .limit(max(1, min(limit, MAX_DELIVERIES)))
    )
    return [_delivery(r) for r in rows]


async def due(conn: AsyncConnection, now: datetime, limit: int) -> list[str]:
    """Ids of pending deliveries due now and not claimed by a live lease."""
    c = webhook_deliveries.c
    rows = await conn.execute(
        select(c.id)
        .where(
            c.status == Status.PENDING.value,
            c.next_attempt_at <= now,
            or_(c.claimed_until.is_(None), c.claimed_until < now),
        )
        .order_by(c.next_attempt_at, c.id)
        .limit(limit)
    )
    return [r[0] for r in rows]


async def claim(
    conn: AsyncConnection, delivery_id: str, now: datetime, lease: timedelta
) -> tuple[Delivery, datetime] | None:
    """Take the delivery for `lease` when it is still pending, due and unclaimed (or its
    claim ran out): one conditional UPDATE, so of two replicas one wins. The delivery and
    the claim's end (the token the marks check)."""
    c = webhook_deliveries.c
    until = now + lease
    result = await conn.execute(
        update(webhook_deliveries)
        .where(
            c.id == delivery_id,
            c.status == Status.PENDING.value,
            c.next_attempt_at <= now,
            or_(c.claimed_until.is_(None), c.claimed_until < now),
        )
        .values(claimed_until=until)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return None
    row = (await conn.execute(select(webhook_deliveries).where(c.id == delivery_id))).first()
    return (_delivery(row), until) if row is not None else None


async def finish(
    conn: AsyncConnection,
    delivery: Delivery,
    claimed_until: datetime,
    *,
    status: Status,
    next_attempt_at: datetime,
    status_code: int | None,
    error: str | None,
) -> bool:
    """Record an attempt's outcome, only while the claim is still ours."""
    c = webhook_deliveries.c
    now = utcnow()
    result = await conn.execute(
        update(webhook_deliveries)
        .where(and_(c.id == delivery.id, c.claimed_until == claimed_until))
        .values(
            attempts=delivery.attempts + 1,
            status=status.value,
            next_attempt_at=next_attempt_at,
            claimed_until=None,
            last_status_code=status_code,
            last_error=error[:MAX_ERROR] if error else None,
            delivered_at=now if status is Status.DELIVERED else None,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
