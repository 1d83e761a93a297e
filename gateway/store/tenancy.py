"""Tenancy in the gateway's database: organizations, establishments, users, memberships and
sessions. Every read filters on the organization of the caller; an id of another
organization is NOT_FOUND, never FORBIDDEN (R01)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.auth.tokens import new_token, token_hash
from gateway.store.tables import (
    establishments,
    memberships,
    organizations,
    outbox,
    sessions,
    users,
)
from salon.tenancy.v1 import events_pb2
from services.common.db import new_id, utcnow
from services.common.errors import DomainError, ErrorCode, not_found
from services.common.outbox import record_event
from services.common.scope import Right, Role, Scope, right_to_proto, role_to_proto
from services.common.tenancy_replica import (
    ESTABLISHMENT_CREATED,
    MEMBERSHIP_ADDED,
    ORGANIZATION_CREATED,
    RIGHTS_CHANGED,
)
from services.common.validation import email_key, slugify


@dataclass(frozen=True)
class Organization:
    id: str
    name: str
    slug: str


@dataclass(frozen=True)
class Establishment:
    id: str
    organization_id: str
    name: str
    slug: str
    timezone: str


@dataclass(frozen=True)
class User:
    id: str
    organization_id: str
    email: str
    name: str


@dataclass(frozen=True)
class Membership:
    user_id: str
    establishment_id: str
    organization_id: str
    role: Role
    rights: frozenset[Right]


@dataclass(frozen=True)
class SessionInfo:
    id: str
    token: str
    user_id: str
    organization_id: str
    establishment_id: str
    role: Role
    rights: frozenset[Right]
    expires_at: datetime

    def scope(self, request_id: str = "") -> Scope:
        return Scope(
            organization_id=self.organization_id,
            establishment_id=self.establishment_id,
            user_id=self.user_id,
            role=self.role,
            rights=self.rights,
            request_id=request_id,
        )


def _rights_text(rights: Sequence[Right]) -> str:
    return ",".join(sorted({r.value for r in rights}))


def _rights(text: str) -> frozenset[Right]:
    return frozenset(Right(r) for r in text.split(",") if r)


def _membership(row: object) -> Membership:
    return Membership(
        user_id=row.user_id,  # type: ignore[attr-defined]
        establishment_id=row.establishment_id,  # type: ignore[attr-defined]
        organization_id=row.organization_id,  # type: ignore[attr-defined]
        role=Role(row.role),  # type: ignore[attr-defined]
        rights=_rights(row.rights),  # type: ignore[attr-defined]
    )


async def _insert_with_slug(
    session: AsyncConnection,
    table: Table,
    base: str,
    values: dict[str, object],
    **within: str,
) -> str:
    """Insert a row whose slug is `base`, or `base-2`, `base-3`... when taken. A concurrent
    insert that took the same slug first (PostgreSQL) makes us retry with a random suffix
    inside a savepoint, so the caller's transaction survives."""
    conditions = [table.c[k] == v for k, v in within.items()]
    taken = set(
        (
            await session.execute(
                select(table.c.slug).where(*conditions, table.c.slug.like(f"{base}%"))
            )
        ).scalars()
    )
    slug = base
    n = 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    for _attempt in range(5):
        try:
            async with session.begin_nested():
                await session.execute(table.insert().values(**values, slug=slug))
            return slug
        except IntegrityError:
            slug = f"{base}-{secrets.token_hex(3)}"
    raise DomainError(ErrorCode.CONFLICT, "could not find a free name, try again", "name")


async def email_taken(session: AsyncConnection, email: str) -> User | None:
    row = (
        await session.execute(select(users).where(users.c.email_key == email_key(email)))
    ).one_or_none()
    return User(row.id, row.organization_id, row.email, row.name) if row else None


async def _insert_establishment(
    session: AsyncConnection, scope: Scope, name: str, timezone: str, establishment_id: str
) -> Establishment:
    slug = await _insert_with_slug(
        session,
        establishments,
        slugify(name),
        {
            "id": establishment_id,
            "organization_id": scope.organization_id,
            "name": name,
            "timezone": timezone,
            "created_at": utcnow(),
        },
        organization_id=scope.organization_id,
    )
    est = Establishment(establishment_id, scope.organization_id, name, slug, timezone)
    await record_event(
        session,
        outbox,
        ESTABLISHMENT_CREATED,
        events_pb2.EstablishmentCreated(
            organization_id=est.organization_id,
            establishment_id=est.id,
            name=est.name,
            slug=est.slug,
            timezone=est.timezone,
        ),
        scope,
        establishment_id=est.id,
    )
    return est


async def _insert_membership(
    session: AsyncConnection,
    scope: Scope,
    user_id: str,
    establishment_id: str,
    role: Role,
    rights: Sequence[Right],
) -> None:
    await session.execute(
        memberships.insert().values(
            organization_id=scope.organization_id,
            user_id=user_id,
            establishment_id=establishment_id,
            role=role.value,
            rights=_rights_text(rights),
            created_at=utcnow(),
        )
    )
    await record_event(
        session,
        outbox,
        MEMBERSHIP_ADDED,
        events_pb2.MembershipAdded(
            organization_id=scope.organization_id,
            establishment_id=establishment_id,
            user_id=user_id,
            role=role_to_proto(role),
            rights=sorted(right_to_proto(r) for r in rights),
        ),
        scope,
        establishment_id=establishment_id,
    )


async def sign_up(
    session: AsyncConnection,
    *,
    organization_name: str,
    establishment_name: str,
    timezone: str,
    email: str,
    name: str,
    password_hash: str,
) -> tuple[Organization, Establishment, User]:
    if await email_taken(session, email):
        raise DomainError(ErrorCode.CONFLICT, "this e-mail address already has a login", "email")
    org_id, est_id, user_id = new_id(), new_id(), new_id()
    scope = Scope(org_id, est_id, user_id, Role.OWNER)
    slug = await _insert_with_slug(
        session,
        organizations,
        slugify(organization_name),
        {"id": org_id, "name": organization_name, "created_at": utcnow()},
    )
    await record_event(
        session,
        outbox,
        ORGANIZATION_CREATED,
        events_pb2.OrganizationCreated(organization_id=org_id, name=organization_name, slug=slug),
        scope,
        establishment_id=None,
    )
    est = await _insert_establishment(session, scope, establishment_name, timezone, est_id)
    try:
        await session.execute(
            users.insert().values(
                id=user_id,
                organization_id=org_id,
                email=email,
                email_key=email_key(email),
                name=name,
                password_hash=password_hash,
                created_at=utcnow(),
            )
        )
    except IntegrityError as exc:  # a concurrent sign-up with the same e-mail won
        raise DomainError(
            ErrorCode.CONFLICT, "this e-mail address already has a login", "email"
        ) from exc
    await _insert_membership(session, scope, user_id, est_id, Role.OWNER, [])
    return Organization(org_id, organization_name, slug), est, User(user_id, org_id, email, name)


async def user_for_login(session: AsyncConnection, email: str) -> tuple[User, str] | None:
    row = (
        await session.execute(select(users).where(users.c.email_key == email_key(email)))
    ).one_or_none()
    if row is None:
        return None
    return User(row.id, row.organization_id, row.email, row.name), row.password_hash


async def membership(
    session: AsyncConnection, organization_id: str, user_id: str, establishment_id: str
) -> Membership | None:
    row = (
        await session.execute(
            select(memberships).where(
                memberships.c.organization_id == organization_id,
                memberships.c.user_id == user_id,
                memberships.c.establishment_id == establishment_id,
            )
        )
    ).one_or_none()
    return _membership(row) if row else None


async def first_membership(session: AsyncConnection, user: User) -> Membership | None:
    row = (
        await session.execute(
            select(memberships)
            .where(
                memberships.c.organization_id == user.organization_id,
                memberships.c.user_id == user.id,
            )
            .order_by(memberships.c.created_at, memberships.c.establishment_id)
            .limit(1)
        )
    ).one_or_none()
    return _membership(row) if row else None


async def create_session(
    session: AsyncConnection, user: User, establishment_id: str, ttl: timedelta
) -> str:
    token = new_token()
    now = utcnow()
    await session.execute(
        sessions.insert().values(
            id=new_id(),
            token_hash=token_hash(token),
            user_id=user.id,
            organization_id=user.organization_id,
            establishment_id=establishment_id,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return token


async def resolve_session(session: AsyncConnection, token: str) -> SessionInfo | None:
    """The live session of a token, with the role and rights of its establishment now."""
    row = (
        await session.execute(
            select(sessions, memberships.c.role, memberships.c.rights)
            .join(
                memberships,
                (memberships.c.user_id == sessions.c.user_id)
                & (memberships.c.establishment_id == sessions.c.establishment_id)
                & (memberships.c.organization_id == sessions.c.organization_id),
            )
            .where(sessions.c.token_hash == token_hash(token))
        )
    ).one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    return SessionInfo(
        id=row.id,
        token=token,
        user_id=row.user_id,
        organization_id=row.organization_id,
        establishment_id=row.establishment_id,
        role=Role(row.role),
        rights=_rights(row.rights),
        expires_at=row.expires_at,
    )


async def revoke_session(session: AsyncConnection, session_id: str) -> None:
    await session.execute(
        update(sessions)
        .where(sessions.c.id == session_id, sessions.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def switch_session(
    session: AsyncConnection, info: SessionInfo, establishment_id: str
) -> None:
    if await membership(session, info.organization_id, info.user_id, establishment_id) is None:
        raise not_found("establishment", "establishmentId")
    await session.execute(
        update(sessions).where(sessions.c.id == info.id).values(establishment_id=establishment_id)
    )


async def create_establishment(
    session: AsyncConnection, scope: Scope, name: str, timezone: str
) -> Establishment:
    est = await _insert_establishment(session, scope, name, timezone, new_id())
    # The owner who creates an establishment gets a membership there.
    await _insert_membership(session, scope, scope.user_id, est.id, Role.OWNER, [])
    return est


async def add_member(
    session: AsyncConnection,
    scope: Scope,
    *,
    email: str,
    name: str,
    password_hash: str | None,
    role: Role,
    rights: Sequence[Right],
) -> User:
    existing = await email_taken(session, email)
    if existing is not None and existing.organization_id != scope.organization_id:
        raise DomainError(
            ErrorCode.CONFLICT, "this e-mail address already has a login elsewhere", "email"
        )
    if existing is None:
        if password_hash is None:
            raise DomainError(ErrorCode.INVALID, "a new user needs a password", "password")
        user = User(new_id(), scope.organization_id, email, name)
        try:
            await session.execute(
                users.insert().values(
                    id=user.id,
                    organization_id=user.organization_id,
                    email=email,
                    email_key=email_key(email),
                    name=name,
                    password_hash=password_hash,
                    created_at=utcnow(),
                )
            )
        except IntegrityError as exc:
            raise DomainError(
                ErrorCode.CONFLICT, "this e-mail address already has a login", "email"
            ) from exc
    else:
        user = existing
        if await membership(session, scope.organization_id, user.id, scope.establishment_id):
            raise DomainError(
                ErrorCode.CONFLICT, "this user is already a member of this establishment", "email"
            )
    await _insert_membership(session, scope, user.id, scope.establishment_id, role, rights)
    return user


async def set_rights(
    session: AsyncConnection, scope: Scope, user_id: str, rights: Sequence[Right]
) -> None:
    result = await session.execute(
        update(memberships)
        .where(
            memberships.c.organization_id == scope.organization_id,
            memberships.c.establishment_id == scope.establishment_id,
            memberships.c.user_id == user_id,
        )
        .values(rights=_rights_text(rights))
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise not_found("member of this establishment", "userId")
    await record_event(
        session,
        outbox,
        RIGHTS_CHANGED,
        events_pb2.MembershipRightsChanged(
            organization_id=scope.organization_id,
            establishment_id=scope.establishment_id,
            user_id=user_id,
            rights=sorted(right_to_proto(r) for r in rights),
        ),
        scope,
        establishment_id=scope.establishment_id,
    )


# ------------------------------------------------------------------ batch reads (loaders)


async def organizations_by_ids(
    session: AsyncConnection, ids: Sequence[str]
) -> dict[str, Organization]:
    rows = await session.execute(select(organizations).where(organizations.c.id.in_(ids)))
    return {r.id: Organization(r.id, r.name, r.slug) for r in rows}


async def establishments_by_ids(
    session: AsyncConnection, organization_id: str, ids: Sequence[str]
) -> dict[str, Establishment]:
    rows = await session.execute(
        select(establishments).where(
            establishments.c.organization_id == organization_id, establishments.c.id.in_(ids)
        )
    )
    return {r.id: Establishment(r.id, r.organization_id, r.name, r.slug, r.timezone) for r in rows}


async def establishments_of(session: AsyncConnection, organization_id: str) -> list[Establishment]:
    rows = await session.execute(
        select(establishments)
        .where(establishments.c.organization_id == organization_id)
        .order_by(establishments.c.created_at, establishments.c.id)
    )
    return [Establishment(r.id, r.organization_id, r.name, r.slug, r.timezone) for r in rows]


async def users_by_ids(
    session: AsyncConnection, organization_id: str, ids: Sequence[str]
) -> dict[str, User]:
    rows = await session.execute(
        select(users).where(users.c.organization_id == organization_id, users.c.id.in_(ids))
    )
    return {r.id: User(r.id, r.organization_id, r.email, r.name) for r in rows}


async def memberships_by_users(
    session: AsyncConnection, organization_id: str, user_ids: Sequence[str]
) -> dict[str, list[Membership]]:
    out: dict[str, list[Membership]] = {u: [] for u in user_ids}
    rows = await session.execute(
        select(memberships)
        .where(
            memberships.c.organization_id == organization_id, memberships.c.user_id.in_(user_ids)
        )
        .order_by(memberships.c.created_at, memberships.c.establishment_id)
    )
    for r in rows:
        out[r.user_id].append(_membership(r))
    return out


async def members_of(
    session: AsyncConnection, organization_id: str, establishment_id: str
) -> list[User]:
    rows = await session.execute(
        select(users)
        .join(memberships, memberships.c.user_id == users.c.id)
        .where(
            memberships.c.organization_id == organization_id,
            memberships.c.establishment_id == establishment_id,
        )
        .order_by(func.lower(users.c.name), users.c.id)
    )
    return [User(r.id, r.organization_id, r.email, r.name) for r in rows]


# ------------------------------------------------------------------ public reads (R16)


async def public_establishment(
    session: AsyncConnection, establishment_id: str
) -> Establishment | None:
    """An establishment by id, whatever the organization: the public booking page's entry."""
    row = (
        await session.execute(select(establishments).where(establishments.c.id == establishment_id))
    ).one_or_none()
    return (
        Establishment(row.id, row.organization_id, row.name, row.slug, row.timezone)
        if row
        else None
    )


async def organization_by_slug(session: AsyncConnection, slug: str) -> Organization | None:
    row = (
        await session.execute(select(organizations).where(organizations.c.slug == slug))
    ).one_or_none()
    return Organization(row.id, row.name, row.slug) if row else None
