"""Organization, Establishment, User, Membership, Session (R01-R03, R22)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.schema.base import Right, Role
from gateway.schema.booking.hours import OpeningHours
from gateway.store import tenancy
from services.common.scope import ordered_rights


@strawberry.type
class Organization:
    id: strawberry.ID
    name: str
    slug: str

    @classmethod
    def of(cls, row: tenancy.Organization) -> Organization:
        return cls(id=strawberry.ID(row.id), name=row.name, slug=row.slug)

    @strawberry.field
    async def establishments(self, info: Info[Context, None]) -> list[Establishment]:
        async with info.context.state.db.read(organization_id=str(self.id)) as session:
            rows = await tenancy.establishments_of(session, str(self.id))
        return [Establishment.of(r) for r in rows]


@strawberry.type
class Establishment:
    id: strawberry.ID
    name: str
    slug: str
    timezone: str = strawberry.field(description='IANA name, e.g. "Europe/Brussels"')
    organization_id: strawberry.Private[str]

    @classmethod
    def of(cls, row: tenancy.Establishment) -> Establishment:
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            slug=row.slug,
            timezone=row.timezone,
            organization_id=row.organization_id,
        )

    @strawberry.field
    async def organization(self, info: Info[Context, None]) -> Organization:
        row = await info.context.loaders.organization_by_id.load(self.organization_id)
        assert row is not None
        return Organization.of(row)

    @strawberry.field(description="Weekly opening hours (R21), in the establishment's timezone.")
    async def opening_hours(self, info: Info[Context, None]) -> list[OpeningHours]:
        hours = await info.context.loaders.opening_hours_by_establishment.load(str(self.id))
        return [OpeningHours.of(h) for h in hours]


async def load_establishment(
    info: Info[Context, None], establishment_id: str
) -> Establishment | None:
    row = await info.context.loaders.establishment_by_id.load(establishment_id)
    return Establishment.of(row) if row else None


async def load_establishments(info: Info[Context, None], ids: list[str]) -> list[Establishment]:
    """The establishments of the organization among `ids`, in order, in one batched read."""
    rows = await info.context.loaders.establishment_by_id.load_many(ids)
    return [Establishment.of(r) for r in rows if r is not None]


@strawberry.type
class Membership:
    role: Role  # type: ignore[valid-type]
    rights: list[Right]  # type: ignore[valid-type]
    establishment_id: strawberry.Private[str]

    @strawberry.field
    async def establishment(self, info: Info[Context, None]) -> Establishment:
        est = await load_establishment(info, self.establishment_id)
        assert est is not None
        return est


@strawberry.type(description="On public operations a user shows its id and name only.")
class User:
    id: strawberry.ID
    name: str
    private_email: strawberry.Private[str]

    @classmethod
    def of(cls, row: tenancy.User) -> User:
        return cls(id=strawberry.ID(row.id), name=row.name, private_email=row.email)

    @strawberry.field
    def email(self, info: Info[Context, None]) -> str | None:
        return None if info.context.is_public else self.private_email

    @strawberry.field(description="One per establishment where the user works (R02, R22).")
    async def memberships(self, info: Info[Context, None]) -> list[Membership]:
        if info.context.is_public:
            return []
        rows = await info.context.loaders.memberships_by_user_id.load(str(self.id))
        return [
            Membership(
                role=m.role, rights=ordered_rights(m.rights), establishment_id=m.establishment_id
            )
            for m in rows
        ]


@strawberry.type
class Session:
    token: str
    role: Role  # type: ignore[valid-type]
    rights: list[Right]  # type: ignore[valid-type]
    user_id: strawberry.Private[str]
    establishment_id: strawberry.Private[str]

    @classmethod
    def of(cls, info: tenancy.SessionInfo) -> Session:
        return cls(
            token=info.token,
            role=info.role,
            rights=ordered_rights(info.rights),
            user_id=info.user_id,
            establishment_id=info.establishment_id,
        )

    @strawberry.field
    async def user(self, info: Info[Context, None]) -> User:
        row = await info.context.loaders.user_by_id.load(self.user_id)
        assert row is not None
        return User.of(row)

    @strawberry.field(description="The session establishment.")
    async def establishment(self, info: Info[Context, None]) -> Establishment:
        est = await load_establishment(info, self.establishment_id)
        assert est is not None
        return est
