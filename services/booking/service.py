"""The booking service: opening hours, staff hours and the agenda per establishment."""

from __future__ import annotations

from pathlib import Path

import grpc

from salon.booking.v1 import booking_pb2, booking_pb2_grpc
from services.booking.api.privacy import PrivacyBookingServicer
from services.booking.events.consumers import consumers
from services.booking.events.merge import merge_consumers
from services.booking.events.privacy import privacy_consumers
from services.booking.mail.queue import mail_consumers
from services.booking.mail.sender import mail_workers
from services.booking.store.tables import metadata, outbox, processed_events
from services.common.consumer import EventConsumer
from services.common.runtime import ServiceContext, ServiceSpec


def register(server: grpc.aio.Server, ctx: ServiceContext) -> None:
    booking_pb2_grpc.add_BookingServiceServicer_to_server(PrivacyBookingServicer(ctx), server)


def all_consumers(ctx: ServiceContext) -> list[EventConsumer]:
    return [
        *consumers(ctx),
        *mail_consumers(ctx),
        *privacy_consumers(ctx),
        *merge_consumers(ctx),
    ]


SPEC = ServiceSpec(
    name="booking",
    grpc_service_names=[booking_pb2.DESCRIPTOR.services_by_name["BookingService"].full_name],
    metadata=metadata,
    migrations=Path(__file__).parent / "store" / "migrations",
    outbox=outbox,
    processed=processed_events,
    register=register,
    # The public booking page (R16) and what it needs, without a signed-in user.
    public_methods=frozenset(
        {
            "PublicBook",
            "PublicAppointments",
            "PublicCancel",
            "PublicReschedule",
            "Availability",
            "GetOpeningHours",
            "GetAppointments",
        }
    ),
    consumers=all_consumers,
    # The sender of the mails for future appointments (R15).
    workers=mail_workers,
)
