"""Client and its connection (R10)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.schema.base import PageInfo
from gateway.schema.tenancy.types import Establishment, load_establishments
from salon.booking.v1 import booking_pb2
from salon.clients.v1 import clients_pb2
from salon.payments.v1 import payments_pb2

if TYPE_CHECKING:
    from gateway.schema.booking.types import Appointment
    from gateway.schema.payments.types import Deposit


@strawberry.type(description="A client of the organization's shared file (R10).")
class Client:
    id: strawberry.ID
    first_name: str
    last_name: str
    email: str | None
    phone: str | None = strawberry.field(description="E.164, e.g. +32470123456")
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

    @strawberry.field(
        description="Deposits for appointments of the session establishment only (R17)."
    )
    async def deposits(
        self, info: Info[Context, None]
    ) -> list[Annotated[Deposit, strawberry.lazy("gateway.schema.payments.types")]]:
        from gateway.schema.payments.types import Deposit as DepositType

        ctx = info.context
        reply = await ctx.call(
            "payments",
            ctx.state.backends.payments.ListClientDeposits,
            payments_pb2.ListClientDepositsRequest(client_id=str(self.id)),
        )
        return [DepositType.of(d) for d in reply.deposits]


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
