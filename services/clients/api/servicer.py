"""gRPC API of the client file: protobuf in, domain calls, protobuf out."""

from __future__ import annotations

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from salon.clients.v1 import clients_pb2, clients_pb2_grpc, events_pb2
from salon.common.v1 import page_pb2
from services.clients.domain import model
from services.clients.store import repository
from services.clients.store.tables import outbox
from services.common.db import advisory_lock
from services.common.errors import invalid
from services.common.events import EventType
from services.common.outbox import record_event
from services.common.runtime import ServiceContext
from services.common.scope import current_scope

CLIENT_CREATED = EventType("clients", "client", "created")
CLIENT_UPDATED = EventType("clients", "client", "updated")
LOYALTY_CARD_CREATED = EventType("clients", "loyalty_card", "created")
MAX_BATCH = 1000


def _ts(value: object) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)  # type: ignore[arg-type]
    return ts


def to_proto(client: model.Client) -> clients_pb2.Client:
    msg = clients_pb2.Client(
        id=client.id,
        first_name=client.first_name,
        last_name=client.last_name,
        establishment_ids=client.establishment_ids,
        created_at=_ts(client.created_at),
        updated_at=_ts(client.updated_at),
        created_in_establishment_id=client.created_in_establishment_id,
        marketing_email_opt_out=client.marketing_email_opt_out,
        marketing_sms_opt_out=client.marketing_sms_opt_out,
    )
    if client.email is not None:
        msg.email = client.email
    if client.phone is not None:
        msg.phone = client.phone
    return msg


def card_to_proto(card: model.LoyaltyCard) -> clients_pb2.LoyaltyCard:
    return clients_pb2.LoyaltyCard(
        id=card.id,
        client_id=card.client_id,
        establishment_id=card.establishment_id,
        points=card.points,
        created_at=_ts(card.created_at),
    )


def _opt(request: object, name: str) -> str | None:
    return getattr(request, name) if request.HasField(name) else None  # type: ignore[attr-defined]


def _consent(request: object) -> dict[str, bool | None]:
    """R30: the marketing opt-outs the request gives (None: not given)."""
    return {
        name: getattr(request, name) if request.HasField(name) else None  # type: ignore[attr-defined]
        for name in ("marketing_email_opt_out", "marketing_sms_opt_out")
    }


class ClientsServicer(clients_pb2_grpc.ClientsServiceServicer):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    async def CreateClient(
        self, request: clients_pb2.CreateClientRequest, context: grpc.aio.ServicerContext
    ) -> clients_pb2.Client:
        scope = current_scope()
        fields = model.check_new(
            request.first_name,
            request.last_name,
            _opt(request, "email"),
            _opt(request, "phone"),
            **_consent(request),
        )
        async with self.ctx.db.write() as session:
            client = await repository.create(
                session, scope.organization_id, scope.establishment_id, fields
            )
            message = to_proto(client)
            await record_event(
                session,
                outbox,
                CLIENT_CREATED,
                events_pb2.ClientCreated(client=message),
                scope,
                establishment_id=scope.establishment_id,
            )
        self.ctx.wake_relay()
        return message

    async def UpdateClient(
        self, request: clients_pb2.UpdateClientRequest, context: grpc.aio.ServicerContext
    ) -> clients_pb2.Client:
        scope = current_scope()
        fields = model.check_update(
            _opt(request, "first_name"),
            _opt(request, "last_name"),
            _opt(request, "email"),
            _opt(request, "phone"),
            **_consent(request),
        )
        async with self.ctx.db.write() as session:
            client, changed = await repository.update_fields(
                session, scope.organization_id, scope.establishment_id, request.id, fields
            )
            message = to_proto(client)
            if changed:
                await record_event(
                    session,
                    outbox,
                    CLIENT_UPDATED,
                    events_pb2.ClientUpdated(client=message, changed_fields=changed),
                    scope,
                    establishment_id=scope.establishment_id,
                )
        if changed:
            self.ctx.wake_relay()
        return message

    async def FindOrCreateClient(
        self, request: clients_pb2.CreateClientRequest, context: grpc.aio.ServicerContext
    ) -> clients_pb2.FindOrCreateClientResponse:
        """Online booking (R16): the shared file's client with this e-mail, or a new one
        created in the scope's establishment. An e-mail is required here."""
        scope = current_scope()
        fields = model.check_new(
            request.first_name, request.last_name, _opt(request, "email"), _opt(request, "phone")
        )
        if not fields.email:
            raise invalid("email", "must not be empty")
        async with self.ctx.db.write() as session:
            # Two bookings of a new client at once must not create two records.
            await advisory_lock(
                session, "salon.clients.email", f"{scope.organization_id}:{fields.email.lower()}"
            )
            found = await repository.find_by_email(session, scope.organization_id, fields.email)
            if found is not None:
                return clients_pb2.FindOrCreateClientResponse(client=to_proto(found))
            client = await repository.create(
                session, scope.organization_id, scope.establishment_id, fields
            )
            message = to_proto(client)
            await record_event(
                session,
                outbox,
                CLIENT_CREATED,
                events_pb2.ClientCreated(client=message),
                scope,
                establishment_id=scope.establishment_id,
            )
        self.ctx.wake_relay()
        return clients_pb2.FindOrCreateClientResponse(client=message, created=True)

    async def GetClients(
        self, request: clients_pb2.GetClientsRequest, context: grpc.aio.ServicerContext
    ) -> clients_pb2.GetClientsResponse:
        scope = current_scope()
        if len(request.ids) > MAX_BATCH:
            raise invalid("ids", "at most 1000 ids per call")
        async with self.ctx.db.read() as session:
            found = await repository.get_many(session, scope.organization_id, list(request.ids))
        return clients_pb2.GetClientsResponse(clients=[to_proto(c) for c in found])

    async def ListClients(
        self, request: clients_pb2.ListClientsRequest, context: grpc.aio.ServicerContext
    ) -> clients_pb2.ListClientsResponse:
        scope = current_scope()
        first = model.check_page_size(request.page.first or 50)
        terms = model.search_terms(request.search)
        async with self.ctx.db.read() as session:
            page = await repository.list_page(
                session,
                scope.organization_id,
                first=first,
                after=request.page.after or None,
                terms=terms,
                establishment_id=request.establishment_id or None,
            )
        return clients_pb2.ListClientsResponse(
            clients=[to_proto(c) for c in page.clients],
            cursors=page.cursors,
            page_info=page_pb2.PageInfo(
                has_next_page=page.has_next_page,
                end_cursor=page.cursors[-1] if page.cursors else "",
                total_count=page.total_count,
            ),
        )

    # -- loyalty cards (R23) --------------------------------------------------------------

    async def CreateLoyaltyCard(
        self, request: clients_pb2.CreateLoyaltyCardRequest, context: grpc.aio.ServicerContext
    ) -> clients_pb2.LoyaltyCard:
        """A card in the session establishment, for a client of the organization's file
        (NOT_FOUND otherwise, R01); a second card there is a CONFLICT."""
        scope = current_scope()
        client_id = model.check_client_id(request.client_id)
        async with self.ctx.db.write() as session:
            card = await repository.create_loyalty_card(
                session, scope.organization_id, scope.establishment_id, client_id
            )
            message = card_to_proto(card)
            await record_event(
                session,
                outbox,
                LOYALTY_CARD_CREATED,
                events_pb2.LoyaltyCardCreated(card=message),
                scope,
                establishment_id=scope.establishment_id,
            )
        self.ctx.wake_relay()
        return message

    async def GetLoyaltyCards(
        self, request: clients_pb2.GetLoyaltyCardsRequest, context: grpc.aio.ServicerContext
    ) -> clients_pb2.GetLoyaltyCardsResponse:
        """The cards of the session establishment only (R23: a card of another
        establishment is not shown here), in the order of the ids asked."""
        scope = current_scope()
        client_ids = model.check_client_ids(request.client_ids)
        async with self.ctx.db.read() as session:
            cards = await repository.get_loyalty_cards(
                session, scope.organization_id, scope.establishment_id, client_ids
            )
        return clients_pb2.GetLoyaltyCardsResponse(cards=[card_to_proto(c) for c in cards])
