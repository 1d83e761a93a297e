"""Opening hours (R21): a leaf module, so Establishment can show them without a cycle."""

from __future__ import annotations

import strawberry

from salon.booking.v1 import booking_pb2


@strawberry.type
class OpeningHours:
    weekday: int = strawberry.field(description="1 = Monday ... 7 = Sunday")
    opens: str = strawberry.field(description='"09:00", in the establishment\'s timezone')
    closes: str

    @classmethod
    def of(cls, msg: booking_pb2.OpeningHours) -> OpeningHours:
        return cls(weekday=msg.weekday, opens=msg.opens, closes=msg.closes)
