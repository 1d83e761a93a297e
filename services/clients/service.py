"""The client file service: what the process serves and owns."""

from __future__ import annotations

from pathlib import Path

import grpc

from salon.clients.v1 import (
    clients_pb2,
    clients_pb2_grpc,
    forms_pb2,
    forms_pb2_grpc,
    marketing_pb2,
    marketing_pb2_grpc,
)
from services.clients.api.forms import FormsServicer
from services.clients.api.marketing import MarketingServicer
from services.clients.api.merge import MergeClientsServicer
from services.clients.events.consumers import consumers
from services.clients.marketing.sender import marketing_workers
from services.clients.store.tables import metadata, outbox, processed_events
from services.common.runtime import ServiceContext, ServiceSpec


def register(server: grpc.aio.Server, ctx: ServiceContext) -> None:
    clients_pb2_grpc.add_ClientsServiceServicer_to_server(MergeClientsServicer(ctx), server)
    # R29: forms per establishment, a service of its own in this process.
    forms_pb2_grpc.add_FormsServiceServicer_to_server(FormsServicer(ctx), server)
    # R30: marketing campaigns, a service of its own beside the client file.
    marketing_pb2_grpc.add_MarketingServiceServicer_to_server(MarketingServicer(ctx), server)


SPEC = ServiceSpec(
    name="clients",
    grpc_service_names=[
        clients_pb2.DESCRIPTOR.services_by_name["ClientsService"].full_name,
        forms_pb2.DESCRIPTOR.services_by_name["FormsService"].full_name,
        marketing_pb2.DESCRIPTOR.services_by_name["MarketingService"].full_name,
    ],
    metadata=metadata,
    migrations=Path(__file__).parent / "store" / "migrations",
    outbox=outbox,
    processed=processed_events,
    register=register,
    # The public booking page (R16) and what it needs, without a signed-in user.
    public_methods=frozenset({"GetClients", "FindOrCreateClient"}),
    consumers=consumers,
    # Sends the campaigns' messages (R30).
    workers=marketing_workers,
)
