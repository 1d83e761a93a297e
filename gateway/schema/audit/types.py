"""AuditEntry (B04)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.schema.tenancy.types import Establishment, User
from gateway.store import audit, tenancy


@strawberry.type(description="One change (B04): who, where, what, when.")
class AuditEntry:
    at: datetime = strawberry.field(description="When the change happened (the event's time).")
    action: str = strawberry.field(
        description='The event type: "salon.booking.appointment.booked.v1" (docs/events.md).'
    )
    subject: str = strawberry.field(description='What changed: "appointment <id>".')
    user_row: strawberry.Private[tenancy.User | None]
    establishment_row: strawberry.Private[tenancy.Establishment | None]

    @classmethod
    def of(
        cls,
        entry: audit.AuditEntry,
        users: dict[str, tenancy.User | None],
        establishments: dict[str, tenancy.Establishment | None],
    ) -> AuditEntry:
        return cls(
            at=entry.at,
            action=entry.action,
            subject=entry.subject,
            user_row=users.get(entry.user_id) if entry.user_id else None,
            establishment_row=(
                establishments.get(entry.establishment_id) if entry.establishment_id else None
            ),
        )

    @strawberry.field(
        description="Who made it; null when no user did (the online booking "
        "page, a payment provider) or the user is unknown."
    )
    def user(self) -> User | None:
        return User.of(self.user_row) if self.user_row else None

    @strawberry.field(
        description="Where; null for a change of what the whole organization "
        "shares (a service created, the organization itself)."
    )
    def establishment(self) -> Establishment | None:
        return Establishment.of(self.establishment_row) if self.establishment_row else None
