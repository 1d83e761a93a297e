"""Client, its connection (R10) and its loyalty card (R23)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.schema.base import PageInfo
from gateway.schema.payments.types import Deposit, GiftCard, PrepaidSubscription
from gateway.schema.tenancy.types import Establishment, load_establishment, load_establishments
from salon.booking.v1 import booking_pb2
from salon.clients.v1 import clients_pb2

if TYPE_CHECKING:
    from gateway.schema.booking.types import Appointment
    from gateway.schema.clients.forms import FormResponse


@strawberry.type(
    description="Belongs to the establishment where it was created; points are earned "
    "there only (R23)."
)
class LoyaltyCard:
    id: strawberry.ID
    points: int
    establishment_id: strawberry.Private[str]

    @classmethod
    def of(cls, msg: clients_pb2.LoyaltyCard) -> LoyaltyCard:
        return cls(
            id=strawberry.ID(msg.id), points=msg.points, establishment_id=msg.establishment_id
        )

    @strawberry.field
    async def establishment(self, info: Info[Context, None]) -> Establishment:
        est = await load_establishment(info, self.establishment_id)
        assert est is not None
        return est


@strawberry.type(description="A client of the organization's shared file (R10).")
class Client:
    id: strawberry.ID
    first_name: str
    last_name: str
    email: str | None
    phone: str | None = strawberry.field(description="E.164, e.g. +32470123456")
    marketing_email_opt_out: bool = strawberry.field(
        description="Declined marketing e-mail: campaigns skip the client (R30). False until "
        "the client objects (the soft opt-in of existing clients)."
    )
    marketing_sms_opt_out: bool = strawberry.field(
        description="Declined marketing SMS: SMS campaigns skip the client (R30)."
    )
    establishment_ids: strawberry.Private[list[str]]
    # Filled by a list resolver that prefetched them in one batch (see `selects`).
    prefetched_establishments: strawberry.Private[list[Establishment] | None] = None

    @classmethod
    def of(cls, msg: clients_pb2.Client) -> Client:
        return cls(
            id=strawberry.ID(msg.id),
            first_name=msg.first_name,
            last_name=msg.last_name,
            email=msg.email if msg.HasField("email") else None,
            phone=msg.phone if msg.HasField("phone") else None,
            marketing_email_opt_out=msg.marketing_email_opt_out,
            marketing_sms_opt_out=msg.marketing_sms_opt_out,
            establishment_ids=list(msg.establishment_ids),
        )

    @strawberry.field(
        description="Where the client has history (R10 per-establishment view).",
        graphql_type=list[Establishment],
    )
    def establishments(
        self, info: Info[Context, None]
    ) -> list[Establishment] | Awaitable[list[Establishment]]:
        # Sync when prefetched: an async field costs more than the lookup it would make.
        if self.prefetched_establishments is not None:
            return self.prefetched_establishments
        return load_establishments(info, self.establishment_ids)

    @strawberry.field(description="In the session establishment (R21).")
    async def appointments(
        self, info: Info[Context, None], upcoming: bool | None = False
    ) -> list[Annotated[Appointment, strawberry.lazy("gateway.schema.booking.types")]]:
        from gateway.schema.booking.types import Appointment as AppointmentType

        ctx = info.context
        reply = await ctx.call(
            "booking",
            ctx.state.backends.booking.ListClientAppointments,
            booking_pb2.ListClientAppointmentsRequest(
                client_id=str(self.id), upcoming_only=bool(upcoming)
            ),
        )
        return [AppointmentType.of(a) for a in reply.appointments]

    # The till side of the record is staff-only: a public operation (the booking page
    # showing the client it booked for) sees none of it.
    @strawberry.field(description="The session establishment's card only (R23).")
    async def loyalty_card(self, info: Info[Context, None]) -> LoyaltyCard | None:
        if info.context.is_public:
            return None
        msg = await info.context.loaders.loyalty_card_by_client.load(str(self.id))
        return LoyaltyCard.of(msg) if msg is not None else None

    @strawberry.field(
        description="Deposits for appointments of the session establishment only (R17)."
    )
    async def deposits(self, info: Info[Context, None]) -> list[Deposit]:
        if info.context.is_public:
            return []
        found = await info.context.loaders.deposits_by_client.load(str(self.id))
        return [Deposit.of(d) for d in found]

    @strawberry.field(description="Those sold in the session establishment only (R24).")
    async def subscriptions(self, info: Info[Context, None]) -> list[PrepaidSubscription]:
        if info.context.is_public:
            return []
        found = await info.context.loaders.subscriptions_by_client.load(str(self.id))
        return [PrepaidSubscription.of(s) for s in found]

    @strawberry.field(
        description="Answers to forms given in the session establishment only, newest first (R29)."
    )
    async def form_responses(
        self, info: Info[Context, None]
    ) -> list[Annotated[FormResponse, strawberry.lazy("gateway.schema.clients.forms")]]:
        from gateway.schema.clients.forms import FormResponse as FormResponseType

        if info.context.is_public:
            return []
        found = await info.context.loaders.form_responses_by_client.load(str(self.id))
        return [FormResponseType.of(r) for r in found]

    @strawberry.field(description="Organization-wide (R14).")
    async def gift_cards(self, info: Info[Context, None]) -> list[GiftCard]:
        if info.context.is_public:
            return []
        found = await info.context.loaders.gift_cards_by_client.load(str(self.id))
        return [GiftCard.of(g) for g in found]


async def prefetch_establishments(info: Info[Context, None], clients: list[Client]) -> None:
    """One batched read for the establishments of a whole page of clients."""
    ids = list(dict.fromkeys(e for c in clients for e in c.establishment_ids))
    found = {str(e.id): e for e in await load_establishments(info, ids)}
    for client in clients:
        client.prefetched_establishments = [
            found[e] for e in client.establishment_ids if e in found
        ]


@strawberry.type
class ClientEdge:
    cursor: str
    node: Client


@strawberry.type
class ClientConnection:
    edges: list[ClientEdge]
    page_info: PageInfo
    total_count: int
