"""The catalog service: the shared catalogue with per-establishment settings."""

from __future__ import annotations

from pathlib import Path

import grpc

from salon.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from services.catalog.api.website import WebsiteCatalogServicer
from services.catalog.events.consumers import consumers
from services.catalog.events.privacy import privacy_consumers
from services.catalog.store.tables import metadata, outbox, processed_events
from services.common.consumer import EventConsumer
from services.common.runtime import ServiceContext, ServiceSpec


def register(server: grpc.aio.Server, ctx: ServiceContext) -> None:
    catalog_pb2_grpc.add_CatalogServiceServicer_to_server(WebsiteCatalogServicer(ctx), server)


def all_consumers(ctx: ServiceContext) -> list[EventConsumer]:
    return [*consumers(ctx), *privacy_consumers(ctx)]


SPEC = ServiceSpec(
    name="catalog",
    grpc_service_names=[catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"].full_name],
    metadata=metadata,
    migrations=Path(__file__).parent / "store" / "migrations",
    outbox=outbox,
    processed=processed_events,
    register=register,
    # The public booking page (R16) and mini website (R29), without a signed-in user.
    public_methods=frozenset(
        {"ListServices", "GetServices", "PublicWebsiteProfile", "PublicWebshop"}
    ),
    consumers=all_consumers,
)
