"""gRPC API of the shared catalogue: protobuf in, domain calls, protobuf out.

Writes act on the session establishment of the signed scope (R07); the one exception is
SetProductPrice, which may name another establishment with MANAGE_OTHER_PRODUCTS (R05).
Each write records its event in the same transaction and wakes the relay after commit.
"""

from __future__ import annotations

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from salon.catalog.v1 import catalog_pb2, catalog_pb2_grpc, events_pb2
from services.catalog.domain import model
from services.catalog.store import repository
from services.catalog.store.tables import known_establishments, outbox
from services.common import access, tenancy_replica
from services.common.db import utcnow
from services.common.events import EventType
from services.common.money import format_amount
from services.common.outbox import record_event
from services.common.runtime import ServiceContext
from services.common.scope import Right, Scope, current_scope

SERVICE_CREATED = EventType("catalog", "service", "created")
SERVICE_UPDATED = EventType("catalog", "service", "updated")
SERVICE_DELETED = EventType("catalog", "service", "deleted")
SERVICE_RESTORED = EventType("catalog", "service", "restored")
PRODUCT_CREATED = EventType("catalog", "product", "created")
PRODUCT_PRICE_CHANGED = EventType("catalog", "product", "price_changed")
MENU_CREATED = EventType("catalog", "menu", "created")
MENU_DELETED = EventType("catalog", "menu", "deleted")


def _ts(value: object) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)  # type: ignore[arg-type]
    return ts


def service_to_proto(service: model.Service) -> catalog_pb2.Service:
    values = service.values
    assert values.price is not None and values.duration_minutes is not None
    msg = catalog_pb2.Service(
        id=service.id,
        name=service.name,
        category=service.category,
        establishment_id=service.establishment_id,
        price=format_amount(values.price),
        duration_minutes=values.duration_minutes,
        description=values.description or "",
        bookable_online=bool(values.bookable_online),
        customized_fields=service.customized_fields,
    )
    if service.deleted_at is not None:
        msg.deleted_at.CopyFrom(_ts(service.deleted_at))
    return msg


def product_to_proto(product: model.Product) -> catalog_pb2.Product:
    return catalog_pb2.Product(
        id=product.id,
        name=product.name,
        brand=product.brand,
        barcode=product.barcode or "",
        establishment_id=product.establishment_id,
        price=format_amount(product.price),
        price_customized=product.price_customized,
    )


def menu_to_proto(menu: model.Menu) -> catalog_pb2.Menu:
    return catalog_pb2.Menu(
        id=menu.id,
        name=menu.name,
        price=format_amount(menu.price),
        service_ids=menu.service_ids,
        establishment_id=menu.establishment_id,
    )


async def _session_establishment(session: AsyncConnection, scope: Scope) -> str:
    """The session establishment, remembered as known to this service (writes)."""
    return await access.target_establishment(session, known_establishments, scope, "", None)


async def _read_establishment(
    session: AsyncConnection, scope: Scope, requested: str, right: Right | None
) -> str:
    """Whose values a read shows: the session's own needs no look-up (and no write in a
    read transaction); another must be known in the organization (and may need `right`)."""
    if not requested or requested == scope.establishment_id:
        return scope.establishment_id
    return await access.target_establishment(session, known_establishments, scope, requested, right)


class CatalogServicer(catalog_pb2_grpc.CatalogServiceServicer):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # -- services (R11, R12, B05, B10) ----------------------------------------------------

    async def CreateService(
        self, request: catalog_pb2.CreateServiceRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.ServiceChange:
        scope = current_scope()
        org = scope.organization_id
        new = model.check_new_service(
            request.name,
            request.category,
            request.price,
            request.duration_minutes,
            request.description,
            request.bookable_online,
        )
        async with self.ctx.db.write() as session:
            await repository.lock_services(session, org)
            here = await _session_establishment(session, scope)
            everywhere = list(
                dict.fromkeys(
                    [
                        *await tenancy_replica.establishments_of(
                            session, known_establishments, org
                        ),
                        here,
                    ]
                )
            )
            service_id = await repository.create_service(session, org, new, everywhere)
            [service] = await repository.get_services(session, org, here, [service_id])
            message = service_to_proto(service)
            await record_event(
                session,
                outbox,
                SERVICE_CREATED,
                events_pb2.ServiceCreated(service=message, establishment_ids=everywhere),
                scope,
                establishment_id=None,
            )
        self.ctx.wake_relay()
        return catalog_pb2.ServiceChange(service=message, establishment_ids=everywhere)

    async def UpdateService(
        self, request: catalog_pb2.UpdateServiceRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.ServiceChange:
        scope = current_scope()
        # Only the fields present change (proto3 optional): the others keep their value.
        overrides = model.check_overrides(
            request.price if request.HasField("price") else None,
            request.duration_minutes if request.HasField("duration_minutes") else None,
            request.description if request.HasField("description") else None,
            request.bookable_online if request.HasField("bookable_online") else None,
        )
        async with self.ctx.db.write() as session:
            here = await _session_establishment(session, scope)
            service, changed = await repository.update_settings(
                session, scope.organization_id, here, request.id, overrides
            )
            message = service_to_proto(service)
            if changed:
                await record_event(
                    session,
                    outbox,
                    SERVICE_UPDATED,
                    events_pb2.ServiceUpdated(service=message, changed_fields=changed),
                    scope,
                    establishment_id=here,
                )
        if changed:
            self.ctx.wake_relay()
        return catalog_pb2.ServiceChange(service=message, establishment_ids=[here])

    async def ResetServiceSettings(
        self,
        request: catalog_pb2.ResetServiceSettingsRequest,
        context: grpc.aio.ServicerContext,
    ) -> catalog_pb2.ServiceChange:
        scope = current_scope()
        names = model.check_reset_fields(list(request.fields))
        async with self.ctx.db.write() as session:
            here = await _session_establishment(session, scope)
            service, cleared = await repository.reset_settings(
                session, scope.organization_id, here, request.id, names
            )
            message = service_to_proto(service)
            if cleared:
                await record_event(
                    session,
                    outbox,
                    SERVICE_UPDATED,
                    events_pb2.ServiceUpdated(service=message, changed_fields=cleared),
                    scope,
                    establishment_id=here,
                )
        if cleared:
            self.ctx.wake_relay()
        return catalog_pb2.ServiceChange(service=message, establishment_ids=[here])

    async def DeleteService(
        self, request: catalog_pb2.DeleteServiceRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.DeleteServiceResponse:
        scope = current_scope()
        org = scope.organization_id
        model.check_may_delete_services(scope.role)
        async with self.ctx.db.write() as session:
            await repository.lock_live_service(session, org, request.id)
            where = await repository.establishments_with(session, org, request.id)
            upcoming = await repository.future_appointments(session, org, request.id)
            if model.needs_confirmation(upcoming, request.confirm):
                return catalog_pb2.DeleteServiceResponse(
                    establishment_ids=where, future_appointments=upcoming
                )
            await repository.mark_deleted(session, org, request.id, utcnow())
            await record_event(
                session,
                outbox,
                SERVICE_DELETED,
                events_pb2.ServiceDeleted(service_id=request.id, establishment_ids=where),
                scope,
                establishment_id=None,
            )
        self.ctx.wake_relay()
        return catalog_pb2.DeleteServiceResponse(
            deleted_service_id=request.id, establishment_ids=where, future_appointments=upcoming
        )

    async def RestoreService(
        self, request: catalog_pb2.RestoreServiceRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.ServiceChange:
        scope = current_scope()
        org = scope.organization_id
        model.check_may_delete_services(scope.role)
        async with self.ctx.db.write() as session:
            deleted_at = await repository.deleted_at(session, org, request.id)
            model.check_restore(deleted_at, utcnow())
            await repository.mark_restored(session, org, request.id)
            here = await _session_establishment(session, scope)
            where = await repository.establishments_with(session, org, request.id)
            [service] = await repository.get_services(session, org, here, [request.id])
            await record_event(
                session,
                outbox,
                SERVICE_RESTORED,
                events_pb2.ServiceRestored(service_id=request.id, establishment_ids=where),
                scope,
                establishment_id=None,
            )
        self.ctx.wake_relay()
        return catalog_pb2.ServiceChange(service=service_to_proto(service), establishment_ids=where)

    async def GetServices(
        self, request: catalog_pb2.GetServicesRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.GetServicesResponse:
        scope = current_scope()
        ids = model.check_ids(list(request.ids))
        async with self.ctx.db.read() as session:
            est = await _read_establishment(session, scope, request.establishment_id, None)
            found = await repository.get_services(
                session,
                scope.organization_id,
                est,
                ids,
                include_deleted=request.include_deleted,
            )
        return catalog_pb2.GetServicesResponse(services=[service_to_proto(s) for s in found])

    async def ListServices(
        self, request: catalog_pb2.ListServicesRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.ListServicesResponse:
        scope = current_scope()
        async with self.ctx.db.read() as session:
            est = await _read_establishment(session, scope, request.establishment_id, None)
            found = await repository.list_services(
                session,
                scope.organization_id,
                est,
                bookable_online_only=request.bookable_online_only,
            )
        return catalog_pb2.ListServicesResponse(services=[service_to_proto(s) for s in found])

    # -- products (R05, R13) --------------------------------------------------------------

    async def CreateProduct(
        self, request: catalog_pb2.CreateProductRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.Product:
        scope = current_scope()
        new = model.check_new_product(request.name, request.brand, request.barcode, request.price)
        try:
            async with self.ctx.db.write() as session:
                here = await _session_establishment(session, scope)
                product = await repository.create_product(session, scope.organization_id, here, new)
                message = product_to_proto(product)
                await record_event(
                    session,
                    outbox,
                    PRODUCT_CREATED,
                    events_pb2.ProductCreated(product=message),
                    scope,
                    establishment_id=None,
                )
        except IntegrityError as exc:
            # Two creates with one barcode at once: the unique constraint decides.
            if new.barcode is not None and "barcode" in str(exc.orig):
                raise repository.barcode_conflict() from exc
            raise
        self.ctx.wake_relay()
        return message

    async def SetProductPrice(
        self, request: catalog_pb2.SetProductPriceRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.Product:
        scope = current_scope()
        price = model.price(request.price)
        async with self.ctx.db.write() as session:
            est = await access.target_establishment(
                session,
                known_establishments,
                scope,
                request.establishment_id,
                Right.MANAGE_OTHER_PRODUCTS,
            )
            product, changed = await repository.set_product_price(
                session, scope.organization_id, est, request.product_id, price
            )
            message = product_to_proto(product)
            if changed:
                await record_event(
                    session,
                    outbox,
                    PRODUCT_PRICE_CHANGED,
                    events_pb2.ProductPriceChanged(product=message),
                    scope,
                    establishment_id=est,
                )
        if changed:
            self.ctx.wake_relay()
        return message

    async def GetProducts(
        self, request: catalog_pb2.GetProductsRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.GetProductsResponse:
        scope = current_scope()
        ids = model.check_ids(list(request.ids))
        async with self.ctx.db.read() as session:
            est = await _read_establishment(
                session, scope, request.establishment_id, Right.MANAGE_OTHER_PRODUCTS
            )
            found = await repository.get_products(session, scope.organization_id, est, ids)
        return catalog_pb2.GetProductsResponse(products=[product_to_proto(p) for p in found])

    async def ListProducts(
        self, request: catalog_pb2.ListProductsRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.ListProductsResponse:
        scope = current_scope()
        async with self.ctx.db.read() as session:
            est = await _read_establishment(
                session, scope, request.establishment_id, Right.MANAGE_OTHER_PRODUCTS
            )
            found = await repository.list_products(session, scope.organization_id, est)
        return catalog_pb2.ListProductsResponse(products=[product_to_proto(p) for p in found])

    # -- menus (R25) ----------------------------------------------------------------------

    async def CreateMenu(
        self, request: catalog_pb2.CreateMenuRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.Menu:
        scope = current_scope()
        new = model.check_new_menu(request.name, request.price, list(request.service_ids))
        async with self.ctx.db.write() as session:
            here = await _session_establishment(session, scope)
            menu = await repository.create_menu(session, scope.organization_id, here, new)
            message = menu_to_proto(menu)
            await record_event(
                session,
                outbox,
                MENU_CREATED,
                events_pb2.MenuCreated(menu=message),
                scope,
                establishment_id=here,
            )
        self.ctx.wake_relay()
        return message

    async def DeleteMenu(
        self, request: catalog_pb2.DeleteMenuRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.DeleteMenuResponse:
        scope = current_scope()
        async with self.ctx.db.write() as session:
            here = await _session_establishment(session, scope)
            await repository.delete_menu(session, scope.organization_id, here, request.id)
            await record_event(
                session,
                outbox,
                MENU_DELETED,
                events_pb2.MenuDeleted(menu_id=request.id),
                scope,
                establishment_id=here,
            )
        self.ctx.wake_relay()
        return catalog_pb2.DeleteMenuResponse(deleted_menu_id=request.id)

    async def ListMenus(
        self, request: catalog_pb2.ListMenusRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.ListMenusResponse:
        scope = current_scope()
        async with self.ctx.db.read() as session:
            found = await repository.list_menus(
                session, scope.organization_id, scope.establishment_id
            )
        return catalog_pb2.ListMenusResponse(menus=[menu_to_proto(m) for m in found])
