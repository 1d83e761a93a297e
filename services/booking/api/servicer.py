"""gRPC API of agenda, opening hours and online booking.

The RPCs of salon.booking.v1.BookingService are declared (batch reads included) but not
built yet: every one answers UNIMPLEMENTED (the generated base raises NotImplementedError,
which the shared interceptor turns into that status). The booking issue fills this in.
"""

from __future__ import annotations

from salon.booking.v1 import booking_pb2_grpc
from services.common.runtime import ServiceContext


class BookingServicer(booking_pb2_grpc.BookingServiceServicer):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
