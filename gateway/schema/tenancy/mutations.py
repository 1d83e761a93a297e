"""signUp, login, logout, switchEstablishment, createEstablishment, addMember, setRights."""

from __future__ import annotations

from datetime import timedelta

import strawberry
from strawberry.types import Info

from gateway.auth.passwords import hash_password, verify_password
from gateway.context import Context
from gateway.schema.base import AUTHENTICATED, UserError, user_errors
from gateway.schema.tenancy.inputs import (
    AddMemberInput,
    CreateEstablishmentInput,
    LoginInput,
    SetRightsInput,
    SignUpInput,
    SwitchEstablishmentInput,
)
from gateway.schema.tenancy.types import Establishment, Session, User
from gateway.store import tenancy
from services.common import validation
from services.common.errors import DomainError, ErrorCode
from services.common.scope import Right, Role

WRONG_LOGIN = "wrong e-mail address or password"


@strawberry.type
class SignUpPayload:
    session: Session | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LoginPayload:
    session: Session | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SwitchEstablishmentPayload:
    session: Session | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CreateEstablishmentPayload:
    establishment: Establishment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AddMemberPayload:
    user: User | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SetRightsPayload:
    user: User | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


async def _start_session(
    info: Info[Context, None], user: tenancy.User, establishment_id: str
) -> Session:
    ctx = info.context
    ttl = timedelta(hours=ctx.state.settings.session_ttl_hours)
    async with ctx.state.db.write(organization_id=user.organization_id) as session:
        token = await tenancy.create_session(session, user, establishment_id, ttl)
        live = await tenancy.resolve_session(session, token)
    assert live is not None
    ctx.use_session(live)
    ctx.set_session_cookie(token, live.expires_at)
    return Session.of(live)


def _require_role(ctx: Context, *roles: Role) -> None:
    if ctx.session().role not in roles:
        raise DomainError(
            ErrorCode.FORBIDDEN, "your role in this establishment does not allow this"
        )


@strawberry.type
class TenancyMutation:
    @strawberry.mutation(
        description="Creates an organization, its first establishment and its "
        "owner, and signs the owner in."
    )
    async def sign_up(self, info: Info[Context, None], input: SignUpInput) -> SignUpPayload:
        try:
            org_name = validation.name(input.organization_name, "organizationName")
            est_name = validation.name(input.establishment_name, "establishmentName")
            timezone = validation.timezone(input.timezone or "Europe/Brussels")
            email = validation.email(input.email)
            name = validation.name(input.name, "name")
            password = validation.password(input.password)
            password_hash = await hash_password(password)
            # Across organizations: the e-mail is unique among every organization's users,
            # and the organization is created here.
            async with info.context.state.db.write(across_organizations=True) as session:
                _org, est, user = await tenancy.sign_up(
                    session,
                    organization_name=org_name,
                    establishment_name=est_name,
                    timezone=timezone,
                    email=email,
                    name=name,
                    password_hash=password_hash,
                )
            info.context.state.wake_relay()
        except DomainError as exc:
            return SignUpPayload(errors=user_errors(exc))
        return SignUpPayload(session=await _start_session(info, user, est.id))

    @strawberry.mutation(
        description="Wrong password and unknown e-mail give the same answer. After too many "
        "failures for the e-mail address or from the client's address: TOO_MANY_ATTEMPTS."
    )
    async def login(self, info: Info[Context, None], input: LoginInput) -> LoginPayload:
        wrong = LoginPayload(
            errors=[UserError(field=None, code=ErrorCode.INVALID, message=WRONG_LOGIN)]
        )
        ctx = info.context
        client = ctx.request.client
        attempt = await ctx.state.login_throttle.attempt(
            input.email, client.host if client else None
        )
        if not attempt.allowed:
            minutes = -(-attempt.retry_after // 60)
            return LoginPayload(
                errors=[
                    UserError(
                        field=None,
                        code=ErrorCode.TOO_MANY_ATTEMPTS,
                        message=f"too many failed logins: try again in {minutes} minute(s)",
                    )
                ]
            )
        # From here, a failure stays counted; only a right password uncounts the attempt.
        if len(input.email) > validation.MAX_EMAIL or len(input.password) > 256:
            await verify_password(None, input.password[:256])
            return wrong
        # Across organizations: a login is by e-mail, before any organization is known.
        async with ctx.state.db.read(across_organizations=True) as session:
            found = await tenancy.user_for_login(session, input.email)
        if not await verify_password(found[1] if found else None, input.password):
            return wrong
        assert found is not None
        await ctx.state.login_throttle.succeeded(attempt)
        user = found[0]
        async with info.context.state.db.read(organization_id=user.organization_id) as session:
            if input.establishment_id:
                member = await tenancy.membership(
                    session, user.organization_id, user.id, str(input.establishment_id)
                )
                if member is None:
                    return LoginPayload(
                        errors=[
                            UserError(
                                field="establishmentId",
                                code=ErrorCode.NOT_FOUND,
                                message="establishment not found",
                            )
                        ]
                    )
            else:
                member = await tenancy.first_membership(session, user)
                if member is None:
                    return wrong
        return LoginPayload(session=await _start_session(info, user, member.establishment_id))

    @strawberry.mutation(
        permission_classes=AUTHENTICATED, description="Ends the session: the token stops working."
    )
    async def logout(self, info: Info[Context, None]) -> bool:
        ctx = info.context
        async with ctx.state.db.write(organization_id=ctx.organization_id()) as session:
            await tenancy.revoke_session(session, ctx.session().id)
        ctx.clear_session_cookie()
        return True

    @strawberry.mutation(
        permission_classes=AUTHENTICATED,
        description="Moves the session to another establishment where the user "
        "has a membership, without signing out (R03).",
    )
    async def switch_establishment(
        self, info: Info[Context, None], input: SwitchEstablishmentInput
    ) -> SwitchEstablishmentPayload:
        ctx = info.context
        current = ctx.session()
        try:
            async with ctx.state.db.write(organization_id=ctx.organization_id()) as session:
                await tenancy.switch_session(session, current, str(input.establishment_id))
                live = await tenancy.resolve_session(session, current.token)
        except DomainError as exc:
            return SwitchEstablishmentPayload(errors=user_errors(exc))
        assert live is not None
        ctx.use_session(live)
        return SwitchEstablishmentPayload(session=Session.of(live))

    @strawberry.mutation(
        permission_classes=AUTHENTICATED, description="OWNER. The owner gets a membership there."
    )
    async def create_establishment(
        self, info: Info[Context, None], input: CreateEstablishmentInput
    ) -> CreateEstablishmentPayload:
        ctx = info.context
        try:
            _require_role(ctx, Role.OWNER)
            name = validation.name(input.name, "name")
            timezone = validation.timezone(input.timezone or "Europe/Brussels")
            async with ctx.state.db.write(organization_id=ctx.organization_id()) as session:
                est = await tenancy.create_establishment(session, ctx.scope(), name, timezone)
            ctx.state.wake_relay()
        except DomainError as exc:
            return CreateEstablishmentPayload(errors=user_errors(exc))
        return CreateEstablishmentPayload(establishment=Establishment.of(est))

    @strawberry.mutation(
        permission_classes=AUTHENTICATED,
        description="OWNER or MANAGER; only an OWNER adds an OWNER.",
    )
    async def add_member(
        self, info: Info[Context, None], input: AddMemberInput
    ) -> AddMemberPayload:
        ctx = info.context
        try:
            _require_role(ctx, Role.OWNER, Role.MANAGER)
            role = Role(input.role)
            if role is Role.OWNER:
                _require_role(ctx, Role.OWNER)
            email = validation.email(input.email)
            name = validation.name(input.name, "name")
            password_hash = (
                await hash_password(validation.password(input.password))
                if input.password is not None
                else None
            )
            async with ctx.state.db.write(organization_id=ctx.organization_id()) as session:
                user = await tenancy.add_member(
                    session,
                    ctx.scope(),
                    email=email,
                    name=name,
                    password_hash=password_hash,
                    role=role,
                    rights=[Right(r) for r in input.rights],
                )
            ctx.state.wake_relay()
        except DomainError as exc:
            return AddMemberPayload(errors=user_errors(exc))
        return AddMemberPayload(user=User.of(user))

    @strawberry.mutation(
        permission_classes=AUTHENTICATED,
        description="OWNER or MANAGER, in the session establishment (R22).",
    )
    async def set_rights(
        self, info: Info[Context, None], input: SetRightsInput
    ) -> SetRightsPayload:
        ctx = info.context
        try:
            _require_role(ctx, Role.OWNER, Role.MANAGER)
            async with ctx.state.db.write(organization_id=ctx.organization_id()) as session:
                await tenancy.set_rights(
                    session, ctx.scope(), str(input.user_id), [Right(r) for r in input.rights]
                )
                users = await tenancy.users_by_ids(
                    session, ctx.organization_id(), [str(input.user_id)]
                )
            ctx.state.wake_relay()
        except DomainError as exc:
            return SetRightsPayload(errors=user_errors(exc))
        return SetRightsPayload(user=User.of(users[str(input.user_id)]))
