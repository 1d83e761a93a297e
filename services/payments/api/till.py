"""The checkout saga's collaborators as this service runs them: the catalogue, booking and
inventory over gRPC (on behalf of the caller: ServiceContext.call re-signs the scope) and
this service's database with its outbox (DbTill). Tests swap any of them for a fake."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from salon.booking.v1 import booking_pb2, booking_pb2_grpc
from salon.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from salon.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from salon.payments.v1 import events_pb2
from services.common.db import Database
from services.common.events import EventType
from services.common.money import format_amount
from services.common.outbox import record_event
from services.common.runtime import ServiceContext
from services.common.scope import Scope
from services.payments.api.convert import (
    deposit_to_proto,
    enum_name,
    gift_card_to_proto,
    receipt_to_proto,
    subscription_to_proto,
)
from services.payments.domain.cards import local_today, zone
from services.payments.domain.checkout import (
    AppointmentInfo,
    Attempt,
    AttemptState,
    CatalogItem,
    CheckoutPlan,
    CheckoutRequest,
    LineKind,
    Receipt,
    TillState,
)
from services.payments.store import cards_repository, merge_repository, till_repository
from services.payments.store.tables import outbox

RECEIPT_CREATED = EventType("payments", "receipt", "created")
DEPOSIT_APPLIED = EventType("payments", "deposit", "applied")
GIFT_CARD_ISSUED = EventType("payments", "gift_card", "issued")
GIFT_CARD_REDEEMED = EventType("payments", "gift_card", "redeemed")
SUBSCRIPTION_SOLD = EventType("payments", "subscription", "sold")
SUBSCRIPTION_USED = EventType("payments", "subscription", "used")


class GrpcCatalog:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    async def items(
        self, establishment_id: str, service_ids: Sequence[str], product_ids: Sequence[str]
    ) -> list[CatalogItem]:
        stub = catalog_pb2_grpc.CatalogServiceStub(self.ctx.channel("catalog"))
        found: list[CatalogItem] = []
        if service_ids:
            services = await self.ctx.call(
                "catalog",
                stub.GetServices,
                catalog_pb2.GetServicesRequest(
                    ids=list(service_ids), establishment_id=establishment_id
                ),
            )
            found += [
                CatalogItem(LineKind.SERVICE, s.id, s.name, Decimal(s.price))
                for s in services.services
                if not s.HasField("deleted_at") and s.establishment_id == establishment_id
            ]
        if product_ids:
            products = await self.ctx.call(
                "catalog",
                stub.GetProducts,
                catalog_pb2.GetProductsRequest(
                    ids=list(product_ids), establishment_id=establishment_id
                ),
            )
            found += [
                CatalogItem(LineKind.PRODUCT, p.id, p.name, Decimal(p.price))
                for p in products.products
                if p.establishment_id == establishment_id
            ]
        return found


class GrpcAppointments:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    async def appointment(self, appointment_id: str) -> AppointmentInfo | None:
        stub = booking_pb2_grpc.BookingServiceStub(self.ctx.channel("booking"))
        reply = await self.ctx.call(
            "booking",
            stub.GetAppointments,
            booking_pb2.GetAppointmentsRequest(ids=[appointment_id]),
        )
        return next(
            (
                AppointmentInfo(
                    id=a.id,
                    establishment_id=a.establishment_id,
                    client_id=a.client_id,
                    status=enum_name(
                        booking_pb2.AppointmentStatus, a.status, "APPOINTMENT_STATUS_"
                    ),
                )
                for a in reply.appointments
                if a.id == appointment_id
            ),
            None,
        )


class GrpcStock:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def _stub(self) -> inventory_pb2_grpc.InventoryServiceStub:
        return inventory_pb2_grpc.InventoryServiceStub(self.ctx.channel("inventory"))

    async def reserve(self, reservation_id: str, lines: Sequence[tuple[str, int]]) -> None:
        await self.ctx.call(
            "inventory",
            self._stub().ReserveStock,
            inventory_pb2.ReserveStockRequest(
                reservation_id=reservation_id,
                lines=[inventory_pb2.ReserveLine(product_id=p, quantity=q) for p, q in lines],
            ),
        )

    async def release(self, reservation_id: str) -> None:
        await self.ctx.call(
            "inventory",
            self._stub().ReleaseStock,
            inventory_pb2.ReleaseStockRequest(reservation_id=reservation_id),
        )


class DbTill:
    """The till's database: each method one transaction; the checkout's write records its
    events in the same transaction and wakes the relay after the commit."""

    def __init__(self, db: Database, wake: Callable[[], None] = lambda: None) -> None:
        self.db = db
        self.wake = wake

    async def attempt(
        self, organization_id: str, establishment_id: str, key: str
    ) -> Attempt | None:
        async with self.db.read(organization_id=organization_id) as conn:
            return await till_repository.get_attempt(conn, organization_id, establishment_id, key)

    async def claim(
        self,
        organization_id: str,
        establishment_id: str,
        key: str,
        request_hash: str,
        reservation_id: str,
        user_id: str,
    ) -> Attempt:
        async with self.db.write(organization_id=organization_id) as conn:
            return await till_repository.claim_attempt(
                conn, organization_id, establishment_id, key, request_hash, reservation_id, user_id
            )

    async def state(self, scope: Scope, request: CheckoutRequest, client_id: str) -> TillState:
        org, est = scope.organization_id, scope.establishment_id
        codes = [p.gift_card_code for p in request.payments if p.gift_card_code]
        subscription_ids = [p.subscription_id for p in request.payments if p.subscription_id]
        async with self.db.read(organization_id=org) as conn:
            # B07: the deposits of a merged client id are the kept record's.
            client_id = await merge_repository.resolve_read(conn, org, client_id)
            cards = await cards_repository.gift_cards_by_codes(conn, org, codes)
            subscriptions = await cards_repository.subscriptions_by_ids(conn, org, subscription_ids)
            deposits = (
                await till_repository.deposit_candidates(
                    conn, org, client_id, request.appointment_id
                )
                if request.apply_deposits
                else []
            )
            timezone = await cards_repository.establishment_timezone(conn, org, est)
        return TillState(cards, subscriptions, deposits, local_today(zone(timezone)))

    async def receipt(self, organization_id: str, receipt_id: str) -> Receipt:
        async with self.db.read(organization_id=organization_id) as conn:
            found = await till_repository.get_receipts(conn, organization_id, [receipt_id])
        return found[0]

    async def write(self, plan: CheckoutPlan, reservation_id: str, scope: Scope) -> Receipt:
        est = plan.establishment_id
        async with self.db.write(organization_id=scope.organization_id) as conn:
            written = await till_repository.write_checkout(
                conn, plan, reservation_id, bool(plan.product_lines)
            )
            receipt = written.receipt
            await record_event(
                conn,
                outbox,
                RECEIPT_CREATED,
                events_pb2.ReceiptCreated(receipt=receipt_to_proto(receipt)),
                scope,
                establishment_id=est,
            )
            for deposit in written.deposits:
                # The deposit's own establishment: the client record that shows it (R17).
                await record_event(
                    conn,
                    outbox,
                    DEPOSIT_APPLIED,
                    events_pb2.DepositApplied(deposit=deposit_to_proto(deposit)),
                    scope,
                    establishment_id=deposit.establishment_id,
                )
            for card, amount in written.gift_cards:
                await record_event(
                    conn,
                    outbox,
                    GIFT_CARD_REDEEMED,
                    events_pb2.GiftCardRedeemed(
                        gift_card=gift_card_to_proto(card),
                        amount=format_amount(amount),
                        receipt_id=receipt.id,
                        establishment_id=est,
                    ),
                    scope,
                    establishment_id=est,
                )
            for subscription in written.subscriptions:
                await record_event(
                    conn,
                    outbox,
                    SUBSCRIPTION_USED,
                    events_pb2.SubscriptionUsed(
                        subscription=subscription_to_proto(subscription), receipt_id=receipt.id
                    ),
                    scope,
                    establishment_id=est,
                )
        self.wake()
        return receipt

    async def fence(
        self, organization_id: str, establishment_id: str, key: str, reservation_id: str
    ) -> bool:
        async with self.db.write() as conn:
            return await till_repository.move_attempt(
                conn,
                organization_id,
                establishment_id,
                key,
                reservation_id,
                AttemptState.PENDING,
                AttemptState.RELEASING,
            )

    async def failed(
        self, organization_id: str, establishment_id: str, key: str, reservation_id: str
    ) -> bool:
        async with self.db.write() as conn:
            return await till_repository.move_attempt(
                conn,
                organization_id,
                establishment_id,
                key,
                reservation_id,
                AttemptState.RELEASING,
                AttemptState.FAILED,
            )
