"""Reports (R27, R06, B03): what a period is, what is counted in it, and how the booking
service's appointment events make the appointments the reports count.

- A period is two local dates, both included: `to` not before `from`, at most 366 days.
  Each establishment's days are its own (its timezone; Europe/Brussels until the tenancy
  event says otherwise), so a period is a different UTC window per timezone.
- Per establishment (R27): revenue = the receipts' totals, receipts = their number,
  products sold = the quantities of their product lines, appointments = those starting in
  the period and not cancelled.
- Another establishment's report needs SWITCH_REPORTS (R06); the organization's report
  (every establishment side by side, and totals equal to their sums: B03) needs the owner.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.common.errors import DomainError, ErrorCode, invalid
from services.common.scope import Scope

DEFAULT_TIMEZONE = "Europe/Brussels"
MAX_DAYS = 366
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    def window(self, timezone: str | None) -> tuple[datetime, datetime]:
        """[start, end) in UTC: from the first day's local midnight to the midnight after
        the last day, in the establishment's timezone (DST days last 23 or 25 hours)."""
        zone = zone_of(timezone)
        start = datetime.combine(self.first, time(), tzinfo=zone)
        end = datetime.combine(self.last + timedelta(days=1), time(), tzinfo=zone)
        return start.astimezone(UTC), end.astimezone(UTC)


def zone_of(timezone: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(timezone or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def _date(value: str, field_name: str) -> date:
    text = (value or "").strip()
    if not text:
        raise invalid(field_name, "must not be empty")
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise invalid(field_name, "must be a date as YYYY-MM-DD") from None


def check_period(first: str, last: str) -> Period:
    period = Period(_date(first, "from"), _date(last, "to"))
    if period.last < period.first:
        raise invalid("to", "must not be before from")
    if (period.last - period.first).days + 1 > MAX_DAYS:
        raise invalid("to", f"a report covers at most {MAX_DAYS} days")
    return period


def check_may_see_organization(scope: Scope) -> None:
    """B03: the organization's report is the owner's."""
    if not scope.is_owner:
        raise DomainError(ErrorCode.FORBIDDEN, "only an owner sees the organization's report", None)


@dataclass(frozen=True)
class Figures:
    """One establishment's report for a period."""

    establishment_id: str
    revenue: Decimal = ZERO
    receipts: int = 0
    products_sold: int = 0
    appointments: int = 0


@dataclass(frozen=True)
class OrganizationFigures:
    establishments: list[Figures] = field(default_factory=list)
    revenue: Decimal = ZERO
    receipts: int = 0
    products_sold: int = 0
    appointments: int = 0


def organization(rows: Iterable[Figures]) -> OrganizationFigures:
    """Every establishment side by side, in the order given, and the totals: their sums,
    so that the total can never disagree with the establishments (B03)."""
    listed = list(rows)
    return OrganizationFigures(
        establishments=listed,
        revenue=sum((f.revenue for f in listed), ZERO),
        receipts=sum(f.receipts for f in listed),
        products_sold=sum(f.products_sold for f in listed),
        appointments=sum(f.appointments for f in listed),
    )


class AppointmentStatus(StrEnum):
    BOOKED = "BOOKED"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"
    NO_SHOW = "NO_SHOW"


@dataclass(frozen=True)
class AppointmentFact:
    """What one booking event says of an appointment."""

    id: str
    establishment_id: str
    start: datetime
    status: AppointmentStatus
    # The event's time.
    at: datetime
    # A booked event: the first state of the appointment.
    first: bool


def supersedes(new: AppointmentFact, status: AppointmentStatus, at: datetime) -> bool:
    """Whether `new` replaces what is recorded (`status`, set by an event of time `at`).

    Events come more than once and in any order, so: a booked event never replaces
    anything (nothing of the appointment is older); an ended appointment (cancelled,
    completed, no-show) is never brought back by a booked state, be it a late move or a
    duplicate booked; an end always replaces a booked state; otherwise the later event
    wins, a tie going to the newcomer.
    """
    if new.first:
        return False
    new_booked = new.status is AppointmentStatus.BOOKED
    old_booked = status is AppointmentStatus.BOOKED
    if new_booked != old_booked:
        return old_booked
    return new.at >= at
