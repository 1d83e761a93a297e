"""Client and its connection (R10)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.schema.base import PageInfo
from gateway.schema.tenancy.types import Establishment, load_establishment
from salon.clients.v1 import clients_pb2


@strawberry.type(description="A client of the organization's shared file (R10).")
class Client:
    id: strawberry.ID
    first_name: str
    last_name: str
    email: str | None
    phone: str | None = strawberry.field(description="E.164, e.g. +32470123456")
    establishment_ids: strawberry.Private[list[str]]

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

    @strawberry.field(description="Where the client has history (R10 per-establishment view).")
    async def establishments(self, info: Info[Context, None]) -> list[Establishment]:
        out = []
        for est_id in self.establishment_ids:
            est = await load_establishment(info, est_id)
            if est is not None:
                out.append(est)
        return out


@strawberry.type
class ClientEdge:
    cursor: str
    node: Client


@strawberry.type
class ClientConnection:
    edges: list[ClientEdge]
    page_info: PageInfo
    total_count: int
