"""B07: duplicate clients across establishments, and their merge.

`duplicateClients` lists groups of clients of the shared file (R10), not erased and not
merged, that share a normalised e-mail (trimmed, lower-case) or phone (E.164) and were
created in different establishments: the e-mail groups first, then the phone groups. A pair
that shares both shows in one group of each reason.

`mergeClients` (an OWNER's or a MANAGER's) merges one record into another: the kept record
gets the merged one's history, loyalty cards and empty contact fields at once; appointments,
deposits, receipts, subscriptions and gift cards follow in the booking and payments services
through the ClientMerged event. `client(id: <merged id>)` answers the kept record from then
on, lists and search no longer show the merged one, and it cannot be updated or merged again.
"""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.errors import Invalid
from gateway.schema.base import AUTHENTICATED, PageInfo, UserError, user_errors
from gateway.schema.clients.types import Client
from salon.clients.v1 import clients_pb2
from salon.common.v1 import page_pb2
from services.common.errors import DomainError, ErrorCode
from services.common.scope import Role


@strawberry.enum(description="What duplicate clients share (B07).")
class DuplicateReason(Enum):
    EMAIL = "EMAIL"
    PHONE = "PHONE"


REASONS = {
    clients_pb2.DUPLICATE_REASON_EMAIL: DuplicateReason.EMAIL,
    clients_pb2.DUPLICATE_REASON_PHONE: DuplicateReason.PHONE,
}


@strawberry.type(
    description="Clients created in different establishments that share an e-mail or a "
    "phone (B07), oldest first."
)
class DuplicateClientGroup:
    reason: DuplicateReason
    value: str = strawberry.field(
        description="The e-mail (trimmed, lower-case) or phone (E.164) they share."
    )
    clients: list[Client]


@strawberry.type
class DuplicateClientGroupEdge:
    cursor: str
    node: DuplicateClientGroup


@strawberry.type
class DuplicateClientGroupConnection:
    edges: list[DuplicateClientGroupEdge]
    page_info: PageInfo
    total_count: int


@strawberry.input
class MergeClientsInput:
    keep_id: strawberry.ID = strawberry.field(description="The record that stays.")
    merge_id: strawberry.ID = strawberry.field(
        description="The record merged into it; its id keeps answering the kept record."
    )


@strawberry.type
class MergeClientsPayload:
    client: Client | None = strawberry.field(default=None, description="The kept record.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MergeQuery:
    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="B07: candidate duplicates of the shared client file: e-mail groups "
        "first, then phone groups.",
    )
    async def duplicate_clients(
        self, info: Info[Context, None], first: int | None = 50, after: str | None = None
    ) -> DuplicateClientGroupConnection:
        ctx = info.context
        try:
            reply = await ctx.call(
                "clients",
                ctx.state.backends.clients.ListDuplicateClients,
                clients_pb2.ListDuplicateClientsRequest(
                    page=page_pb2.PageRequest(
                        first=50 if first is None else first, after=after or ""
                    )
                ),
            )
        except DomainError as exc:
            raise Invalid(f"{exc.field}: {exc.message}" if exc.field else exc.message) from None
        edges = []
        for cursor, group in zip(reply.cursors, reply.groups, strict=True):
            for msg in group.clients:
                ctx.loaders.client_by_id.prime(msg.id, msg)
            edges.append(
                DuplicateClientGroupEdge(
                    cursor=cursor,
                    node=DuplicateClientGroup(
                        reason=REASONS[group.reason],
                        value=group.value,
                        clients=[Client.of(msg) for msg in group.clients],
                    ),
                )
            )
        return DuplicateClientGroupConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=reply.page_info.has_next_page,
                end_cursor=reply.page_info.end_cursor or None,
            ),
            total_count=reply.page_info.total_count,
        )


@strawberry.type
class MergeMutation:
    @strawberry.mutation(
        permission_classes=AUTHENTICATED,
        description="OWNER or MANAGER (B07): mergeId's history, loyalty cards, appointments, "
        "deposits, receipts, subscriptions and gift cards go to keepId (the other services "
        "follow through an event); mergeId keeps answering the kept record. Merging a "
        "client with itself, an erased or merged one, or another organization's is refused "
        "and changes nothing.",
    )
    async def merge_clients(
        self, info: Info[Context, None], input: MergeClientsInput
    ) -> MergeClientsPayload:
        ctx = info.context
        if ctx.session().role not in (Role.OWNER, Role.MANAGER):
            return MergeClientsPayload(
                errors=[
                    UserError(
                        field=None,
                        code=ErrorCode.FORBIDDEN,
                        message="merging clients is for owners and managers",
                    )
                ]
            )
        try:
            reply = await ctx.call(
                "clients",
                ctx.state.backends.clients.MergeClients,
                clients_pb2.MergeClientsRequest(
                    keep_id=str(input.keep_id), merge_id=str(input.merge_id)
                ),
            )
        except DomainError as exc:
            return MergeClientsPayload(errors=user_errors(exc))
        ctx.loaders.client_by_id.prime(reply.client.id, reply.client, force=True)
        ctx.loaders.client_by_id.prime(str(input.merge_id), reply.client, force=True)
        return MergeClientsPayload(client=Client.of(reply.client))
