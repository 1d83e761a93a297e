"""One long-lived gRPC channel per backend service, created in the app's lifespan."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from graphql import GraphQLError
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.settings import BACKENDS, GatewaySettings
from salon.booking.v1 import booking_pb2_grpc
from salon.catalog.v1 import catalog_pb2_grpc
from salon.clients.v1 import clients_pb2_grpc, forms_pb2_grpc, marketing_pb2_grpc
from salon.inventory.v1 import inventory_pb2_grpc
from salon.payments.v1 import payments_pb2_grpc
from services.common import rpc

log = logging.getLogger("salon.gateway.grpc")

T = TypeVar("T")


class BackendUnavailable(GraphQLError):
    """A backend did not answer: the fields that need it fail, the rest resolves."""

    def __init__(self, service: str) -> None:
        super().__init__(
            f"the {service} service is unavailable, try again shortly",
            extensions={"code": "UNAVAILABLE", "service": service},
        )


class NotAvailableYet(GraphQLError):
    def __init__(self, service: str) -> None:
        super().__init__(
            f"this part of the {service} service is not available yet",
            extensions={"code": "UNIMPLEMENTED", "service": service},
        )


class Backends:
    def __init__(self, settings: GatewaySettings) -> None:
        self.deadline = settings.grpc_deadline_seconds
        self.addresses = {name: settings.backend_addr(name) for name in BACKENDS}
        self.channels = {name: rpc.channel(addr) for name, addr in self.addresses.items()}
        self.clients = clients_pb2_grpc.ClientsServiceStub(self.channels["clients"])
        # R29: the clients process serves forms as a service of its own.
        self.forms = forms_pb2_grpc.FormsServiceStub(self.channels["clients"])
        # R30: the clients service's campaigns (a second gRPC service on its channel).
        self.marketing = marketing_pb2_grpc.MarketingServiceStub(self.channels["clients"])
        self.catalog = catalog_pb2_grpc.CatalogServiceStub(self.channels["catalog"])
        self.inventory = inventory_pb2_grpc.InventoryServiceStub(self.channels["inventory"])
        self.booking = booking_pb2_grpc.BookingServiceStub(self.channels["booking"])
        self.payments = payments_pb2_grpc.PaymentsServiceStub(self.channels["payments"])

    async def close(self) -> None:
        for channel in self.channels.values():
            await channel.close()

    async def healthy(self, name: str, wait: float = 1.0) -> bool:
        stub = health_pb2_grpc.HealthStub(self.channels[name])
        try:
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=wait)
        except grpc.aio.AioRpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    async def call(
        self,
        service: str,
        method: Callable[..., Awaitable[T]],
        request: Any,
        metadata: tuple[tuple[str, bytes], ...],
    ) -> T:
        """One RPC with the signed scope and the deadline; a DomainError the service raised
        comes back as the same DomainError."""
        try:
            return await rpc.call(service, method, request, metadata, self.deadline)
        except rpc.PeerError as exc:
            if exc.unavailable:
                log.warning("%s unavailable: %s", service, exc)
                raise BackendUnavailable(service) from None
            if exc.code is grpc.StatusCode.UNIMPLEMENTED:
                raise NotAvailableYet(service) from None
            raise
