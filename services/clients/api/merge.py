"""B07 in the client file: duplicate candidates and the merge of two records.

ListDuplicateClients lists groups of live clients (not erased, not merged) with the same
normalised e-mail or phone created in different establishments. MergeClients (an OWNER's or
MANAGER's) merges one record into another in one transaction (see repository.merge) and
publishes ClientMerged; the services that hold client ids re-point theirs when they get it.
From then on the merged id keeps resolving: GetClients answers the kept record for it (and
says so in `merged`), lists and search leave it out, and an update or a second merge of it
is a CONFLICT.
"""

from __future__ import annotations

import grpc

from salon.clients.v1 import clients_pb2, events_pb2
from salon.common.v1 import page_pb2
from services.clients.api.privacy import PrivacyClientsServicer
from services.clients.api.servicer import MAX_BATCH, to_proto
from services.clients.domain import model
from services.clients.store import repository
from services.clients.store.tables import outbox
from services.common.errors import DomainError, ErrorCode, invalid
from services.common.events import EventType
from services.common.outbox import record_event
from services.common.scope import Role, current_scope

CLIENTS_MERGED = EventType("clients", "client", "merged")

REASONS = {
    model.REASON_EMAIL: clients_pb2.DUPLICATE_REASON_EMAIL,
    model.REASON_PHONE: clients_pb2.DUPLICATE_REASON_PHONE,
}


class MergeClientsServicer(PrivacyClientsServicer):
    """The client file's servicer with B11's and B07's RPCs."""

    async def GetClients(
        self, request: clients_pb2.GetClientsRequest, context: grpc.aio.ServicerContext
    ) -> clients_pb2.GetClientsResponse:
        """B07: a merged id answers the record it was merged into (`merged` says so)."""
        scope = current_scope()
        if len(request.ids) > MAX_BATCH:
            raise invalid("ids", "at most 1000 ids per call")
        async with self.ctx.db.read() as session:
            found, merged = await repository.get_resolved(
                session, scope.organization_id, list(request.ids)
            )
        return clients_pb2.GetClientsResponse(clients=[to_proto(c) for c in found], merged=merged)

    async def ListDuplicateClients(
        self, request: clients_pb2.ListDuplicateClientsRequest, context: grpc.aio.ServicerContext
    ) -> clients_pb2.ListDuplicateClientsResponse:
        scope = current_scope()
        first = model.check_page_size(request.page.first or 50)
        async with self.ctx.db.read() as session:
            page = await repository.list_duplicates(
                session, scope.organization_id, first=first, after=request.page.after or None
            )
        return clients_pb2.ListDuplicateClientsResponse(
            groups=[
                clients_pb2.DuplicateGroup(
                    reason=REASONS[g.reason],
                    value=g.value,
                    clients=[to_proto(c) for c in g.clients],
                )
                for g in page.groups
            ],
            cursors=page.cursors,
            page_info=page_pb2.PageInfo(
                has_next_page=page.has_next_page,
                end_cursor=page.cursors[-1] if page.cursors else "",
                total_count=page.total_count,
            ),
        )

    async def MergeClients(
        self, request: clients_pb2.MergeClientsRequest, context: grpc.aio.ServicerContext
    ) -> clients_pb2.MergeClientsResponse:
        scope = current_scope()
        if scope.role not in (Role.OWNER, Role.MANAGER):
            raise DomainError(ErrorCode.FORBIDDEN, "merging clients is for owners and managers")
        keep_id, merge_id = model.check_merge(request.keep_id, request.merge_id)
        async with self.ctx.db.write() as session:
            result = await repository.merge(session, scope.organization_id, keep_id, merge_id)
            kept = to_proto(result.kept)
            await record_event(
                session,
                outbox,
                CLIENTS_MERGED,
                events_pb2.ClientMerged(
                    kept_client_id=keep_id,
                    merged_client_id=merge_id,
                    kept=kept,
                    folded_card_ids=result.folded_card_ids,
                ),
                scope,
                establishment_id=scope.establishment_id,
            )
        self.ctx.wake_relay()
        return clients_pb2.MergeClientsResponse(client=kept, folded_card_ids=result.folded_card_ids)
