"""Names every domain of the schema shares: UserError, ErrorCode, Role, Right, PageInfo,
and the permission that needs a session."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.permission import BasePermission
from strawberry.types import Info

from gateway.context import Context
from gateway.errors import Unauthenticated
from services.common import errors as domain_errors
from services.common import scope as domain_scope

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
