from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.errors import Invalid
from gateway.schema.base import AUTHENTICATED, PageInfo, establishment_for_query, selects
from gateway.schema.clients.types import (
    Client,
    ClientConnection,
    ClientEdge,
    prefetch_establishments,
)
from salon.clients.v1 import clients_pb2
from salon.common.v1 import page_pb2
from services.common.errors import DomainError, ErrorCode


@strawberry.type
class ClientsQuery:
    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="The shared client file (R10), by last name. search matches names, e-mail "
        "and phone; establishmentId lists the clients with history there.",
    )
    async def clients(
        self,
        info: Info[Context, None],
        first: int | None = 50,
        after: str | None = None,
        search: str | None = None,
        establishment_id: strawberry.ID | None = None,
    ) -> ClientConnection:
        ctx = info.context
        est = (
            await establishment_for_query(info, establishment_id, None)
            if establishment_id is not None
            else ""
        )
        try:
            reply = await ctx.call(
                "clients",
                ctx.state.backends.clients.ListClients,
                clients_pb2.ListClientsRequest(
                    page=page_pb2.PageRequest(
                        first=50 if first is None else first, after=after or ""
                    ),
                    search=search or "",
                    establishment_id=est,
                ),
            )
        except DomainError as exc:
            raise Invalid(f"{exc.field}: {exc.message}" if exc.field else exc.message) from None
        nodes = [Client.of(msg) for msg in reply.clients]
        for msg in reply.clients:
            ctx.loaders.client_by_id.prime(msg.id, msg)
        if selects(info, "edges", "node", "establishments"):
            await prefetch_establishments(info, nodes)
        edges = [
            ClientEdge(cursor=cursor, node=node)
            for cursor, node in zip(reply.cursors, nodes, strict=True)
        ]
        return ClientConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=reply.page_info.has_next_page,
                end_cursor=reply.page_info.end_cursor or None,
            ),
            total_count=reply.page_info.total_count,
        )

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="null when unknown or of another organization (R01).",
    )
    async def client(self, info: Info[Context, None], id: strawberry.ID) -> Client | None:
        if len(id) > 64:
            return None
        try:
            msg = await info.context.loaders.client_by_id.load(str(id))
        except DomainError as exc:
            if exc.code is ErrorCode.NOT_FOUND:
                return None
            raise
        return Client.of(msg) if msg is not None else None
