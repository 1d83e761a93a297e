"""Deposits (R17): shown on the client only in the appointment's establishment."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.schema.base import Money
from gateway.schema.tenancy.types import Establishment, load_establishment
from salon.payments.v1 import payments_pb2

if TYPE_CHECKING:
    from gateway.schema.booking.types import Appointment


@strawberry.enum
class DepositStatus(Enum):
    PAID = "PAID"
    APPLIED = "APPLIED"
    REFUNDED = "REFUNDED"

    @classmethod
    def of(cls, value: int) -> DepositStatus:
        return cls(payments_pb2.DepositStatus.Name(value).removeprefix("DEPOSIT_STATUS_"))  # type: ignore[arg-type]


@strawberry.type
class Deposit:
    id: strawberry.ID
    amount: Money
    status: DepositStatus
    appointment_id: strawberry.Private[str]
    establishment_id: strawberry.Private[str]

    @classmethod
    def of(cls, msg: payments_pb2.Deposit) -> Deposit:
        return cls(
            id=strawberry.ID(msg.id),
            amount=msg.amount,
            status=DepositStatus.of(msg.status),
            appointment_id=msg.appointment_id,
            establishment_id=msg.establishment_id,
        )

    @strawberry.field
    async def appointment(
        self, info: Info[Context, None]
    ) -> Annotated[Appointment, strawberry.lazy("gateway.schema.booking.types")]:
        from gateway.schema.booking.types import Appointment as AppointmentType

        msg = await info.context.loaders.appointment_by_id.load(self.appointment_id)
        assert msg is not None
        return AppointmentType.of(msg)

    @strawberry.field
    async def establishment(self, info: Info[Context, None]) -> Establishment:
        est = await load_establishment(info, self.establishment_id)
        assert est is not None
        return est
