"""Query.auditLog (B04): per establishment, and for owners another establishment or the
whole organization; never another organization's entries (R01)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.errors import Forbidden, Invalid
from gateway.schema.audit.types import AuditEntry
from gateway.schema.base import AUTHENTICATED, establishment_for_query, selects
from gateway.store import audit, tenancy
from services.common.scope import Role


@strawberry.type
class AuditQuery:
    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="B04: who changed what, where and when, newest first, `first` 1..100. "
        "One establishment (default: the session's) with the organization-level changes "
        "(what every establishment shares); another establishment needs OWNER, as does "
        "`organizationWide: true` (every establishment of the organization).",
    )
    async def audit_log(
        self,
        info: Info[Context, None],
        first: int | None = 50,
        establishment_id: strawberry.ID | None = None,
        organization_wide: bool | None = False,
    ) -> list[AuditEntry]:
        ctx = info.context
        session = ctx.session()
        limit = 50 if first is None else first
        if not 1 <= limit <= audit.MAX_ENTRIES:
            raise Invalid(f"first: between 1 and {audit.MAX_ENTRIES}")
        establishment: str | None
        if organization_wide:
            if establishment_id is not None:
                raise Invalid("establishmentId: not with organizationWide")
            if session.role is not Role.OWNER:
                raise Forbidden("the organization's audit log is for owners")
            establishment = None
        else:
            establishment = await establishment_for_query(info, establishment_id, None)
            if establishment != session.establishment_id and session.role is not Role.OWNER:
                raise Forbidden("another establishment's audit log is for owners")
        async with ctx.state.db.read(organization_id=ctx.organization_id()) as conn:
            rows = await audit.entries(conn, session.organization_id, establishment, limit)
        # The relations of the whole list in one read each (users, establishments).
        users: dict[str, tenancy.User | None] = {}
        if selects(info, "user"):
            ids = sorted({r.user_id for r in rows if r.user_id})
            users = dict(zip(ids, await ctx.loaders.user_by_id.load_many(ids), strict=True))
        establishments: dict[str, tenancy.Establishment | None] = {}
        if selects(info, "establishment"):
            ids = sorted({r.establishment_id for r in rows if r.establishment_id})
            loaded = await ctx.loaders.establishment_by_id.load_many(ids)
            establishments = dict(zip(ids, loaded, strict=True))
        return [AuditEntry.of(r, users, establishments) for r in rows]
