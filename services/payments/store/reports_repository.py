"""The reports' queries (R27, B03) and the appointment projection they count.

One grouped query per figure (revenue and receipts, products sold, appointments) whatever
the number of establishments: each establishment's period is its own UTC window (its
timezone), so the condition is one (establishments of that timezone AND window) term per
timezone, OR-ed, and the rows are GROUP BY establishment_id. The indexes used all start
with (organization_id, establishment_id, <time>).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.db import insert_ignore, utcnow
from services.common.money import CENT
from services.payments.domain.reports import (
    DEFAULT_TIMEZONE,
    ZERO,
    AppointmentFact,
    AppointmentStatus,
    Figures,
    Period,
    supersedes,
)
from services.payments.store.provider_tables import report_appointments
from services.payments.store.tables import known_establishments, receipt_lines, receipts


async def establishments(conn: AsyncConnection, organization_id: str) -> dict[str, str]:
    """The organization's known establishments (tenancy events, callers' scopes) and their
    timezones, in the order they became known; the default where none is known yet."""
    rows = await conn.execute(
        select(known_establishments.c.establishment_id, known_establishments.c.timezone)
        .where(known_establishments.c.organization_id == organization_id)
        .order_by(known_establishments.c.known_at, known_establishments.c.establishment_id)
    )
    return {row.establishment_id: row.timezone or DEFAULT_TIMEZONE for row in rows}


@dataclass(frozen=True)
class Selection:
    """Which establishments a report covers and the timezone of each.

    `others`: also every establishment not in `timezones` (the organization's report
    counts data of establishments the tenancy events have not told about yet, in the
    default timezone)."""

    timezones: Mapping[str, str]
    others: bool = False

    def condition(
        self, period: Period, establishment: ColumnElement[Any], at: ColumnElement[Any]
    ) -> ColumnElement[bool]:
        by_zone: dict[str, list[str]] = defaultdict(list)
        for est, zone in self.timezones.items():
            by_zone[zone].append(est)
        terms: list[ColumnElement[bool]] = []
        for zone, ids in sorted(by_zone.items()):
            start, end = period.window(zone)
            terms.append(and_(establishment.in_(sorted(ids)), at >= start, at < end))
        if self.others:
            start, end = period.window(DEFAULT_TIMEZONE)
            unknown = establishment.not_in(sorted(self.timezones)) if self.timezones else None
            window = and_(at >= start, at < end)
            terms.append(and_(unknown, window) if unknown is not None else window)
        if not terms:
            return establishment.in_([])
        return or_(*terms)


async def figures(
    conn: AsyncConnection, organization_id: str, selection: Selection, period: Period
) -> dict[str, Figures]:
    """Each covered establishment's figures that has any; three grouped queries."""
    in_period = selection.condition(period, receipts.c.establishment_id, receipts.c.created_at)
    sales = await conn.execute(
        select(receipts.c.establishment_id, func.sum(receipts.c.total), func.count())
        .where(receipts.c.organization_id == organization_id, in_period)
        .group_by(receipts.c.establishment_id)
    )
    products = await conn.execute(
        select(receipts.c.establishment_id, func.sum(receipt_lines.c.quantity))
        .select_from(
            receipt_lines.join(
                receipts,
                (receipts.c.organization_id == receipt_lines.c.organization_id)
                & (receipts.c.id == receipt_lines.c.receipt_id),
            )
        )
        .where(
            receipt_lines.c.organization_id == organization_id,
            receipts.c.organization_id == organization_id,
            receipt_lines.c.kind == "PRODUCT",
            in_period,
        )
        .group_by(receipts.c.establishment_id)
    )
    booked = await conn.execute(
        select(report_appointments.c.establishment_id, func.count())
        .where(
            report_appointments.c.organization_id == organization_id,
            report_appointments.c.status != AppointmentStatus.CANCELLED.value,
            selection.condition(
                period, report_appointments.c.establishment_id, report_appointments.c.start
            ),
        )
        .group_by(report_appointments.c.establishment_id)
    )
    revenue: dict[str, Decimal] = {}
    count: dict[str, int] = {}
    for est, total, n in sales:
        revenue[est] = Decimal(str(total or 0)).quantize(CENT)
        count[est] = int(n)
    sold = {est: int(quantity or 0) for est, quantity in products}
    appointments = {est: int(n) for est, n in booked}
    found = sorted(set(revenue) | set(sold) | set(appointments))
    return {
        est: Figures(
            establishment_id=est,
            revenue=revenue.get(est, ZERO),
            receipts=count.get(est, 0),
            products_sold=sold.get(est, 0),
            appointments=appointments.get(est, 0),
        )
        for est in found
    }


def side_by_side(known: Sequence[str], found: Mapping[str, Figures]) -> list[Figures]:
    """Every known establishment in its order (empty figures where nothing happened), then
    any other establishment with data."""
    listed = [found.get(est, Figures(est)) for est in known]
    listed += [found[est] for est in sorted(found) if est not in set(known)]
    return listed


async def record_appointment(
    conn: AsyncConnection, organization_id: str, fact: AppointmentFact
) -> bool:
    """Keep what a booking event says of an appointment, unless what is recorded is newer
    (`supersedes`); True when the row changed. Idempotent and order-tolerant."""
    now = utcnow()
    values = {
        "establishment_id": fact.establishment_id,
        "start": fact.start,
        "status": fact.status.value,
        "changed_at": fact.at,
        "updated_at": now,
    }
    if await insert_ignore(
        conn,
        report_appointments,
        {"organization_id": organization_id, "appointment_id": fact.id, **values},
    ):
        return True
    mine = and_(
        report_appointments.c.organization_id == organization_id,
        report_appointments.c.appointment_id == fact.id,
    )
    current = (
        await conn.execute(
            select(report_appointments.c.status, report_appointments.c.changed_at)
            .where(mine)
            .with_for_update()
        )
    ).one()
    if not supersedes(fact, AppointmentStatus(current.status), current.changed_at):
        return False
    await conn.execute(update(report_appointments).where(mine).values(**values))
    return True
