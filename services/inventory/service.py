"""The inventory service: stock per establishment."""

from __future__ import annotations

from pathlib import Path

import grpc

from salon.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from services.common.consumer import EventConsumer
from services.common.runtime import ServiceContext, ServiceSpec
from services.inventory.api.privacy import PrivacyInventoryServicer
from services.inventory.events.consumers import consumers
from services.inventory.events.privacy import privacy_consumers
from services.inventory.store.tables import metadata, outbox, processed_events


def register(server: grpc.aio.Server, ctx: ServiceContext) -> None:
    inventory_pb2_grpc.add_InventoryServiceServicer_to_server(PrivacyInventoryServicer(ctx), server)


def all_consumers(ctx: ServiceContext) -> list[EventConsumer]:
    return [*consumers(ctx), *privacy_consumers(ctx)]


SPEC = ServiceSpec(
    name="inventory",
    grpc_service_names=[inventory_pb2.DESCRIPTOR.services_by_name["InventoryService"].full_name],
    metadata=metadata,
    migrations=Path(__file__).parent / "store" / "migrations",
    outbox=outbox,
    processed=processed_events,
    register=register,
    consumers=all_consumers,
)
