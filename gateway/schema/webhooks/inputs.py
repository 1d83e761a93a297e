from __future__ import annotations

import strawberry


@strawberry.input(
    description="B06: an endpoint for the organization's events. Production: https only, and "
    "a host that resolves only to public addresses (development also takes http and local "
    "addresses, for a receiver on your machine)."
)
class RegisterWebhookInput:
    url: str
    event_types: list[str] = strawberry.field(
        default_factory=list,
        description='Event type names ("salon.booking.appointment.booked.v1", '
        "docs/events.md); empty: every type.",
    )


@strawberry.input
class DeleteWebhookInput:
    id: strawberry.ID
