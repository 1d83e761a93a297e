"""The GraphQL schema, assembled from one folder per domain."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from strawberry.extensions import MaskErrors, ParserCache, ValidationCache
from strawberry.extensions.base_extension import SchemaExtension
from strawberry.extensions.disable_introspection import DisableIntrospection
from strawberry.schema.config import StrawberryConfig

from gateway.errors import should_mask
from gateway.protection import Limits, schema_extensions
from gateway.schema.audit.queries import AuditQuery
from gateway.schema.base import MONEY_SCALAR, BackendCalls, Money
from gateway.schema.booking.mails import MailMutation, MailQuery
from gateway.schema.booking.mutations import BookingMutation
from gateway.schema.booking.public import PublicMutation, PublicQuery
from gateway.schema.booking.queries import BookingQuery
from gateway.schema.catalog.mutations import CatalogMutation
from gateway.schema.catalog.queries import CatalogQuery
from gateway.schema.catalog.website import WebsiteMutation, WebsiteQuery
from gateway.schema.clients.forms import FormsMutation, FormsQuery
from gateway.schema.clients.merge import MergeMutation, MergeQuery
from gateway.schema.clients.mutations import ClientsMutation
from gateway.schema.clients.privacy import PrivacyMutation, PrivacyQuery
from gateway.schema.clients.queries import ClientsQuery
from gateway.schema.events.subscriptions import EventsSubscription
from gateway.schema.inventory.mutations import InventoryMutation
from gateway.schema.inventory.queries import InventoryQuery
from gateway.schema.marketing.mutations import MarketingMutation
from gateway.schema.marketing.queries import MarketingQuery
from gateway.schema.payments.mutations import PaymentsMutation
from gateway.schema.payments.queries import PaymentsQuery
from gateway.schema.payments.reports import ReportsQuery
from gateway.schema.tenancy.mutations import TenancyMutation
from gateway.schema.tenancy.queries import TenancyQuery
from gateway.schema.webhooks.mutations import WebhooksMutation
from gateway.schema.webhooks.queries import WebhooksQuery


@strawberry.type
class Query(
    TenancyQuery,
    ClientsQuery,
    PrivacyQuery,
    MergeQuery,
    CatalogQuery,
    WebsiteQuery,
    FormsQuery,
    InventoryQuery,
    BookingQuery,
    PublicQuery,
    MailQuery,
    PaymentsQuery,
    ReportsQuery,
    AuditQuery,
    WebhooksQuery,
    MarketingQuery,
):
    pass


@strawberry.type
class Mutation(
    TenancyMutation,
    ClientsMutation,
    PrivacyMutation,
    MergeMutation,
    CatalogMutation,
    WebsiteMutation,
    FormsMutation,
    InventoryMutation,
    BookingMutation,
    PublicMutation,
    MailMutation,
    PaymentsMutation,
    WebhooksMutation,
    MarketingMutation,
):
    pass


@strawberry.type
class Subscription(EventsSubscription):
    pass


def build_schema(*, production: bool = False, limits: Limits | None = None) -> strawberry.Schema:
    # Factories: a fresh extension per operation (the caches are module-level, shared).
    # The limits (depth, aliases, tokens, `first`, cost) are gateway/protection's.
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: MaskErrors(should_mask_error=should_mask),
        BackendCalls,
        *schema_extensions(limits or Limits(), production=production),
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
    ]
    if production:
        extensions.append(DisableIntrospection)
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True, scalar_map={Money: MONEY_SCALAR}),
    )


schema = build_schema()
