from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.schema.base import AUTHENTICATED, establishment_for_query
from gateway.schema.tenancy.types import Organization, Session, User
from gateway.store import tenancy


@strawberry.type
class TenancyQuery:
    @strawberry.field(permission_classes=AUTHENTICATED)
    async def me(self, info: Info[Context, None]) -> Session:
        return Session.of(info.context.session())

    @strawberry.field(permission_classes=AUTHENTICATED)
    async def organization(self, info: Info[Context, None]) -> Organization:
        row = await info.context.loaders.organization_by_id.load(info.context.organization_id())
        assert row is not None
        return Organization.of(row)

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="Members of the establishment (default: the session's).",
    )
    async def staff(
        self, info: Info[Context, None], establishment_id: strawberry.ID | None = None
    ) -> list[User]:
        est = await establishment_for_query(info, establishment_id, None)
        org = info.context.organization_id()
        async with info.context.state.db.read(organization_id=org) as session:
            rows = await tenancy.members_of(session, org, est)
        return [User.of(r) for r in rows]
