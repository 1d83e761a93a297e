from __future__ import annotations

from datetime import datetime

import strawberry


@strawberry.input
class OpeningHoursInput:
    weekday: int
    opens: str
    closes: str


@strawberry.input(description="The session establishment's week, replacing what was set (R21).")
class SetOpeningHoursInput:
    hours: list[OpeningHoursInput]


@strawberry.input(
    description="A staff member's week in the session establishment (R21, R22); "
    "without it they work the opening hours."
)
class SetStaffHoursInput:
    user_id: strawberry.ID
    hours: list[OpeningHoursInput]


@strawberry.input(
    description="In the session establishment. Without staffId the first staff "
    "member free for the whole appointment takes it."
)
class BookAppointmentInput:
    client_id: strawberry.ID
    service_id: strawberry.ID
    start: datetime
    staff_id: strawberry.ID | None = None


@strawberry.input
class CancelAppointmentInput:
    id: strawberry.ID
