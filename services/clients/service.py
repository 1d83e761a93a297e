"""The client file service: what the process serves and owns."""

from __future__ import annotations

from pathlib import Path

import grpc

from salon.clients.v1 import clients_pb2, clients_pb2_grpc
from services.clients.api.merge import MergeClientsServicer
from services.clients.events.consumers import consumers
from services.clients.store.tables import metadata, outbox, processed_events
from services.common.runtime import ServiceContext, ServiceSpec


def register(server: grpc.aio.Server, ctx: ServiceContext) -> None:
    clients_pb2_grpc.add_ClientsServiceServicer_to_server(MergeClientsServicer(ctx), server)


SPEC = ServiceSpec(
    name="clients",
    grpc_service_names=[clients_pb2.DESCRIPTOR.services_by_name["ClientsService"].full_name],
    metadata=metadata,
    migrations=Path(__file__).parent / "store" / "migrations",
    outbox=outbox,
    processed=processed_events,
    register=register,
    # The public booking page (R16) and what it needs, without a signed-in user.
    public_methods=frozenset({"GetClients", "FindOrCreateClient"}),
    consumers=consumers,
)
