"""The payments service: the till (deposits for now)."""

from __future__ import annotations

from pathlib import Path

import grpc

from salon.payments.v1 import payments_pb2, payments_pb2_grpc
from services.common.runtime import ServiceContext, ServiceSpec
from services.payments.api.servicer import PaymentsServicer
from services.payments.store.tables import metadata, outbox, processed_events


def register(server: grpc.aio.Server, ctx: ServiceContext) -> None:
    payments_pb2_grpc.add_PaymentsServiceServicer_to_server(PaymentsServicer(ctx), server)


SPEC = ServiceSpec(
    name="payments",
    grpc_service_names=[payments_pb2.DESCRIPTOR.services_by_name["PaymentsService"].full_name],
    metadata=metadata,
    migrations=Path(__file__).parent / "store" / "migrations",
    outbox=outbox,
    processed=processed_events,
    register=register,
    # The public booking page (R16) and what it needs, without a signed-in user.
    public_methods=frozenset({"RecordDeposit", "GetDepositsByAppointments"}),
)
