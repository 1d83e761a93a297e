"""Per-request DataLoaders, one per <Entity>By<Key>, each over one batched read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from strawberry.dataloader import DataLoader

from gateway.store import tenancy
from salon.clients.v1 import clients_pb2

if TYPE_CHECKING:
    from gateway.context import Context


class Loaders:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.organization_by_id = DataLoader(self._organizations)
        self.establishment_by_id = DataLoader(self._establishments)
        self.user_by_id = DataLoader(self._users)
        self.memberships_by_user_id = DataLoader(self._memberships)
        self.client_by_id = DataLoader(self._clients, max_batch_size=500)

    async def _organizations(self, ids: Sequence[str]) -> list[tenancy.Organization | None]:
        async with self.ctx.state.db.read() as session:
            found = await tenancy.organizations_by_ids(session, ids)
        return [found.get(i) for i in ids]

    async def _establishments(self, ids: Sequence[str]) -> list[tenancy.Establishment | None]:
        org = self.ctx.organization_id()
        async with self.ctx.state.db.read() as session:
            found = await tenancy.establishments_by_ids(session, org, ids)
        return [found.get(i) for i in ids]

    async def _users(self, ids: Sequence[str]) -> list[tenancy.User | None]:
        org = self.ctx.organization_id()
        async with self.ctx.state.db.read() as session:
            found = await tenancy.users_by_ids(session, org, ids)
        return [found.get(i) for i in ids]

    async def _memberships(self, ids: Sequence[str]) -> list[list[tenancy.Membership]]:
        org = self.ctx.organization_id()
        async with self.ctx.state.db.read() as session:
            found = await tenancy.memberships_by_users(session, org, ids)
        return [found.get(i, []) for i in ids]

    async def _clients(self, ids: Sequence[str]) -> list[clients_pb2.Client | None]:
        backends = self.ctx.state.backends
        reply = await backends.call(
            "clients",
            backends.clients.GetClients,
            clients_pb2.GetClientsRequest(ids=list(ids)),
            self.ctx.metadata(),
        )
        found = {c.id: c for c in reply.clients}
        return [found.get(i) for i in ids]
