"""gRPC API of stock per establishment: protobuf in, domain calls, protobuf out."""

from __future__ import annotations

import hashlib
from datetime import datetime

import grpc
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.ext.asyncio import AsyncConnection

from salon.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from salon.inventory.v1 import events_pb2, inventory_pb2, inventory_pb2_grpc
from services.common import access, tenancy_replica
from services.common.errors import not_found
from services.common.events import EventType
from services.common.outbox import record_event
from services.common.runtime import ServiceContext
from services.common.scope import Right, Scope, current_scope
from services.inventory.domain import model
from services.inventory.store import repository
from services.inventory.store.tables import known_establishments, outbox

STOCK_ADJUSTED = EventType("inventory", "stock", "adjusted")
STOCK_TRANSFERRED = EventType("inventory", "stock", "transferred")
STOCK_RESERVED = EventType("inventory", "stock", "reserved")
STOCK_RELEASED = EventType("inventory", "stock", "released")


def _ts(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def reason_to_proto(reason: model.Reason) -> inventory_pb2.StockReason.ValueType:
    return inventory_pb2.StockReason.Value(f"STOCK_REASON_{reason.value}")


def reason_from_proto(value: int) -> model.Reason | None:
    """None for UNSPECIFIED and for a number this version does not know."""
    try:
        name = inventory_pb2.StockReason.Name(value)  # type: ignore[arg-type]
    except ValueError:
        return None
    return model.Reason.__members__.get(name.removeprefix("STOCK_REASON_"))


def level_to_proto(level: model.StockLevel) -> inventory_pb2.StockLevel:
    return inventory_pb2.StockLevel(
        product_id=level.product_id,
        establishment_id=level.establishment_id,
        quantity=level.quantity,
    )


def movement_to_proto(movement: model.StockMovement) -> inventory_pb2.StockMovement:
    return inventory_pb2.StockMovement(
        id=movement.id,
        product_id=movement.product_id,
        establishment_id=movement.establishment_id,
        delta=movement.delta,
        reason=reason_to_proto(movement.reason),
        user_id=movement.user_id or "",
        at=_ts(movement.at),
        transfer_id=movement.transfer_id or "",
        reservation_id=movement.reservation_id or "",
    )


def change_to_proto(change: model.StockChange) -> inventory_pb2.StockChange:
    return inventory_pb2.StockChange(
        level=level_to_proto(change.level), movement=movement_to_proto(change.movement)
    )


def transfer_to_proto(transfer: model.Transfer) -> inventory_pb2.TransferStockResponse:
    # `from` is a Python keyword: the generated constructor takes it through **kwargs.
    return inventory_pb2.TransferStockResponse(
        to=level_to_proto(transfer.received.level),
        transfer_id=transfer.id,
        **{"from": level_to_proto(transfer.sent.level)},
    )


def reservation_status_to_proto(
    status: model.ReservationStatus,
) -> inventory_pb2.ReservationStatus.ValueType:
    return inventory_pb2.ReservationStatus.Value(f"RESERVATION_STATUS_{status.value}")


def earlier_answer(
    stored: model.Reservation | None, lines: dict[str, int]
) -> inventory_pb2.ReserveStockResponse | None:
    """The answer to a ReserveStock whose id is taken already: the first answer again,
    with the status as it is now (a retry: nothing taken twice); RESERVATION_RELEASED or
    CONFLICT (other lines) per model.check_same_reservation. None: the id is new."""
    if stored is None:
        return None
    model.check_same_reservation(stored, lines)
    answer = inventory_pb2.ReserveStockResponse.FromString(stored.response or b"")
    answer.reservation_id = stored.id
    answer.status = reservation_status_to_proto(stored.status)
    return answer


def request_hash(method: str, normalized: Message) -> str:
    """What an idempotency key is bound to: the RPC and its request without the key, with
    the establishment resolved (an empty establishment_id and the session's own are the
    same request)."""
    digest = hashlib.sha256(method.encode())
    digest.update(b"\0")
    digest.update(normalized.SerializeToString(deterministic=True))
    return digest.hexdigest()


async def _readable_target(
    session: AsyncConnection, scope: Scope, requested: str, right: Right | None, field: str
) -> str:
    """access.target_establishment without its one write, so that it may run in a read
    transaction (an SQLite reader must not write): the session establishment is returned
    as is (known by construction; the write transactions remember it), any other one is
    checked: NOT_FOUND unless it is a known establishment of the organization (R01), then
    FORBIDDEN without the right (R05)."""
    if not requested or requested == scope.establishment_id:
        return scope.establishment_id
    return await access.target_establishment(
        session, known_establishments, scope, requested, right, field
    )


class InventoryServicer(inventory_pb2_grpc.InventoryServiceServicer):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    async def _check_product_exists(self, product_id: str) -> None:
        """The product list is the catalogue's (R13), shared by the organization: asked
        before any write transaction opens, so no lock is held across the call."""
        stub = catalog_pb2_grpc.CatalogServiceStub(self.ctx.channel("catalog"))
        reply = await self.ctx.call(
            "catalog", stub.GetProducts, catalog_pb2.GetProductsRequest(ids=[product_id])
        )
        if not any(p.id == product_id for p in reply.products):
            raise not_found("product", "productId")

    async def _check_products_exist(self, product_ids: list[str]) -> None:
        """Every product of a reservation, in one catalogue call (R13); the first unknown
        one is NOT_FOUND, its id as the field. Before the write transaction, as above."""
        stub = catalog_pb2_grpc.CatalogServiceStub(self.ctx.channel("catalog"))
        reply = await self.ctx.call(
            "catalog", stub.GetProducts, catalog_pb2.GetProductsRequest(ids=product_ids)
        )
        known = {p.id for p in reply.products}
        for product_id in product_ids:
            if product_id not in known:
                raise model.product_not_found(product_id)

    async def _precheck_target(
        self, scope: Scope, requested: str, right: Right | None, field: str
    ) -> None:
        """Another establishment is checked before the catalogue is asked, so an unknown,
        foreign or forbidden establishment answers as such whatever the product (the write
        transaction checks it again, cheaply, as it resolves the target)."""
        if requested and requested != scope.establishment_id:
            async with self.ctx.db.read() as session:
                await _readable_target(session, scope, requested, right, field)

    async def AdjustStock(
        self, request: inventory_pb2.AdjustStockRequest, context: grpc.aio.ServicerContext
    ) -> inventory_pb2.StockChange:
        scope = current_scope()
        product_id = model.check_product_id(request.product_id)
        reason = model.check_adjustment(reason_from_proto(request.reason), request.delta)
        key = model.check_idempotency_key(request.idempotency_key)
        # R05, checked here whatever the gateway did.
        await self._precheck_target(
            scope, request.establishment_id, Right.MANAGE_OTHER_PRODUCTS, "establishmentId"
        )
        await self._check_product_exists(product_id)
        async with self.ctx.db.write() as session:
            target = await access.target_establishment(
                session,
                known_establishments,
                scope,
                request.establishment_id,
                Right.MANAGE_OTHER_PRODUCTS,
            )
            if key is not None:
                normalized = inventory_pb2.AdjustStockRequest(
                    product_id=product_id,
                    delta=request.delta,
                    reason=reason_to_proto(reason),
                    establishment_id=target,
                )
                stored = await repository.claim_idempotency_key(
                    session,
                    scope.organization_id,
                    target,
                    key,
                    request_hash("AdjustStock", normalized),
                )
                if stored is not None:  # a retry: answered again, applied once
                    return inventory_pb2.StockChange.FromString(stored)
            # R20: booked in the target establishment only (a delivery to B, in B).
            change = await repository.change_stock(
                session,
                scope.organization_id,
                target,
                product_id,
                request.delta,
                reason,
                scope.user_id or None,
            )
            message = change_to_proto(change)
            if key is not None:
                await repository.store_idempotent_response(
                    session, scope.organization_id, target, key, message.SerializeToString()
                )
            await record_event(
                session,
                outbox,
                STOCK_ADJUSTED,
                events_pb2.StockAdjusted(movement=message.movement, level=message.level),
                scope,
                establishment_id=target,
            )
        self.ctx.wake_relay()
        return message

    async def TransferStock(
        self, request: inventory_pb2.TransferStockRequest, context: grpc.aio.ServicerContext
    ) -> inventory_pb2.TransferStockResponse:
        # No right is needed (B02): the transfer is the sending establishment's own act, and
        # the sender is always the session establishment. The receiver only has to be an
        # establishment of the same organization.
        scope = current_scope()
        product_id = model.check_product_id(request.product_id)
        model.check_transfer(scope.establishment_id, request.to_establishment_id, request.quantity)
        key = model.check_idempotency_key(request.idempotency_key)
        await self._precheck_target(scope, request.to_establishment_id, None, "toEstablishmentId")
        await self._check_product_exists(product_id)
        sender = scope.establishment_id
        async with self.ctx.db.write() as session:
            await tenancy_replica.remember_scope(session, known_establishments, scope)
            receiver = await access.target_establishment(
                session,
                known_establishments,
                scope,
                request.to_establishment_id,
                None,
                "toEstablishmentId",
            )
            if key is not None:
                normalized = inventory_pb2.TransferStockRequest(
                    product_id=product_id,
                    to_establishment_id=receiver,
                    quantity=request.quantity,
                )
                stored = await repository.claim_idempotency_key(
                    session,
                    scope.organization_id,
                    sender,
                    key,
                    request_hash("TransferStock", normalized),
                )
                if stored is not None:  # a retry: answered again, applied once
                    return inventory_pb2.TransferStockResponse.FromString(stored)
            transfer = await repository.transfer(
                session,
                scope.organization_id,
                sender,
                receiver,
                product_id,
                request.quantity,
                scope.user_id or None,
            )
            message = transfer_to_proto(transfer)
            if key is not None:
                await repository.store_idempotent_response(
                    session, scope.organization_id, sender, key, message.SerializeToString()
                )
            await record_event(
                session,
                outbox,
                STOCK_TRANSFERRED,
                events_pb2.StockTransferred(
                    transfer_id=transfer.id,
                    out=movement_to_proto(transfer.sent.movement),
                    **{"in": movement_to_proto(transfer.received.movement)},
                ),
                scope,
                establishment_id=sender,
            )
        self.ctx.wake_relay()
        return message

    async def GetStock(
        self, request: inventory_pb2.GetStockRequest, context: grpc.aio.ServicerContext
    ) -> inventory_pb2.GetStockResponse:
        # The batch read behind product lists: no catalogue call, an unknown product is 0.
        scope = current_scope()
        product_ids = model.check_product_ids(request.product_ids)
        async with self.ctx.db.read() as session:
            target = await _readable_target(
                session,
                scope,
                request.establishment_id,
                Right.MANAGE_OTHER_PRODUCTS,
                "establishmentId",
            )
            levels = await repository.get_levels(
                session, scope.organization_id, target, product_ids
            )
        return inventory_pb2.GetStockResponse(levels=[level_to_proto(lv) for lv in levels])

    async def ListMovements(
        self, request: inventory_pb2.ListMovementsRequest, context: grpc.aio.ServicerContext
    ) -> inventory_pb2.ListMovementsResponse:
        scope = current_scope()
        product_id = model.check_product_id(request.product_id)
        limit = model.check_movements_limit(request.limit)
        async with self.ctx.db.read() as session:
            target = await _readable_target(
                session,
                scope,
                request.establishment_id,
                Right.MANAGE_OTHER_PRODUCTS,
                "establishmentId",
            )
            movements = await repository.list_movements(
                session, scope.organization_id, target, product_id, limit
            )
        return inventory_pb2.ListMovementsResponse(
            movements=[movement_to_proto(m) for m in movements]
        )

    # -- the till's saga (R20, R28) -----------------------------------------------------

    async def ReserveStock(
        self, request: inventory_pb2.ReserveStockRequest, context: grpc.aio.ServicerContext
    ) -> inventory_pb2.ReserveStockResponse:
        """Every line out of the session establishment's stock, or none (OUT_OF_STOCK, the
        short product's id as the field). The same id again answers the first result
        without taking anything (other lines: CONFLICT); a released id is refused."""
        scope = current_scope()
        org = scope.organization_id
        reservation_id = model.check_reservation_id(request.reservation_id)
        lines = model.check_reservation_lines((ln.product_id, ln.quantity) for ln in request.lines)
        # A retry is answered without asking the catalogue (the write transaction decides
        # again, should it race the first attempt).
        async with self.ctx.db.read() as session:
            stored = await repository.get_reservation(
                session, org, scope.establishment_id, reservation_id
            )
        earlier = earlier_answer(stored, lines)
        if earlier is not None:
            return earlier
        await self._check_products_exist(list(lines))
        async with self.ctx.db.write() as session:
            # R20, R28: the session establishment, always.
            est = await access.target_establishment(session, known_establishments, scope, "", None)
            if not await repository.claim_reservation(session, org, est, reservation_id):
                stored = await repository.get_reservation(session, org, est, reservation_id)
                earlier = earlier_answer(stored, lines)
                assert earlier is not None  # the claim found the row
                return earlier
            changes = await repository.reserve(
                session, org, est, reservation_id, lines, scope.user_id or None
            )
            answer = inventory_pb2.ReserveStockResponse(
                reservation_id=reservation_id,
                status=reservation_status_to_proto(model.ReservationStatus.HELD),
                levels=[level_to_proto(c.level) for c in changes],
            )
            await repository.store_reservation_response(
                session, org, est, reservation_id, answer.SerializeToString()
            )
            await record_event(
                session,
                outbox,
                STOCK_RESERVED,
                events_pb2.StockReserved(
                    reservation_id=reservation_id,
                    movements=[movement_to_proto(c.movement) for c in changes],
                    levels=answer.levels,
                ),
                scope,
                establishment_id=est,
            )
        self.ctx.wake_relay()
        return answer

    async def ReleaseStock(
        self, request: inventory_pb2.ReleaseStockRequest, context: grpc.aio.ServicerContext
    ) -> inventory_pb2.ReleaseStockResponse:
        """The compensation of a failed checkout, in the session establishment: a HELD
        reservation's stock back (released), a released or unknown id left released (not
        released by this call), a committed one CONFLICT. Another organization's or
        establishment's reservation of the same id is never touched: here it is unknown."""
        scope = current_scope()
        reservation_id = model.check_reservation_id(request.reservation_id)
        async with self.ctx.db.write() as session:
            est = await access.target_establishment(session, known_establishments, scope, "", None)
            outcome = await repository.release(session, scope.organization_id, est, reservation_id)
            if outcome.released:
                await record_event(
                    session,
                    outbox,
                    STOCK_RELEASED,
                    events_pb2.StockReleased(
                        reservation_id=reservation_id,
                        levels=[level_to_proto(lv) for lv in outcome.levels],
                    ),
                    scope,
                    establishment_id=est,
                )
        if outcome.released:
            self.ctx.wake_relay()
        return inventory_pb2.ReleaseStockResponse(
            reservation_id=reservation_id,
            status=reservation_status_to_proto(outcome.status),
            released=outcome.released,
        )
