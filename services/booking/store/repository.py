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
for each other but never deadlock. Moving an appointment (:func:`move`) takes the same locks
and makes the same check, leaving the appointment itself out of it.

Manage tokens (R26) are looked up by their SHA-256 in the scope's organization AND
establishment: a token of establishment A finds nothing in B.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from services.booking.domain.model import (
    MAX_DURATION,
    Appointment,
    HoursRange,
    Interval,
    Status,
    check_manageable,
    parse_clock,
    slot_taken,
)
from services.booking.store.tables import (
    appointments,
    known_establishments,
    manage_tokens,
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
    *,
    exclude_id: str | None = None,
) -> dict[str, list[Interval]]:
    """The booked appointments of these people overlapping [start, end), in every
    establishment of the organization (B09); `exclude_id` left out (the one being moved)."""
    if not staff_ids:
        return {}
    query = (
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
    if exclude_id is not None:
        query = query.where(appointments.c.id != exclude_id)
    rows = await session.execute(query)
    found: dict[str, list[Interval]] = {}
    for row in rows:
        found.setdefault(row.staff_id, []).append((row.start_at, row.end_at))
    return found


async def first_free(
    session: AsyncConnection,
    organization_id: str,
    candidates: Sequence[str],
    start: datetime,
    end: datetime,
    *,
    exclude_id: str | None = None,
) -> str | None:
    """The first of `candidates` with no booked appointment overlapping [start, end) in any
    establishment (B09), or None. Without the locks this is only a hint (the public booking
    asks it before creating a client); the decision is :func:`_take_first_free`'s."""
    busy = await busy_times(session, organization_id, candidates, start, end, exclude_id=exclude_id)
    return next((s for s in candidates if s not in busy), None)


async def _take_first_free(
    session: AsyncConnection,
    organization_id: str,
    candidates: Sequence[str],
    start: datetime,
    end: datetime,
    *,
    exclude_id: str | None = None,
) -> str:
    """B09's decision, in the caller's write transaction: lock the candidates, then the
    first free one; SLOT_TAKEN (start) when none is."""
    if not candidates:
        raise slot_taken()
    await lock_staff(session, organization_id, candidates)
    free = await first_free(session, organization_id, candidates, start, end, exclude_id=exclude_id)
    if free is None:
        raise slot_taken()
    return free


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
    free = await _take_first_free(session, organization_id, candidates, start, end)
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
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    appointment_id: str,
    *,
    client_id: str | None = None,
    after: datetime | None = None,
    field: str = "id",
) -> Appointment:
    """BOOKED to CANCELLED as one conditional update: of two concurrent cancels one wins,
    the other finds it no longer booked (CONFLICT). Another establishment's or
    organization's appointment (or, with `client_id`, another client's): NOT_FOUND. With
    `after`, one starting at or before it is a CONFLICT too (it has begun)."""
    owned = [
        appointments.c.organization_id == organization_id,
        appointments.c.establishment_id == establishment_id,
        appointments.c.id == appointment_id,
    ]
    if client_id is not None:
        owned.append(appointments.c.client_id == client_id)
    cancellable = [appointments.c.status == Status.BOOKED.value]
    if after is not None:
        cancellable.append(appointments.c.start_at > after)
    row = (
        await session.execute(
            update(appointments)
            .where(*owned, *cancellable)
            .values(status=Status.CANCELLED.value, updated_at=utcnow())
            .returning(*appointments.c)
        )
    ).first()
    if row is not None:
        return _to_appointment(row)
    existing = (await session.execute(select(appointments).where(*owned))).first()
    if existing is None:
        raise not_found("appointment", field)
    check_manageable(_to_appointment(existing), after, field)
    # Booked and not begun now, yet not so when the update ran: changed meanwhile.
    raise DomainError(ErrorCode.CONFLICT, "the appointment changed meanwhile, try again", field)


async def complete(
    session: AsyncConnection, organization_id: str, appointment_id: str
) -> Appointment | None:
    """BOOKED to COMPLETED (checked out: its receipt exists), as one conditional update in
    the caller's write transaction: the completed appointment, or None when it is not a
    booked appointment of this organization (cancelled, completed already, a no-show,
    unknown or another organization's stay as they are). Any establishment of the
    organization: a checkout elsewhere still completes it."""
    row = (
        await session.execute(
            update(appointments)
            .where(
                appointments.c.organization_id == organization_id,
                appointments.c.id == appointment_id,
                appointments.c.status == Status.BOOKED.value,
            )
            .values(status=Status.COMPLETED.value, updated_at=utcnow())
            .returning(*appointments.c)
        )
    ).first()
    return None if row is None else _to_appointment(row)


async def client_appointment(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    client_id: str,
    appointment_id: str,
) -> Appointment | None:
    """The appointment if it is this client's in this establishment, else None."""
    row = (
        await session.execute(
            select(appointments).where(
                appointments.c.organization_id == organization_id,
                appointments.c.establishment_id == establishment_id,
                appointments.c.client_id == client_id,
                appointments.c.id == appointment_id,
            )
        )
    ).first()
    return None if row is None else _to_appointment(row)


async def move(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    appointment_id: str,
    candidates: Sequence[str],
    start: datetime,
    end: datetime,
) -> Appointment:
    """Move a booked appointment to [start, end) with the first of `candidates` free then
    (B09: the same locks and overlap check as :func:`book`, the appointment itself left
    out), in the caller's write transaction; SLOT_TAKEN (start) when none is free. The
    update is conditional on the appointment still being booked: one cancelled meanwhile
    is a CONFLICT."""
    free = await _take_first_free(
        session, organization_id, candidates, start, end, exclude_id=appointment_id
    )
    row = (
        await session.execute(
            update(appointments)
            .where(
                appointments.c.organization_id == organization_id,
                appointments.c.establishment_id == establishment_id,
                appointments.c.id == appointment_id,
                appointments.c.status == Status.BOOKED.value,
            )
            .values(staff_id=free, start_at=start, end_at=end, updated_at=utcnow())
            .returning(*appointments.c)
        )
    ).first()
    if row is None:
        raise DomainError(
            ErrorCode.CONFLICT, "the appointment is no longer booked", "appointmentId"
        )
    return _to_appointment(row)


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
    *,
    newest_first: bool = False,
) -> list[Appointment]:
    """A client's appointments in one establishment, by start (latest first with
    `newest_first`); with `upcoming_from`, only the booked ones starting then or later."""
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
    order = (
        (appointments.c.start_at.desc(), appointments.c.id.desc())
        if newest_first
        else (appointments.c.start_at, appointments.c.id)
    )
    rows = await session.execute(query.order_by(*order))
    return [_to_appointment(row) for row in rows]


# -- manage tokens (R26) ------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    """What :func:`issue_token` replaced, so that a failed booking can put it back."""

    token_hash: str
    previous_hash: str | None
    previous_created_at: datetime | None


async def token_client(
    session: AsyncConnection, organization_id: str, establishment_id: str, token_hash: str
) -> str | None:
    """The client of a token in this organization AND establishment; None for an unknown
    token and for one of another establishment alike (R26: nothing tells them apart)."""
    return (
        await session.execute(
            select(manage_tokens.c.client_id).where(
                manage_tokens.c.token_hash == token_hash,
                manage_tokens.c.organization_id == organization_id,
                manage_tokens.c.establishment_id == establishment_id,
            )
        )
    ).scalar_one_or_none()


async def issue_token(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    client_id: str,
    token_hash: str,
) -> IssuedToken:
    """Make `token_hash` the client's one token in this establishment, in the caller's
    write transaction. A token the client had there is replaced: its link stops working.
    (Only hashes are stored, so the old token cannot be handed out again; one token per
    client and establishment keeps a forwarded old link from outliving the next booking.)
    One upsert, so two bookings of one client at once cannot both insert."""
    previous = (
        await session.execute(
            select(manage_tokens.c.token_hash, manage_tokens.c.created_at)
            .where(
                manage_tokens.c.organization_id == organization_id,
                manage_tokens.c.establishment_id == establishment_id,
                manage_tokens.c.client_id == client_id,
            )
            .with_for_update()
        )
    ).first()
    now = utcnow()
    values = {
        "token_hash": token_hash,
        "organization_id": organization_id,
        "establishment_id": establishment_id,
        "client_id": client_id,
        "created_at": now,
    }
    insert = (
        postgresql.insert(manage_tokens)
        if session.dialect.name == "postgresql"
        else sqlite.insert(manage_tokens)
    )
    await session.execute(
        insert.values(**values).on_conflict_do_update(
            index_elements=["organization_id", "establishment_id", "client_id"],
            set_={"token_hash": token_hash, "created_at": now},
        )
    )
    return IssuedToken(
        token_hash=token_hash,
        previous_hash=None if previous is None else previous.token_hash,
        previous_created_at=None if previous is None else previous.created_at,
    )


async def withdraw_token(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    client_id: str,
    issued: IssuedToken,
) -> None:
    """Undo :func:`issue_token` after the booking it came with failed: the client's
    previous token (if any) works again. Only while the issued token is still the
    current one: a later booking's token is left alone."""
    current = [
        manage_tokens.c.organization_id == organization_id,
        manage_tokens.c.establishment_id == establishment_id,
        manage_tokens.c.client_id == client_id,
        manage_tokens.c.token_hash == issued.token_hash,
    ]
    if issued.previous_hash is None or issued.previous_created_at is None:
        await session.execute(delete(manage_tokens).where(*current))
    else:
        await session.execute(
            update(manage_tokens)
            .where(*current)
            .values(token_hash=issued.previous_hash, created_at=issued.previous_created_at)
        )
