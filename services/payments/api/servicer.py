"""gRPC API of the till.

The RPCs of salon.payments.v1.PaymentsService are declared (batch reads included) but not
built yet: every one answers UNIMPLEMENTED (the generated base raises NotImplementedError,
which the shared interceptor turns into that status). The payments issue fills this in.
"""

from __future__ import annotations

from salon.payments.v1 import payments_pb2_grpc
from services.common.runtime import ServiceContext


class PaymentsServicer(payments_pb2_grpc.PaymentsServiceServicer):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
