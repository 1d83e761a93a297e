"""Webhook and WebhookDelivery (B06). The signing secret is never a field: it is shown once,
in RegisterWebhookPayload.secret."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from gateway.webhooks import store


@strawberry.enum(
    description="PENDING: to be sent (again); DELIVERED: answered 2xx; "
    "FAILED: every attempt failed."
)
class WebhookDeliveryStatus(Enum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


@strawberry.type(description="B06: an endpoint that receives the organization's events.")
class Webhook:
    id: strawberry.ID
    url: str
    event_types: list[str] = strawberry.field(description="Empty: every type.")
    enabled: bool
    created_at: datetime

    @classmethod
    def of(cls, endpoint: store.Endpoint) -> Webhook:
        return cls(
            id=strawberry.ID(endpoint.id),
            url=endpoint.url,
            event_types=list(endpoint.event_types),
            enabled=endpoint.enabled,
            created_at=endpoint.created_at,
        )


@strawberry.type(description="One event for one endpoint, and how its sending went.")
class WebhookDelivery:
    id: strawberry.ID
    event_id: strawberry.ID = strawberry.field(description="Also the webhook-id header.")
    event_type: str
    status: WebhookDeliveryStatus
    attempts: int
    next_attempt_at: datetime | None = strawberry.field(description="Null once it is done.")
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, delivery: store.Delivery) -> WebhookDelivery:
        pending = delivery.status is store.Status.PENDING
        return cls(
            id=strawberry.ID(delivery.id),
            event_id=strawberry.ID(delivery.event_id),
            event_type=delivery.event_type,
            status=WebhookDeliveryStatus(delivery.status.value),
            attempts=delivery.attempts,
            next_attempt_at=delivery.next_attempt_at if pending else None,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            created_at=delivery.created_at,
            delivered_at=delivery.delivered_at,
        )
