"""Queries of the agenda. Every statement filters on the organization of the scope, and on
the establishment where the request acts, apart from the overlap check of one staff member,
which spans the organization's establishments on purpose (B09).

Concurrency (B09, "never two overlapping booked appointments for one staff member"): the
check and the insert happen in one write transaction, and no two such transactions for the
same staff member can interleave:

- PostgreSQL: :func:`book` first takes a transaction-scoped advisory lock on a hash of
  (organization_id, staff_id) (``pg_advisory_xact_lock``), then checks the overlap, then
  inserts. A concurrent booking of the same person waits at the lock until the first one
  commits or rolls back; its overlap check is a later statement, so under READ COMMITTED
  (PostgreSQL's default, which the services keep) it sees the committed appointment. The
  lock spans establishments because its key does not contain one.
- SQLite: the service's one writer connection begins every write with BEGIN IMMEDIATE, so
  write transactions run one after the other and check-then-insert cannot race.

When several staff members are candidates (no staff member asked), their locks are taken in
the order of their keys, whatever the order they are tried in, so two such bookings can wait
for each other but never deadlock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.booking.domain.model import (
    MAX_DURATION,
    Appointment,
    HoursRange,
    Interval,
    Status,
    parse_clock,
    slot_taken,
)
from services.booking.store.tables import (
    appointments,
    known_establishments,
    opening_hours,
    staff_hours,
)
from services.common.db import new_id, utcnow
from services.common.errors import DomainError, ErrorCode, not_found

# -- establishments -----------------------------------------------------------------------


async def establishment_timezone(
    session: AsyncConnection, organization_id: str, establishment_id: str
) -> str | None:
    """The timezone the gateway's tenancy event gave; None while it has not arrived."""
    return (
        await session.execute(
            select(known_establishments.c.timezone).where(
                known_establishments.c.organization_id == organization_id,
                known_establishments.c.establishment_id == establishment_id,
            )
        )
    ).scalar_one_or_none()


def _hours_rows(hours: Sequence[HoursRange]) -> list[dict[str, Any]]:
    """Stored as "HH:MM" text (readable in the database, sortable as text)."""
    return [{"weekday": h.weekday, "opens": h.opens_text, "closes": h.closes_text} for h in hours]


def _hours(row: Any) -> HoursRange:
    return HoursRange(
        weekday=row.weekday, opens=parse_clock(row.opens), closes=parse_clock(row.closes)
    )


async def replace_opening_hours(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    hours: Sequence[HoursRange],
) -> None:
    """The whole week at once: what was there is gone."""
    await session.execute(
        delete(opening_hours).where(
            opening_hours.c.organization_id == organization_id,
            opening_hours.c.establishment_id == establishment_id,
        )
    )
    if hours:
        await session.execute(
            opening_hours.insert(),
            [
                {"organization_id": organization_id, "establishment_id": establishment_id, **row}
                for row in _hours_rows(hours)
            ],
        )


async def get_opening_hours(
    session: AsyncConnection, organization_id: str, establishment_ids: Sequence[str]
) -> dict[str, list[HoursRange]]:
    """The week of each establishment asked that has hours, sorted."""
    if not establishment_ids:
        return {}
    rows = await session.execute(
        select(opening_hours).where(
            opening_hours.c.organization_id == organization_id,
            opening_hours.c.establishment_id.in_(establishment_ids),
        )
    )
    found: dict[str, list[HoursRange]] = {}
    for row in rows:
        found.setdefault(row.establishment_id, []).append(_hours(row))
    return {est: sorted(hours) for est, hours in found.items()}


async def replace_staff_hours(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    staff_id: str,
    hours: Sequence[HoursRange],
) -> None:
    """The person's whole week in this establishment; none: the opening hours again."""
    await session.execute(
        delete(staff_hours).where(
            staff_hours.c.organization_id == organization_id,
            staff_hours.c.establishment_id == establishment_id,
            staff_hours.c.staff_id == staff_id,
        )
    )
    if hours:
        await session.execute(
            staff_hours.insert(),
            [
                {
                    "organization_id": organization_id,
                    "establishment_id": establishment_id,
                    "staff_id": staff_id,
                    **row,
                }
                for row in _hours_rows(hours)
            ],
        )


async def get_staff_hours(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    staff_ids: Sequence[str],
) -> dict[str, list[HoursRange]]:
    """The weeks of the staff members who have their own hours in this establishment;
    the others are left out (they work the opening hours)."""
    if not staff_ids:
        return {}
    rows = await session.execute(
        select(staff_hours).where(
            staff_hours.c.organization_id == organization_id,
            staff_hours.c.establishment_id == establishment_id,
            staff_hours.c.staff_id.in_(staff_ids),
        )
    )
    found: dict[str, list[HoursRange]] = {}
    for row in rows:
        found.setdefault(row.staff_id, []).append(_hours(row))
    return {staff: sorted(hours) for staff, hours in found.items()}


# -- appointments -------------------------------------------------------------------------


def _to_appointment(row: Any) -> Appointment:
    return Appointment(
        id=row.id,
        establishment_id=row.establishment_id,
        client_id=row.client_id,
        service_id=row.service_id,
        staff_id=row.staff_id,
        start=row.start_at,
        end=row.end_at,
        status=Status(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def staff_lock_key(organization_id: str, staff_id: str) -> int:
    """A signed 64-bit key for pg_advisory_xact_lock: one per person in the organization,
    whatever the establishment (B09)."""
    digest = hashlib.blake2b(
        f"salon.booking.staff:{organization_id}:{staff_id}".encode(), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big", signed=True)


async def lock_staff(
    session: AsyncConnection, organization_id: str, staff_ids: Sequence[str]
) -> None:
    """Until the transaction ends, no other booking of these people can check or insert
    (PostgreSQL; on SQLite the writer already runs alone). Taken in key order."""
    if session.dialect.name != "postgresql":
        return
    for key in sorted({staff_lock_key(organization_id, s) for s in staff_ids}):
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def busy_times(
    session: AsyncConnection,
    organization_id: str,
    staff_ids: Sequence[str],
    start: datetime,
    end: datetime,
) -> dict[str, list[Interval]]:
    """The booked appointments of these people overlapping [start, end), in every
    establishment of the organization (B09)."""
    if not staff_ids:
        return {}
    rows = await session.execute(
        select(appointments.c.staff_id, appointments.c.start_at, appointments.c.end_at)
        .where(
            appointments.c.organization_id == organization_id,
            appointments.c.staff_id.in_(staff_ids),
            # No appointment lasts longer than MAX_DURATION: a lower bound for the index.
            appointments.c.start_at > start - MAX_DURATION,
            appointments.c.start_at < end,
            appointments.c.end_at > start,
            appointments.c.status == Status.BOOKED.value,
        )
        .order_by(appointments.c.start_at)
    )
    found: dict[str, list[Interval]] = {}
    for row in rows:
        found.setdefault(row.staff_id, []).append((row.start_at, row.end_at))
    return found


async def book(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    client_id: str,
    service_id: str,
    candidates: Sequence[str],
    start: datetime,
    end: datetime,
) -> Appointment:
    """Book the first of `candidates` (staff members already checked to be members who
    work then) who holds no overlapping booked appointment anywhere in the organization,
    in the caller's write transaction; SLOT_TAKEN (start) when none is free."""
    if not candidates:
        raise slot_taken()
    await lock_staff(session, organization_id, candidates)
    busy = await busy_times(session, organization_id, candidates, start, end)
    free = next((s for s in candidates if s not in busy), None)
    if free is None:
        raise slot_taken()
    now = utcnow()
    appointment = Appointment(
        id=new_id(),
        establishment_id=establishment_id,
        client_id=client_id,
        service_id=service_id,
        staff_id=free,
        start=start,
        end=end,
        status=Status.BOOKED,
        created_at=now,
        updated_at=now,
    )
    await session.execute(
        appointments.insert().values(
            id=appointment.id,
            organization_id=organization_id,
            establishment_id=establishment_id,
            client_id=client_id,
            service_id=service_id,
            staff_id=free,
            start_at=start,
            end_at=end,
            status=Status.BOOKED.value,
            created_at=now,
            updated_at=now,
        )
    )
    return appointment


async def cancel(
    session: AsyncConnection, organization_id: str, establishment_id: str, appointment_id: str
) -> Appointment:
    """BOOKED to CANCELLED as one conditional update: of two concurrent cancels one wins,
    the other finds it no longer booked (CONFLICT). Another establishment's or
    organization's appointment: NOT_FOUND."""
    row = (
        await session.execute(
            update(appointments)
            .where(
                appointments.c.organization_id == organization_id,
                appointments.c.establishment_id == establishment_id,
                appointments.c.id == appointment_id,
                appointments.c.status == Status.BOOKED.value,
            )
            .values(status=Status.CANCELLED.value, updated_at=utcnow())
            .returning(*appointments.c)
        )
    ).first()
    if row is not None:
        return _to_appointment(row)
    existing = (
        await session.execute(
            select(appointments.c.status).where(
                appointments.c.organization_id == organization_id,
                appointments.c.establishment_id == establishment_id,
                appointments.c.id == appointment_id,
            )
        )
    ).scalar_one_or_none()
    if existing is None:
        raise not_found("appointment", "id")
    raise DomainError(
        ErrorCode.CONFLICT, f"the appointment is {existing.lower()}, not booked", "id"
    )


async def get_appointments(
    session: AsyncConnection, organization_id: str, ids: Sequence[str]
) -> list[Appointment]:
    """The organization's appointments among `ids`, in the order asked."""
    if not ids:
        return []
    rows = await session.execute(
        select(appointments).where(
            appointments.c.organization_id == organization_id, appointments.c.id.in_(ids)
        )
    )
    by_id = {row.id: _to_appointment(row) for row in rows}
    return [by_id[i] for i in ids if i in by_id]


async def agenda(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    start: datetime,
    end: datetime,
) -> list[Appointment]:
    """Every appointment (whatever its status) starting in [start, end), by start."""
    rows = await session.execute(
        select(appointments)
        .where(
            appointments.c.organization_id == organization_id,
            appointments.c.establishment_id == establishment_id,
            appointments.c.start_at >= start,
            appointments.c.start_at < end,
        )
        .order_by(appointments.c.start_at, appointments.c.staff_id, appointments.c.id)
    )
    return [_to_appointment(row) for row in rows]


async def client_appointments(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    client_id: str,
    upcoming_from: datetime | None,
) -> list[Appointment]:
    """A client's appointments in one establishment, by start; with `upcoming_from`, only
    the booked ones starting then or later."""
    query = select(appointments).where(
        appointments.c.organization_id == organization_id,
        appointments.c.client_id == client_id,
        appointments.c.establishment_id == establishment_id,
    )
    if upcoming_from is not None:
        query = query.where(
            appointments.c.start_at >= upcoming_from,
            appointments.c.status == Status.BOOKED.value,
        )
    rows = await session.execute(query.order_by(appointments.c.start_at, appointments.c.id))
    return [_to_appointment(row) for row in rows]
