"""B11 (GDPR) in the client file: the client's data export and the erasure.

EraseClient anonymises the record (first name "Erased", last name "client <short id>",
e-mail and phone NULL), keeps the id, history and loyalty cards, sets `erased_at`, drops
the addresses of its campaign messages and skips those still pending (R30), and
publishes ClientErased (the client id only) in the same transaction. No ClientUpdated is
published for an erasure: every service handles ClientErased for its own copies. Erasing
twice answers the erased client and publishes nothing. An erased client cannot get personal
data back: UpdateClient on it is a CONFLICT, and FindOrCreateClient never matches it (its
e-mail is gone), so online booking with the old e-mail creates a new client.

R29's form answers are part of both: the export lists them from every establishment, the
erasure empties them (the fact, time and author of an answer stay).

Both RPCs are the OWNER's only (FORBIDDEN otherwise): they are about one person's data.
"""

from __future__ import annotations

import grpc
import orjson

from salon.clients.v1 import clients_pb2, events_pb2
from salon.common.v1 import privacy_pb2
from services.clients.api.servicer import ClientsServicer, to_proto
from services.clients.store import forms_repository, marketing_repository, repository
from services.clients.store.tables import outbox
from services.common.errors import DomainError, ErrorCode, invalid, not_found
from services.common.events import EventType
from services.common.outbox import record_event
from services.common.scope import Scope, current_scope

CLIENT_ERASED = EventType("clients", "client", "erased")
SERVICE = "clients"


def owner_scope() -> Scope:
    """The scope of the call, an OWNER's (FORBIDDEN otherwise)."""
    scope = current_scope()
    if not scope.is_owner:
        raise DomainError(ErrorCode.FORBIDDEN, "only an owner handles a client's personal data")
    return scope


def export_json(data: object) -> str:
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()


class PrivacyClientsServicer(ClientsServicer):
    """The client file's servicer with B11's RPCs."""

    async def ExportClientData(
        self, request: privacy_pb2.ExportClientDataRequest, context: grpc.aio.ServicerContext
    ) -> privacy_pb2.ClientDataExport:
        scope = owner_scope()
        if not request.client_id.strip():
            raise invalid("clientId", "must not be empty")
        async with self.ctx.db.read() as session:
            data = await repository.export(session, scope.organization_id, request.client_id)
            if data is not None:
                # R29's forms: the answers of every establishment.
                data["formResponses"] = await forms_repository.export_client(
                    session, scope.organization_id, request.client_id
                )
                # R30: the campaign messages recorded for the client.
                data["campaignMessages"] = await marketing_repository.export_messages(
                    session, scope.organization_id, request.client_id
                )
        if data is None:
            raise not_found("client", "clientId")
        return privacy_pb2.ClientDataExport(service=SERVICE, json=export_json(data))

    async def EraseClient(
        self, request: clients_pb2.EraseClientRequest, context: grpc.aio.ServicerContext
    ) -> clients_pb2.Client:
        scope = owner_scope()
        if not request.id.strip():
            raise invalid("id", "must not be empty")
        async with self.ctx.db.write() as session:
            client, erased = await repository.erase(session, scope.organization_id, request.id)
            await forms_repository.erase_client(session, scope.organization_id, client.id)
            if erased:
                # R30: no address of theirs stays in the campaigns, nothing pending goes.
                await marketing_repository.forget_client(session, scope.organization_id, client.id)
                await record_event(
                    session,
                    outbox,
                    CLIENT_ERASED,
                    events_pb2.ClientErased(client_id=client.id),
                    scope,
                    establishment_id=scope.establishment_id,
                )
        if erased:
            self.ctx.wake_relay()
        return to_proto(client)
