"""Catalogue mutations. Every payload names the establishments a change applied to (R07)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.schema.base import AUTHENTICATED, UserError, establishment_for, user_errors
from gateway.schema.catalog.inputs import (
    CreateMenuInput,
    CreateProductInput,
    CreateServiceInput,
    DeleteMenuInput,
    DeleteServiceInput,
    ResetServiceSettingsInput,
    RestoreServiceInput,
    SetProductPriceInput,
    UpdateServiceInput,
)
from gateway.schema.catalog.types import (
    SETTING_NAMES,
    Menu,
    Product,
    Service,
)
from gateway.schema.tenancy.types import Establishment, load_establishments
from salon.catalog.v1 import catalog_pb2
from services.common.errors import DomainError, ErrorCode, invalid
from services.common.scope import Right

GRAPHQL_TO_SETTING = {v: k for k, v in SETTING_NAMES.items()}


@strawberry.type
class CreateServicePayload:
    service: Service | None = None
    establishments: list[Establishment] = strawberry.field(
        default_factory=list, description="Where it now exists: all (R11)."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UpdateServicePayload:
    service: Service | None = None
    establishments: list[Establishment] = strawberry.field(
        default_factory=list, description="The one changed: the session establishment (R07)."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ResetServiceSettingsPayload:
    service: Service | None = None
    establishments: list[Establishment] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteServicePayload:
    deleted_service_id: strawberry.ID | None = None
    establishments: list[Establishment] = strawberry.field(
        default_factory=list, description="Every establishment the service is deleted from."
    )
    future_appointments: int = 0
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RestoreServicePayload:
    service: Service | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CreateProductPayload:
    product: Product | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SetProductPricePayload:
    product: Product | None = None
    establishments: list[Establishment] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CreateMenuPayload:
    menu: Menu | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteMenuPayload:
    deleted_menu_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CatalogMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def create_service(
        self, info: Info[Context, None], input: CreateServiceInput
    ) -> CreateServicePayload:
        ctx = info.context
        request = catalog_pb2.CreateServiceRequest(
            name=input.name,
            category=input.category or "",
            price=input.price,
            duration_minutes=input.duration_minutes,
            description=input.description or "",
            bookable_online=True if input.bookable_online is None else input.bookable_online,
        )
        try:
            change = await ctx.call("catalog", ctx.state.backends.catalog.CreateService, request)
        except DomainError as exc:
            return CreateServicePayload(errors=user_errors(exc))
        return CreateServicePayload(
            service=Service.of(change.service),
            establishments=await load_establishments(info, list(change.establishment_ids)),
        )

    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def update_service(
        self, info: Info[Context, None], input: UpdateServiceInput
    ) -> UpdateServicePayload:
        ctx = info.context
        request = catalog_pb2.UpdateServiceRequest(id=str(input.id))
        if input.price is not None:
            request.price = input.price
        if input.duration_minutes is not None:
            request.duration_minutes = input.duration_minutes
        if input.description is not None:
            request.description = input.description
        if input.bookable_online is not None:
            request.bookable_online = input.bookable_online
        try:
            change = await ctx.call("catalog", ctx.state.backends.catalog.UpdateService, request)
        except DomainError as exc:
            return UpdateServicePayload(errors=user_errors(exc))
        return UpdateServicePayload(
            service=Service.of(change.service),
            establishments=await load_establishments(info, list(change.establishment_ids)),
        )

    @strawberry.mutation(
        permission_classes=AUTHENTICATED,
        description="B10: the session establishment takes the organization's values again.",
    )
    async def reset_service_settings(
        self, info: Info[Context, None], input: ResetServiceSettingsInput
    ) -> ResetServiceSettingsPayload:
        ctx = info.context
        try:
            fields = []
            for name in input.fields or []:
                if name not in GRAPHQL_TO_SETTING:
                    raise invalid("fields", f"{name} is not a per-establishment setting")
                fields.append(GRAPHQL_TO_SETTING[name])
            change = await ctx.call(
                "catalog",
                ctx.state.backends.catalog.ResetServiceSettings,
                catalog_pb2.ResetServiceSettingsRequest(id=str(input.id), fields=fields),
            )
        except DomainError as exc:
            return ResetServiceSettingsPayload(errors=user_errors(exc))
        return ResetServiceSettingsPayload(
            service=Service.of(change.service),
            establishments=await load_establishments(info, list(change.establishment_ids)),
        )

    @strawberry.mutation(
        permission_classes=AUTHENTICATED,
        description="B05: deletes in every establishment; with future appointments it needs "
        "confirm: true. Restorable for 30 days.",
    )
    async def delete_service(
        self, info: Info[Context, None], input: DeleteServiceInput
    ) -> DeleteServicePayload:
        ctx = info.context
        try:
            reply = await ctx.call(
                "catalog",
                ctx.state.backends.catalog.DeleteService,
                catalog_pb2.DeleteServiceRequest(id=str(input.id), confirm=bool(input.confirm)),
            )
        except DomainError as exc:
            return DeleteServicePayload(errors=user_errors(exc))
        impact = await load_establishments(info, list(reply.establishment_ids))
        if not reply.deleted_service_id:  # the impact alone: it needs confirming (B05)
            return DeleteServicePayload(
                establishments=impact,
                future_appointments=reply.future_appointments,
                errors=[
                    UserError(
                        field="confirm",
                        code=ErrorCode.CONFIRMATION_REQUIRED,
                        message=f"the service has {reply.future_appointments} future "
                        "appointment(s); repeat with confirm: true to delete it anyway",
                    )
                ],
            )
        return DeleteServicePayload(
            deleted_service_id=strawberry.ID(reply.deleted_service_id),
            establishments=impact,
            future_appointments=reply.future_appointments,
        )

    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def restore_service(
        self, info: Info[Context, None], input: RestoreServiceInput
    ) -> RestoreServicePayload:
        ctx = info.context
        try:
            change = await ctx.call(
                "catalog",
                ctx.state.backends.catalog.RestoreService,
                catalog_pb2.RestoreServiceRequest(id=str(input.id)),
            )
        except DomainError as exc:
            return RestoreServicePayload(errors=user_errors(exc))
        return RestoreServicePayload(service=Service.of(change.service))

    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def create_product(
        self, info: Info[Context, None], input: CreateProductInput
    ) -> CreateProductPayload:
        ctx = info.context
        request = catalog_pb2.CreateProductRequest(
            name=input.name,
            brand=input.brand or "",
            barcode=input.barcode or "",
            price=input.price,
        )
        try:
            product = await ctx.call("catalog", ctx.state.backends.catalog.CreateProduct, request)
        except DomainError as exc:
            return CreateProductPayload(errors=user_errors(exc))
        return CreateProductPayload(product=Product.of(product))

    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def set_product_price(
        self, info: Info[Context, None], input: SetProductPriceInput
    ) -> SetProductPricePayload:
        ctx = info.context
        try:
            est = await establishment_for(info, input.establishment_id, Right.MANAGE_OTHER_PRODUCTS)
            product = await ctx.call(
                "catalog",
                ctx.state.backends.catalog.SetProductPrice,
                catalog_pb2.SetProductPriceRequest(
                    product_id=str(input.product_id), price=input.price, establishment_id=est
                ),
            )
        except DomainError as exc:
            return SetProductPricePayload(errors=user_errors(exc))
        return SetProductPricePayload(
            product=Product.of(product),
            establishments=await load_establishments(info, [product.establishment_id]),
        )

    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def create_menu(
        self, info: Info[Context, None], input: CreateMenuInput
    ) -> CreateMenuPayload:
        ctx = info.context
        try:
            menu = await ctx.call(
                "catalog",
                ctx.state.backends.catalog.CreateMenu,
                catalog_pb2.CreateMenuRequest(
                    name=input.name,
                    price=input.price,
                    service_ids=[str(i) for i in input.service_ids],
                ),
            )
        except DomainError as exc:
            return CreateMenuPayload(errors=user_errors(exc))
        return CreateMenuPayload(menu=Menu.of(menu))

    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def delete_menu(
        self, info: Info[Context, None], input: DeleteMenuInput
    ) -> DeleteMenuPayload:
        ctx = info.context
        try:
            reply = await ctx.call(
                "catalog",
                ctx.state.backends.catalog.DeleteMenu,
                catalog_pb2.DeleteMenuRequest(id=str(input.id)),
            )
        except DomainError as exc:
            return DeleteMenuPayload(errors=user_errors(exc))
        return DeleteMenuPayload(deleted_menu_id=strawberry.ID(reply.deleted_menu_id))
