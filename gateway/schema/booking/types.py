"""Opening hours, appointments and slots (R04, R21, B09)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.schema.catalog.types import Service
from gateway.schema.clients.types import Client
from gateway.schema.payments.types import Deposit
from gateway.schema.tenancy.types import Establishment, User, load_establishment
from salon.booking.v1 import booking_pb2


@strawberry.enum
class AppointmentStatus(Enum):
    BOOKED = "BOOKED"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"
    NO_SHOW = "NO_SHOW"

    @classmethod
    def of(cls, value: int) -> AppointmentStatus:
        name = booking_pb2.AppointmentStatus.Name(value).removeprefix("APPOINTMENT_STATUS_")  # type: ignore[arg-type]
        return cls(name)


def _utc(ts: object) -> datetime:
    return ts.ToDatetime(tzinfo=UTC)  # type: ignore[attr-defined, no-any-return]


async def _user(info: Info[Context, None], user_id: str) -> User | None:
    if not user_id:
        return None
    row = await info.context.loaders.user_by_id.load(user_id)
    return User.of(row) if row else None


@strawberry.type
class Appointment:
    id: strawberry.ID
    start: datetime
    end: datetime
    status: AppointmentStatus
    establishment_id: strawberry.Private[str]
    client_id: strawberry.Private[str]
    service_id: strawberry.Private[str]
    staff_id: strawberry.Private[str]

    @classmethod
    def of(cls, msg: booking_pb2.Appointment) -> Appointment:
        return cls(
            id=strawberry.ID(msg.id),
            start=_utc(msg.start),
            end=_utc(msg.end),
            status=AppointmentStatus.of(msg.status),
            establishment_id=msg.establishment_id,
            client_id=msg.client_id,
            service_id=msg.service_id,
            staff_id=msg.staff_id,
        )

    @strawberry.field
    async def establishment(self, info: Info[Context, None]) -> Establishment:
        est = await load_establishment(info, self.establishment_id)
        assert est is not None
        return est

    @strawberry.field
    async def client(self, info: Info[Context, None]) -> Client:
        msg = await info.context.loaders.client_by_id.load(self.client_id)
        assert msg is not None, "an appointment's client is in the organization's file"
        return Client.of(msg)

    @strawberry.field(description="With the values of the appointment's establishment.")
    async def service(self, info: Info[Context, None]) -> Service:
        msg = await info.context.loaders.service_by_key.load(
            (self.establishment_id, self.service_id)
        )
        assert msg is not None
        return Service.of(msg)

    @strawberry.field
    async def staff(self, info: Info[Context, None]) -> User | None:
        return await _user(info, self.staff_id)

    @strawberry.field(description="The online deposit paid for it, if any (R17).")
    async def deposit(self, info: Info[Context, None]) -> Deposit | None:
        msg = await info.context.loaders.deposit_by_appointment.load(str(self.id))
        return Deposit.of(msg) if msg is not None else None


@strawberry.type
class Slot:
    start: datetime
    end: datetime
    staff_id: strawberry.Private[str]

    @classmethod
    def of(cls, msg: booking_pb2.Slot) -> Slot:
        return cls(start=_utc(msg.start), end=_utc(msg.end), staff_id=msg.staff_id)

    @strawberry.field
    async def staff(self, info: Info[Context, None]) -> User | None:
        return await _user(info, self.staff_id)
