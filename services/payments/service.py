"""The payments service: the till (checkout, receipts, gift cards, subscriptions,
settlements) and deposits."""

from __future__ import annotations

from pathlib import Path

import grpc

from salon.payments.v1 import payments_pb2, payments_pb2_grpc
from services.common.consumer import EventConsumer
from services.common.runtime import ServiceContext, ServiceSpec
from services.payments.api.privacy import PrivacyPaymentsServicer
from services.payments.events.consumers import consumers
from services.payments.events.merge import merge_consumers
from services.payments.events.privacy import privacy_consumers
from services.payments.store.tables import metadata, outbox, processed_events
from services.payments.workers.recovery import recovery_workers


def register(server: grpc.aio.Server, ctx: ServiceContext) -> None:
    payments_pb2_grpc.add_PaymentsServiceServicer_to_server(PrivacyPaymentsServicer(ctx), server)


def all_consumers(ctx: ServiceContext) -> list[EventConsumer]:
    return [*consumers(ctx), *privacy_consumers(ctx), *merge_consumers(ctx)]


SPEC = ServiceSpec(
    name="payments",
    grpc_service_names=[payments_pb2.DESCRIPTOR.services_by_name["PaymentsService"].full_name],
    metadata=metadata,
    migrations=Path(__file__).parent / "store" / "migrations",
    outbox=outbox,
    processed=processed_events,
    register=register,
    # Establishments with their timezones (local days of receipts and reports), and the
    # appointments counted in reports.
    consumers=all_consumers,
    # Releases the stock of checkouts that never finished (domain/checkout.py).
    workers=recovery_workers,
    # The public booking page (R16) and what it needs, without a signed-in user; the
    # provider's webhook (through the gateway) to refresh a payment (R32).
    public_methods=frozenset(
        {"RecordDeposit", "GetDepositsByAppointments", "RefreshProviderPayment"}
    ),
)
