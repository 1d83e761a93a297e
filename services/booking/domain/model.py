"""The day of an establishment (R21): opening hours, staff hours, appointments and free
slots, and the arithmetic that turns local wall times into UTC instants.

Hours are local wall times of the establishment ("09:00" in Europe/Brussels); appointments
are UTC instants. Local times become UTC per date with zoneinfo, so a day across a DST
change is right: the last Sunday of March is 23 hours long in Brussels, the last Sunday of
October 25, and "09:00" is 07:00 UTC on the first and 08:00 UTC on the second.

"Never two overlapping appointments for one staff member" (B09) is not decided here: it
cannot be, without racing. The store decides it inside the write transaction (see
``store/repository.py``); this module only says what overlapping means.

Online booking (R16, R26): a client manages their appointments in one establishment with a
manage token, 32 random bytes (URL-safe base64) given to them once and stored only as its
SHA-256; what a token may still act on is decided here (:func:`check_manageable`).
"""

from __future__ import annotations

import hashlib
import itertools
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.common.errors import DomainError, ErrorCode, invalid
from services.common.scope import Role, Scope

# Every free slot starts on a multiple of this after the start of an opening range.
SLOT_STEP = timedelta(minutes=15)
# The timezone of an establishment this service has not heard of yet: the session
# establishment of a signed scope is known by construction, but its timezone only comes
# with the gateway's tenancy.establishment.created event. Until that event arrives the
# chain's home timezone is assumed (the seed product is Belgian).
DEFAULT_TIMEZONE = "Europe/Brussels"
MAX_BATCH = 1000
# Ten ranges a day is far more than any salon needs (a lunch break makes two).
MAX_RANGES = 70
MINUTES_PER_DAY = 24 * 60
# The catalogue caps a service's duration at a day; the store relies on it to bound the
# overlap query (an appointment ending after `start` began less than this before it).
MAX_DURATION = timedelta(days=1)
# How far ahead an appointment may be booked: a typo in the year is refused.
MAX_AHEAD = timedelta(days=2 * 366)

_CLOCK = re.compile(r"^(\d{2}):(\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Interval = tuple[datetime, datetime]


class Status(StrEnum):
    BOOKED = "BOOKED"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"
    NO_SHOW = "NO_SHOW"


@dataclass(frozen=True, order=True)
class HoursRange:
    """One range of a weekly schedule: `weekday` 1 (Monday) to 7 (Sunday), `opens` and
    `closes` in minutes after local midnight (closes may be 1440, "24:00")."""

    weekday: int
    opens: int
    closes: int

    @property
    def opens_text(self) -> str:
        return format_clock(self.opens)

    @property
    def closes_text(self) -> str:
        return format_clock(self.closes)


@dataclass(frozen=True)
class Appointment:
    id: str
    establishment_id: str
    client_id: str
    service_id: str
    staff_id: str
    start: datetime
    end: datetime
    status: Status
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    staff_id: str


# -- errors -------------------------------------------------------------------------------


def slot_taken(field: str = "start") -> DomainError:
    return DomainError(
        ErrorCode.SLOT_TAKEN, "the staff member already has an appointment then", field
    )


def outside_opening_hours() -> DomainError:
    return DomainError(
        ErrorCode.OUTSIDE_OPENING_HOURS,
        "the appointment is not within the establishment's opening hours",
        "start",
    )


def outside_staff_hours() -> DomainError:
    return DomainError(
        ErrorCode.OUTSIDE_OPENING_HOURS,
        "the appointment is not within the staff member's working hours",
        "staffId",
    )


def appointment_not_found(field: str = "appointmentId") -> DomainError:
    """The public answer for an appointment a manage token may not act on: unknown, another
    client's, another establishment's, or the token itself unknown there (R26: the answer
    never tells which)."""
    return DomainError(ErrorCode.NOT_FOUND, "appointment not found", field)


# -- manage tokens (R26) ------------------------------------------------------------------

# Bytes of randomness in a manage token (256 bits: neither guessable nor colliding).
TOKEN_BYTES = 32


def new_manage_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """What is stored and looked up: the SHA-256 of the token, hex. The token has 256 bits
    of entropy, so a plain fast hash is enough (no salt, no key stretching); a database
    dump gives no usable link."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_may_set_hours(scope: Scope, staff_id: str | None = None) -> None:
    """Opening hours are the owner's or a manager's to set (R21); a staff member's week
    also its own (R22). Checked here whatever the gateway did."""
    if scope.role in (Role.OWNER, Role.MANAGER):
        return
    if staff_id is not None and scope.user_id and staff_id == scope.user_id:
        return
    raise DomainError(
        ErrorCode.FORBIDDEN, "only an owner or a manager sets the hours of an establishment"
    )


def check_manageable(
    appointment: Appointment, now: datetime | None, field: str = "appointmentId"
) -> None:
    """CONFLICT unless the appointment is still booked and (with `now`) has not begun:
    what a client may still move or cancel online."""
    if appointment.status is not Status.BOOKED:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"the appointment is {appointment.status.value.lower()}, not booked",
            field,
        )
    if now is not None and appointment.start <= now:
        raise DomainError(ErrorCode.CONFLICT, "the appointment has already begun", field)


def staff_first(preferred: str, candidates: Sequence[str]) -> list[str]:
    """`candidates` with `preferred` moved to the front (added when missing): a moved
    appointment keeps its staff member when they are free then, else goes to another."""
    return [preferred, *(c for c in candidates if c != preferred)]


# -- input checks -------------------------------------------------------------------------


def parse_clock(value: str, field: str = "hours") -> int:
    """ "HH:MM" from 00:00 to 24:00, as minutes after midnight."""
    match = _CLOCK.match(value)
    if match is None:
        raise invalid(field, f'"{value}" is not a time (HH:MM)')
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes != 0):
        raise invalid(field, f'"{value}" is not a time between 00:00 and 24:00')
    return hours * 60 + minutes


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def check_hours(ranges: Iterable[tuple[int, str, str]], field: str = "hours") -> list[HoursRange]:
    """A week of (weekday, opens, closes): weekdays 1..7, opens before closes, the ranges
    of one weekday not overlapping (touching is fine: 09:00-12:00 and 12:00-18:00).
    Sorted by weekday then opening time."""
    checked: list[HoursRange] = []
    for weekday, opens, closes in ranges:
        if not 1 <= weekday <= 7:
            raise invalid(field, f"weekday {weekday} is not between 1 (Monday) and 7 (Sunday)")
        start, end = parse_clock(opens, field), parse_clock(closes, field)
        if start >= end:
            raise invalid(field, f"{opens}-{closes}: opens must be before closes")
        checked.append(HoursRange(weekday, start, end))
    if len(checked) > MAX_RANGES:
        raise invalid(field, f"at most {MAX_RANGES} ranges per week")
    checked.sort()
    for before, after in itertools.pairwise(checked):
        if before.weekday == after.weekday and after.opens < before.closes:
            raise invalid(
                field,
                f"weekday {after.weekday}: {before.opens_text}-{before.closes_text} and "
                f"{after.opens_text}-{after.closes_text} overlap",
            )
    return checked


def check_date(value: str, field: str = "date") -> date:
    """ "YYYY-MM-DD", a real date."""
    if not _DATE.match(value):
        raise invalid(field, "must be a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise invalid(field, "must be a date (YYYY-MM-DD)") from exc


def check_id(value: str, field: str) -> str:
    if not value.strip():
        raise invalid(field, "must not be empty")
    return value


def check_ids(ids: Sequence[str], field: str = "ids") -> list[str]:
    """Each id once, in the order asked."""
    if len(ids) > MAX_BATCH:
        raise invalid(field, f"at most {MAX_BATCH} ids per call")
    return list(dict.fromkeys(ids))


def check_start(start: datetime | None, now: datetime) -> datetime:
    """A future instant, not absurdly far ahead."""
    if start is None:
        raise invalid("start", "must be given")
    if start <= now:
        raise invalid("start", "must be in the future")
    if start > now + MAX_AHEAD:
        raise invalid("start", "is too far ahead")
    return start


def check_duration(minutes: int) -> timedelta:
    """The service's duration in the establishment (the catalogue's value, R12)."""
    duration = timedelta(minutes=minutes)
    if duration <= timedelta(0) or duration > MAX_DURATION:
        raise invalid("serviceId", "the service has no usable duration in this establishment")
    return duration


# -- time arithmetic ----------------------------------------------------------------------


def zone(name: str | None) -> ZoneInfo:
    """The establishment's timezone; DEFAULT_TIMEZONE while it is unknown (or unusable)."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(DEFAULT_TIMEZONE)


def local_instant(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time on `day` (1440 is the next midnight).

    A wall time that does not exist (in the hour skipped in spring) is read with the offset
    before the change (02:30 becomes 03:30 summer time); one that exists twice (in autumn)
    is its first occurrence (zoneinfo's fold=0).
    """
    if minutes >= MINUTES_PER_DAY:
        day, minutes = day + timedelta(days=minutes // MINUTES_PER_DAY), minutes % MINUTES_PER_DAY
    local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=tz)
    return local.astimezone(UTC)


def day_bounds(day: date, tz: ZoneInfo) -> Interval:
    """From local midnight to the next local midnight, in UTC (23 or 25 hours on a DST
    change)."""
    return local_instant(day, 0, tz), local_instant(day, MINUTES_PER_DAY, tz)


def local_day(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


def ranges_on(day: date, hours: Iterable[HoursRange], tz: ZoneInfo) -> list[Interval]:
    """The ranges of `day`'s weekday, in UTC, touching ones merged (an appointment may run
    across 12:00 when the week says 09:00-12:00 and 12:00-18:00)."""
    weekday = day.isoweekday()
    intervals = sorted(
        (local_instant(day, r.opens, tz), local_instant(day, r.closes, tz))
        for r in hours
        if r.weekday == weekday
    )
    merged: list[Interval] = []
    for start, end in intervals:
        if end <= start:  # entirely inside the hour skipped in spring
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def covers(ranges: Iterable[Interval], start: datetime, end: datetime) -> bool:
    """Whether one range holds the whole of [start, end)."""
    return any(r_start <= start and end <= r_end for r_start, r_end in ranges)


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open intervals: one ending at 10:00 and one starting at 10:00 do not overlap."""
    return a_start < b_end and a_end > b_start


def staff_ranges_on(
    day: date,
    opening: Sequence[HoursRange],
    staff: Sequence[HoursRange] | None,
    tz: ZoneInfo,
) -> list[Interval]:
    """When a staff member works on `day`: their own hours in the establishment, or the
    establishment's opening hours when they have none (R21, R22)."""
    return ranges_on(day, staff if staff else opening, tz)


def slot_starts(
    ranges: Iterable[Interval], duration: timedelta, step: timedelta = SLOT_STEP
) -> list[Interval]:
    """Candidate slots: every `step` from each range's start, while the whole duration
    still fits in the range."""
    slots: list[Interval] = []
    for range_start, range_end in ranges:
        start = range_start
        while start + duration <= range_end:
            slots.append((start, start + duration))
            start += step
    return slots


def free_slots(
    day: date,
    tz: ZoneInfo,
    opening: Sequence[HoursRange],
    staff_hours: Mapping[str, Sequence[HoursRange] | None],
    busy: Mapping[str, Sequence[Interval]],
    duration: timedelta,
    now: datetime,
) -> list[Slot]:
    """The free slots of a day, per staff member (the keys of `staff_hours`, each with
    their own hours or None): from the establishment's opening ranges, within the person's
    hours, not overlapping any of their booked appointments (`busy`, in every
    establishment: B09), not in the past. Ordered by start, then staff id."""
    candidates = slot_starts(ranges_on(day, opening, tz), duration)
    found: list[Slot] = []
    for staff_id, own in staff_hours.items():
        works = staff_ranges_on(day, opening, own, tz)
        taken = busy.get(staff_id, ())
        for start, end in candidates:
            if start <= now or not covers(works, start, end):
                continue
            if any(overlaps(start, end, b_start, b_end) for b_start, b_end in taken):
                continue
            found.append(Slot(start, end, staff_id))
    found.sort(key=lambda s: (s.start, s.staff_id))
    return found


def check_within_hours(
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    opening: Sequence[HoursRange],
) -> None:
    """OUTSIDE_OPENING_HOURS (start) unless the establishment is open for the whole of
    [start, end) on the local day the appointment starts."""
    if not covers(ranges_on(local_day(start, tz), opening, tz), start, end):
        raise outside_opening_hours()


def staff_works(
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    opening: Sequence[HoursRange],
    staff: Sequence[HoursRange] | None,
) -> bool:
    return covers(staff_ranges_on(local_day(start, tz), opening, staff, tz), start, end)


def who_can_take(
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    opening: Sequence[HoursRange],
    candidates: Sequence[str],
    staff_hours: Mapping[str, Sequence[HoursRange]],
    *,
    asked: bool,
) -> list[str]:
    """The candidates, in their order, who work for the whole of [start, end): within the
    establishment's opening hours (else OUTSIDE_OPENING_HOURS on start) and their own hours
    there, if they have any (else, for the one staff member `asked` for,
    OUTSIDE_OPENING_HOURS on staffId). Whether they are free is the store's to decide."""
    check_within_hours(start, end, tz, opening)
    working = [s for s in candidates if staff_works(start, end, tz, opening, staff_hours.get(s))]
    if asked and not working:
        raise outside_staff_hours()
    return working
