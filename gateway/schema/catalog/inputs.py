from __future__ import annotations

import strawberry

from gateway.schema.base import Money


@strawberry.input(
    description="Created in every establishment, existing and future (R11); the "
    "values are the organization's, each establishment may override them."
)
class CreateServiceInput:
    name: str
    category: str | None = None
    price: Money
    duration_minutes: int
    description: str | None = None
    bookable_online: bool | None = True


@strawberry.input(description="Changes the session establishment only (R07, R12).")
class UpdateServiceInput:
    id: strawberry.ID
    price: Money | None = None
    duration_minutes: int | None = None
    description: str | None = None
    bookable_online: bool | None = None


@strawberry.input(
    description="B10: back to the organization's values in the session "
    "establishment; fields: price, durationMinutes, description, bookableOnline "
    "(none: all)."
)
class ResetServiceSettingsInput:
    id: strawberry.ID
    fields: list[str] | None = None


@strawberry.input
class DeleteServiceInput:
    id: strawberry.ID
    confirm: bool | None = False


@strawberry.input
class RestoreServiceInput:
    id: strawberry.ID


@strawberry.input(
    description="Shared name, brand and barcode (R13); the price is the "
    "organization's, each establishment may set its own."
)
class CreateProductInput:
    name: str
    brand: str | None = None
    barcode: str | None = None
    price: Money


@strawberry.input(description="Another establishment needs MANAGE_OTHER_PRODUCTS (R05).")
class SetProductPriceInput:
    product_id: strawberry.ID
    price: Money
    establishment_id: strawberry.ID | None = None


@strawberry.input(description="In the session establishment (R25).")
class CreateMenuInput:
    name: str
    price: Money
    service_ids: list[strawberry.ID]


@strawberry.input
class DeleteMenuInput:
    id: strawberry.ID
