"""B11 (GDPR): a client's data export and erasure, the OWNER's only.

`exportClient` asks the five services concurrently for their part (ExportClientData) and
returns one JSON document: {"clientId", "exportedAt", "services": {"clients": {...},
"booking": {...}, "catalog": {...}, "inventory": {...}, "payments": {...}}}. An unknown
client (or another organization's, R01) is NOT_FOUND: the client file decides.

`eraseClient` anonymises the client file's record; the other services follow through the
ClientErased event, so their parts of a later export show the erasure shortly after.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import orjson
import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.errors import Forbidden, Invalid, NotFound
from gateway.schema.base import AUTHENTICATED, UserError
from gateway.schema.clients.types import Client
from salon.clients.v1 import clients_pb2
from salon.common.v1 import privacy_pb2
from services.common.errors import DomainError, ErrorCode
from services.common.scope import Role

SERVICES = ("clients", "booking", "catalog", "inventory", "payments")


@strawberry.input
class EraseClientInput:
    id: strawberry.ID


@strawberry.type
class EraseClientPayload:
    client: Client | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


async def _part(ctx: Context, service: str, client_id: str) -> Any:
    stub = getattr(ctx.state.backends, service)
    reply = await ctx.call(
        service, stub.ExportClientData, privacy_pb2.ExportClientDataRequest(client_id=client_id)
    )
    return orjson.loads(reply.json)


@strawberry.type
class PrivacyQuery:
    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="OWNER (B11): everything every service holds about the client, as one "
        'JSON document {"clientId", "exportedAt", "services": {"clients": ..., ...}}.',
    )
    async def export_client(self, info: Info[Context, None], id: strawberry.ID) -> str:
        ctx = info.context
        if ctx.session().role is not Role.OWNER:
            raise Forbidden("a client's data export is for owners")
        client_id = str(id)
        try:
            parts = await asyncio.gather(*(_part(ctx, s, client_id) for s in SERVICES))
        except DomainError as exc:
            if exc.code is ErrorCode.NOT_FOUND:
                raise NotFound(exc.message) from None
            if exc.code is ErrorCode.FORBIDDEN:
                raise Forbidden(exc.message) from None
            raise Invalid(f"{exc.field}: {exc.message}" if exc.field else exc.message) from None
        document = {
            "clientId": client_id,
            "exportedAt": datetime.now(UTC),
            "services": dict(zip(SERVICES, parts, strict=True)),
        }
        return orjson.dumps(document).decode()


@strawberry.type
class PrivacyMutation:
    @strawberry.mutation(
        permission_classes=AUTHENTICATED,
        description="OWNER (B11): names and contact data anonymised in every service (the "
        "others follow through an event); receipts keep their amounts. Erasing twice changes "
        "nothing; an erased client cannot be updated.",
    )
    async def erase_client(
        self, info: Info[Context, None], input: EraseClientInput
    ) -> EraseClientPayload:
        ctx = info.context
        if ctx.session().role is not Role.OWNER:
            return EraseClientPayload(
                errors=[
                    UserError(
                        field=None,
                        code=ErrorCode.FORBIDDEN,
                        message="erasing a client is for owners",
                    )
                ]
            )
        try:
            msg = await ctx.call(
                "clients",
                ctx.state.backends.clients.EraseClient,
                clients_pb2.EraseClientRequest(id=str(input.id)),
            )
        except DomainError as exc:
            return EraseClientPayload(errors=[UserError.of(exc)])
        return EraseClientPayload(client=Client.of(msg))
