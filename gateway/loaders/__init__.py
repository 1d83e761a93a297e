"""Per-request DataLoaders, one per <Entity>By<Key>, each over one batched read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from strawberry.dataloader import DataLoader

from gateway.store import tenancy
from salon.booking.v1 import booking_pb2
from salon.catalog.v1 import catalog_pb2
from salon.clients.v1 import clients_pb2, forms_pb2
from salon.inventory.v1 import inventory_pb2
from salon.payments.v1 import payments_pb2

if TYPE_CHECKING:
    from gateway.context import Context


class Loaders:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        # SALON_DATALOADERS=false: one call per key, no cache (the baseline bench/ compares).
        batching = ctx.state.settings.dataloaders

        def loader(
            fn: Callable[[Sequence[Any]], Awaitable[Sequence[Any]]], size: int = 1000
        ) -> DataLoader[Any, Any]:
            if batching:
                return DataLoader(fn, max_batch_size=size)
            return DataLoader(fn, max_batch_size=1, cache=False)

        self.organization_by_id = loader(self._organizations)
        self.establishment_by_id = loader(self._establishments)
        self.user_by_id = loader(self._users)
        self.memberships_by_user_id = loader(self._memberships)
        self.client_by_id = loader(self._clients, 500)
        # Keyed by (establishment id, id): values differ per establishment (R12, R13, R20).
        self.service_by_key = loader(self._services)
        self.product_by_key = loader(self._products)
        self.stock_by_key = loader(self._stock)
        self.opening_hours_by_establishment = loader(self._opening_hours)
        self.appointment_by_id = loader(self._appointments)
        self.deposit_by_appointment = loader(self._deposits)
        # The client record's till side, per client: the session establishment's loyalty
        # card (R23), deposits (R17) and subscriptions (R24); gift cards organization-wide (R14).
        self.loyalty_card_by_client = loader(self._loyalty_cards, 500)
        self.deposits_by_client = loader(self._client_deposits, 500)
        self.subscriptions_by_client = loader(self._client_subscriptions, 500)
        self.gift_cards_by_client = loader(self._client_gift_cards, 500)
        # R29: forms of the session establishment, and the answers given there per client.
        self.form_by_id = loader(self._forms)
        self.form_responses_by_client = loader(self._client_form_responses, 500)

    async def _organizations(self, ids: Sequence[str]) -> list[tenancy.Organization | None]:
        # `organizations` has no organization_id (its id is the organization) and so no
        # row-level security policy: the ids asked for are the filter.
        async with self.ctx.state.db.read() as session:
            found = await tenancy.organizations_by_ids(session, ids)
        return [found.get(i) for i in ids]

    async def _establishments(self, ids: Sequence[str]) -> list[tenancy.Establishment | None]:
        org = self.ctx.organization_id()
        async with self.ctx.state.db.read(organization_id=org) as session:
            found = await tenancy.establishments_by_ids(session, org, ids)
        return [found.get(i) for i in ids]

    async def _users(self, ids: Sequence[str]) -> list[tenancy.User | None]:
        org = self.ctx.organization_id()
        async with self.ctx.state.db.read(organization_id=org) as session:
            found = await tenancy.users_by_ids(session, org, ids)
        return [found.get(i) for i in ids]

    async def _memberships(self, ids: Sequence[str]) -> list[list[tenancy.Membership]]:
        org = self.ctx.organization_id()
        async with self.ctx.state.db.read(organization_id=org) as session:
            found = await tenancy.memberships_by_users(session, org, ids)
        return [found.get(i, []) for i in ids]

    async def _clients(self, ids: Sequence[str]) -> list[clients_pb2.Client | None]:
        reply = await self.ctx.call(
            "clients",
            self.ctx.state.backends.clients.GetClients,
            clients_pb2.GetClientsRequest(ids=list(ids)),
        )
        found = {c.id: c for c in reply.clients}
        # B07: a merged id answers the record it was merged into.
        return [found.get(reply.merged.get(i, i)) for i in ids]

    async def _services(self, keys: Sequence[Key]) -> list[catalog_pb2.Service | None]:
        found: dict[Key, catalog_pb2.Service] = {}
        for est, ids in _by_establishment(keys).items():
            reply = await self.ctx.call(
                "catalog",
                self.ctx.state.backends.catalog.GetServices,
                catalog_pb2.GetServicesRequest(ids=ids, establishment_id=est),
            )
            found.update({(est, s.id): s for s in reply.services})
        return [found.get(k) for k in keys]

    async def _products(self, keys: Sequence[Key]) -> list[catalog_pb2.Product | None]:
        found: dict[Key, catalog_pb2.Product] = {}
        for est, ids in _by_establishment(keys).items():
            reply = await self.ctx.call(
                "catalog",
                self.ctx.state.backends.catalog.GetProducts,
                catalog_pb2.GetProductsRequest(ids=ids, establishment_id=est),
            )
            found.update({(est, p.id): p for p in reply.products})
        return [found.get(k) for k in keys]

    async def _stock(self, keys: Sequence[Key]) -> list[int]:
        found: dict[Key, int] = {}
        for est, ids in _by_establishment(keys).items():
            reply = await self.ctx.call(
                "inventory",
                self.ctx.state.backends.inventory.GetStock,
                inventory_pb2.GetStockRequest(product_ids=ids, establishment_id=est),
            )
            found.update({(est, level.product_id): level.quantity for level in reply.levels})
        return [found.get(k, 0) for k in keys]

    async def _opening_hours(self, ids: Sequence[str]) -> list[list[booking_pb2.OpeningHours]]:
        reply = await self.ctx.call(
            "booking",
            self.ctx.state.backends.booking.GetOpeningHours,
            booking_pb2.GetOpeningHoursRequest(establishment_ids=list(ids)),
        )
        found = {e.establishment_id: list(e.hours) for e in reply.establishments}
        return [found.get(i, []) for i in ids]

    async def _appointments(self, ids: Sequence[str]) -> list[booking_pb2.Appointment | None]:
        reply = await self.ctx.call(
            "booking",
            self.ctx.state.backends.booking.GetAppointments,
            booking_pb2.GetAppointmentsRequest(ids=list(ids)),
        )
        found = {a.id: a for a in reply.appointments}
        return [found.get(i) for i in ids]

    async def _deposits(self, ids: Sequence[str]) -> list[payments_pb2.Deposit | None]:
        reply = await self.ctx.call(
            "payments",
            self.ctx.state.backends.payments.GetDepositsByAppointments,
            payments_pb2.GetDepositsByAppointmentsRequest(appointment_ids=list(ids)),
        )
        found = {d.appointment_id: d for d in reply.deposits}
        return [found.get(i) for i in ids]

    async def _loyalty_cards(self, ids: Sequence[str]) -> list[clients_pb2.LoyaltyCard | None]:
        reply = await self.ctx.call(
            "clients",
            self.ctx.state.backends.clients.GetLoyaltyCards,
            clients_pb2.GetLoyaltyCardsRequest(client_ids=list(ids)),
        )
        found = {c.client_id: c for c in reply.cards}
        return [found.get(i) for i in ids]

    # The client record's till side for a whole list of clients: one payments call each.
    async def _client_deposits(self, ids: Sequence[str]) -> list[list[payments_pb2.Deposit]]:
        reply = await self.ctx.call(
            "payments",
            self.ctx.state.backends.payments.ListClientDeposits,
            payments_pb2.ListClientDepositsRequest(client_ids=list(ids)),
        )
        return _by_client(ids, reply.deposits)

    async def _client_subscriptions(
        self, ids: Sequence[str]
    ) -> list[list[payments_pb2.PrepaidSubscription]]:
        reply = await self.ctx.call(
            "payments",
            self.ctx.state.backends.payments.ListClientSubscriptions,
            payments_pb2.ListClientSubscriptionsRequest(client_ids=list(ids)),
        )
        return _by_client(ids, reply.subscriptions)

    async def _client_gift_cards(self, ids: Sequence[str]) -> list[list[payments_pb2.GiftCard]]:
        reply = await self.ctx.call(
            "payments",
            self.ctx.state.backends.payments.ListClientGiftCards,
            payments_pb2.ListClientGiftCardsRequest(client_ids=list(ids)),
        )
        return _by_client(ids, reply.gift_cards)

    async def _forms(self, ids: Sequence[str]) -> list[forms_pb2.Form | None]:
        reply = await self.ctx.call(
            "clients",
            self.ctx.state.backends.forms.GetForms,
            forms_pb2.GetFormsRequest(ids=list(ids)),
        )
        found = {f.id: f for f in reply.forms}
        return [found.get(i) for i in ids]

    async def _client_form_responses(
        self, ids: Sequence[str]
    ) -> list[list[forms_pb2.FormResponse]]:
        reply = await self.ctx.call(
            "clients",
            self.ctx.state.backends.forms.ListClientFormResponses,
            forms_pb2.ListClientFormResponsesRequest(client_ids=list(ids)),
        )
        return _by_client(ids, reply.responses)


class _OfClient(Protocol):
    @property
    def client_id(self) -> str: ...


C = TypeVar("C", bound=_OfClient)


def _by_client(ids: Sequence[str], items: Iterable[C]) -> list[list[C]]:
    """Items grouped by their client, in the order of ``ids`` (the service's order kept)."""
    grouped: dict[str, list[C]] = {i: [] for i in ids}
    for item in items:
        if item.client_id in grouped:
            grouped[item.client_id].append(item)
    return [grouped[i] for i in ids]


Key = tuple[str, str]


def _by_establishment(keys: Sequence[Key]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for est, item in keys:
        grouped.setdefault(est, []).append(item)
    return grouped
