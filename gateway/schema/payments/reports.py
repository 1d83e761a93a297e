"""Reports per establishment (R27, R06), the organization side by side for owners (B03),
and what establishments owe each other for gift cards (B08)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.errors import Forbidden, Invalid
from gateway.schema.base import AUTHENTICATED, Money, establishment_for_query
from gateway.schema.payments.queries import top_level
from gateway.schema.tenancy.types import Establishment, load_establishment
from salon.payments.v1 import payments_pb2
from services.common.errors import DomainError
from services.common.scope import Right, Role

From = Annotated[date, strawberry.argument(name="from")]


async def _establishment(info: Info[Context, None], establishment_id: str) -> Establishment:
    est = await load_establishment(info, establishment_id)
    assert est is not None, "an establishment of the organization"
    return est


@strawberry.type(description="One establishment over a period of its local dates (R27).")
class Report:
    from_: date = strawberry.field(name="from")
    to: date
    revenue: Money = strawberry.field(description="The sum of the receipts' totals.")
    appointments: int = strawberry.field(
        description="Appointments starting in the period, not cancelled."
    )
    products_sold: int
    receipts: int = strawberry.field(description="How many receipts.")
    establishment_id: strawberry.Private[str]

    @classmethod
    def of(cls, msg: payments_pb2.Report) -> Report:
        return cls(
            from_=date.fromisoformat(getattr(msg, "from")),  # a Python keyword as a field
            to=date.fromisoformat(msg.to),
            revenue=Money(msg.revenue),
            appointments=msg.appointments,
            products_sold=msg.products_sold,
            receipts=msg.receipts,
            establishment_id=msg.establishment_id,
        )

    @strawberry.field
    async def establishment(self, info: Info[Context, None]) -> Establishment:
        return await _establishment(info, self.establishment_id)


@strawberry.type(description="Every establishment side by side, and the totals (B03).")
class OrganizationReport:
    from_: date = strawberry.field(name="from")
    to: date
    establishments: list[Report]
    total_revenue: Money
    total_appointments: int
    total_products_sold: int

    @classmethod
    def of(cls, msg: payments_pb2.OrganizationReport) -> OrganizationReport:
        return cls(
            from_=date.fromisoformat(getattr(msg, "from")),
            to=date.fromisoformat(msg.to),
            establishments=[Report.of(r) for r in msg.establishments],
            total_revenue=Money(msg.total_revenue),
            total_appointments=msg.total_appointments,
            total_products_sold=msg.total_products_sold,
        )


@strawberry.type(
    description="B08: a gift card sold in fromEstablishment (which holds the money) was "
    "redeemed in toEstablishment; fromEstablishment owes it the amount."
)
class Settlement:
    amount: Money
    redemptions: int
    from_establishment_id: strawberry.Private[str]
    to_establishment_id: strawberry.Private[str]

    @classmethod
    def of(cls, msg: payments_pb2.Settlement) -> Settlement:
        return cls(
            amount=Money(msg.amount),
            redemptions=msg.redemptions,
            from_establishment_id=msg.from_establishment_id,
            to_establishment_id=msg.to_establishment_id,
        )

    @strawberry.field(description="Sold the gift cards.")
    async def from_establishment(self, info: Info[Context, None]) -> Establishment:
        return await _establishment(info, self.from_establishment_id)

    @strawberry.field(description="Redeemed them.")
    async def to_establishment(self, info: Info[Context, None]) -> Establishment:
        return await _establishment(info, self.to_establishment_id)


def _period(from_: date, to: date) -> dict[str, str]:
    """The request fields of a period ("from" is a Python keyword)."""
    if from_ > to:
        raise Invalid("from: must not be after to")
    return {"from": from_.isoformat(), "to": to.isoformat()}


@strawberry.type
class ReportsQuery:
    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="One establishment (default: the session's); another needs "
        "SWITCH_REPORTS (R06, R27).",
    )
    async def report(
        self,
        info: Info[Context, None],
        from_: From,
        to: date,
        establishment_id: strawberry.ID | None = None,
    ) -> Report:
        ctx = info.context
        est = await establishment_for_query(info, establishment_id, Right.SWITCH_REPORTS)
        request = payments_pb2.ReportRequest(**_period(from_, to), establishment_id=est)
        try:
            reply = await ctx.call("payments", ctx.state.backends.payments.GetReport, request)
        except DomainError as exc:
            raise top_level(exc) from None
        return Report.of(reply)

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="OWNER: every establishment side by side, with totals (B03).",
    )
    async def organization_report(
        self, info: Info[Context, None], from_: From, to: date
    ) -> OrganizationReport:
        ctx = info.context
        if ctx.session().role is not Role.OWNER:
            raise Forbidden("the organization report is for owners")
        request = payments_pb2.OrganizationReportRequest(**_period(from_, to))
        try:
            reply = await ctx.call(
                "payments", ctx.state.backends.payments.GetOrganizationReport, request
            )
        except DomainError as exc:
            raise top_level(exc) from None
        return OrganizationReport.of(reply)

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="B08: what establishments owe each other for gift cards sold in one "
        "and redeemed in another, per pair. Owners, or SWITCH_REPORTS.",
    )
    async def settlement_report(
        self, info: Info[Context, None], from_: From, to: date
    ) -> list[Settlement]:
        ctx = info.context
        if not ctx.session().scope().has_right(Right.SWITCH_REPORTS):
            raise Forbidden("SWITCH_REPORTS is needed for the settlement report")
        request = payments_pb2.SettlementReportRequest(**_period(from_, to))
        try:
            reply = await ctx.call(
                "payments", ctx.state.backends.payments.GetSettlementReport, request
            )
        except DomainError as exc:
            raise top_level(exc) from None
        return [Settlement.of(s) for s in reply.settlements]
