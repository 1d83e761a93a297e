"""Names every domain of the schema shares: UserError, ErrorCode, Role, Right, PageInfo,
and the permission that needs a session."""

from __future__ import annotations

from decimal import Decimal as PyDecimal
from typing import Any, NewType

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission
from strawberry.types import Info

from gateway.context import Context
from gateway.errors import Forbidden, NotFound, Unauthenticated
from services.common import errors as domain_errors
from services.common import scope as domain_scope
from services.common.money import format_amount

ErrorCode = strawberry.enum(domain_errors.ErrorCode, name="ErrorCode")
Role = strawberry.enum(domain_scope.Role, name="Role")
Right = strawberry.enum(domain_scope.Right, name="Right")


@strawberry.type
class UserError:
    field: str | None
    code: ErrorCode  # type: ignore[valid-type]
    message: str

    @classmethod
    def of(cls, exc: domain_errors.DomainError) -> UserError:
        return cls(field=exc.field, code=exc.code, message=exc.message)


def user_errors(exc: domain_errors.DomainError) -> list[UserError]:
    return [UserError.of(exc)]


def selects(info: Info[Any, Any], *path: str) -> bool:
    """Whether the query selects `path` below the current field (fragments included), so a
    list resolver can prefetch a relation in one batch instead of one await per item."""

    def walk(selections: list[Any], rest: tuple[str, ...]) -> bool:
        if not rest:
            return True
        for selection in selections:
            name = getattr(selection, "name", None)
            children = list(getattr(selection, "selections", []) or [])
            if name is None or not hasattr(selection, "arguments"):  # a fragment
                if walk(children, rest):
                    return True
            elif name == rest[0] and walk(children, rest[1:]):
                return True
        return False

    return any(walk(list(f.selections), path) for f in info.selected_fields)


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


class IsAuthenticated(BasePermission):
    """Needs a session; on mutations a cookie session also needs the CSRF header."""

    message = "sign in first"
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info[Context, None], **kwargs: Any) -> bool:
        is_mutation = info.operation.operation.value == "mutation"
        try:
            info.context.session(mutation=is_mutation)
        except Unauthenticated as exc:
            self.message = exc.message
            return False
        return True


AUTHENTICATED: list[type[BasePermission]] = [IsAuthenticated]


def _parse_money(value: object) -> str:
    # Kept as text: the owning service parses it strictly, so a bad amount is a UserError
    # INVALID naming the field rather than a top-level validation error.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return "not a decimal"
    return str(value)


def _serialize_money(value: object) -> str:
    return format_amount(PyDecimal(str(value)))


Money = NewType("Money", str)

# Registered in the schema's StrawberryConfig.scalar_map.
MONEY_SCALAR = strawberry.scalar(
    name="Decimal",
    description='EUR amount with two decimals, as a string: "45.00"',
    serialize=_serialize_money,
    parse_value=_parse_money,
)


async def establishment_for(
    info: Info[Context, None],
    establishment_id: strawberry.ID | None,
    right: domain_scope.Right | None,
    field: str = "establishmentId",
) -> str:
    """The establishment an argument selects, checked; the session's when none is given.
    Raises DomainError (NOT_FOUND, FORBIDDEN) for mutations to turn into UserErrors."""
    ctx = info.context
    session = ctx.session()
    if establishment_id is None or str(establishment_id) == session.establishment_id:
        return session.establishment_id
    if await ctx.loaders.establishment_by_id.load(str(establishment_id)) is None:
        raise domain_errors.not_found("establishment", field)
    if right is not None and not session.scope().has_right(right):
        raise domain_errors.DomainError(
            domain_errors.ErrorCode.FORBIDDEN,
            f"{right.value} is needed for another establishment",
            field,
        )
    ctx.vouch(str(establishment_id))
    return str(establishment_id)


async def establishment_for_query(
    info: Info[Context, None],
    establishment_id: strawberry.ID | None,
    right: domain_scope.Right | None,
) -> str:
    """As establishment_for, for queries: top-level NOT_FOUND / FORBIDDEN errors."""
    try:
        return await establishment_for(info, establishment_id, right)
    except domain_errors.DomainError as exc:
        if exc.code is domain_errors.ErrorCode.FORBIDDEN:
            raise Forbidden(exc.message) from None
        raise NotFound(exc.message) from None


class BackendCalls(SchemaExtension):
    """Reports the gRPC calls an operation made, per service, in `extensions.backendCalls`
    (what bench/ reads to show that lists cost one call per service, whatever their length)."""

    def get_results(self) -> dict[str, Any]:
        calls = getattr(self.execution_context.context, "backend_calls", None)
        return {"backendCalls": dict(calls)} if calls is not None else {}
