"""Which establishment a request acts on, checked in the service as well as the gateway.

No `establishment_id` (or the session's own): the session establishment. Another one: it
must be an establishment of the caller's organization, one this service knows of from the
tenancy events or one the gateway vouched for in the signed scope (NOT_FOUND otherwise,
whatever the rights: R01 leaks no existence), and the caller needs the right (FORBIDDEN).
"""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common import tenancy_replica
from services.common.errors import DomainError, ErrorCode, not_found
from services.common.scope import Right, Scope


async def target_establishment(
    conn: AsyncConnection,
    known: Table,
    scope: Scope,
    requested: str,
    right: Right | None,
    field: str = "establishmentId",
) -> str:
    """The establishment to act on. `right` None: any establishment of the organization."""
    if not requested or requested == scope.establishment_id:
        await tenancy_replica.remember_scope(conn, known, scope)
        return scope.establishment_id
    if requested in scope.verified_establishments:
        # The gateway, which owns establishments, checked it for this request.
        await tenancy_replica.remember(conn, known, scope.organization_id, requested)
    elif not await tenancy_replica.known(conn, known, scope.organization_id, requested):
        raise not_found("establishment", field)
    if right is not None and not scope.has_right(right):
        raise DomainError(
            ErrorCode.FORBIDDEN, f"{right.value} is needed to act on another establishment", field
        )
    return requested
