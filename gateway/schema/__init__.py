"""The GraphQL schema, assembled from one folder per domain."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.extensions.base_extension import SchemaExtension
from strawberry.extensions.disable_introspection import DisableIntrospection
from strawberry.schema.config import StrawberryConfig

from gateway.errors import should_mask
from gateway.schema.base import MONEY_SCALAR, BackendCalls, Money
from gateway.schema.booking.mails import MailMutation, MailQuery
from gateway.schema.booking.mutations import BookingMutation
from gateway.schema.booking.public import PublicMutation, PublicQuery
from gateway.schema.booking.queries import BookingQuery
from gateway.schema.catalog.mutations import CatalogMutation
from gateway.schema.catalog.queries import CatalogQuery
from gateway.schema.clients.mutations import ClientsMutation
from gateway.schema.clients.queries import ClientsQuery
from gateway.schema.inventory.mutations import InventoryMutation
from gateway.schema.inventory.queries import InventoryQuery
from gateway.schema.payments.mutations import PaymentsMutation
from gateway.schema.payments.queries import PaymentsQuery
from gateway.schema.payments.reports import ReportsQuery
from gateway.schema.tenancy.mutations import TenancyMutation
from gateway.schema.tenancy.queries import TenancyQuery


@strawberry.type
class Query(
    TenancyQuery,
    ClientsQuery,
    CatalogQuery,
    InventoryQuery,
    BookingQuery,
    PublicQuery,
    MailQuery,
    PaymentsQuery,
    ReportsQuery,
):
    pass


@strawberry.type
class Mutation(
    TenancyMutation,
    ClientsMutation,
    CatalogMutation,
    InventoryMutation,
    BookingMutation,
    PublicMutation,
    MailMutation,
    PaymentsMutation,
):
    pass


def build_schema(*, production: bool = False) -> strawberry.Schema:
    # Factories: a fresh extension per operation (the caches are module-level, shared).
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: MaskErrors(should_mask_error=should_mask),
        BackendCalls,
        lambda: QueryDepthLimiter(max_depth=12),
        lambda: MaxAliasesLimiter(max_alias_count=30),
        lambda: MaxTokensLimiter(max_token_count=4000),
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
    ]
    if production:
        extensions.append(DisableIntrospection)
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True, scalar_map={Money: MONEY_SCALAR}),
    )


schema = build_schema()
