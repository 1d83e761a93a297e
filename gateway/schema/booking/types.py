"""Opening hours, appointments and slots (R04, R21, B09)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.schema.base import selects
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

    # Filled by a list resolver that fetched the relations of a whole day at once, so the
    # fields below resolve without an await each (see prefetch_appointments).
    prefetched: strawberry.Private[dict[str, Any] | None] = None

    def _pre(self, name: str) -> tuple[bool, Any]:
        if self.prefetched is not None and name in self.prefetched:
            return True, self.prefetched[name]
        return False, None

    @strawberry.field(graphql_type=Client)
    def client(self, info: Info[Context, None]) -> Client | Awaitable[Client]:
        found, value = self._pre("client")
        return value if found else self._client(info)

    async def _client(self, info: Info[Context, None]) -> Client:
        msg = await info.context.loaders.client_by_id.load(self.client_id)
        assert msg is not None, "an appointment's client is in the organization's file"
        return Client.of(msg)

    @strawberry.field(
        description="With the values of the appointment's establishment.", graphql_type=Service
    )
    def service(self, info: Info[Context, None]) -> Service | Awaitable[Service]:
        found, value = self._pre("service")
        return value if found else self._service(info)

    async def _service(self, info: Info[Context, None]) -> Service:
        msg = await info.context.loaders.service_by_key.load(
            (self.establishment_id, self.service_id)
        )
        assert msg is not None
        return Service.of(msg)

    @strawberry.field(graphql_type=User | None)
    def staff(self, info: Info[Context, None]) -> User | Awaitable[User | None] | None:
        found, value = self._pre("staff")
        return value if found else _user(info, self.staff_id)

    @strawberry.field(
        description="The online deposit paid for it, if any (R17).", graphql_type=Deposit | None
    )
    def deposit(self, info: Info[Context, None]) -> Deposit | Awaitable[Deposit | None] | None:
        found, value = self._pre("deposit")
        return value if found else self._deposit(info)

    async def _deposit(self, info: Info[Context, None]) -> Deposit | None:
        msg = await info.context.loaders.deposit_by_appointment.load(str(self.id))
        return Deposit.of(msg) if msg is not None else None


async def prefetch_appointments(info: Info[Context, None], appointments: list[Appointment]) -> None:
    """The selected relations of a list, fetched together: one batched call per service,
    in parallel, and the fields then resolve synchronously."""
    if not appointments:
        return
    loaders = info.context.loaders
    wanted = {name for name in ("client", "service", "staff", "deposit") if selects(info, name)}
    jobs: dict[str, Awaitable[list[Any]]] = {}
    if "client" in wanted:
        jobs["client"] = loaders.client_by_id.load_many([a.client_id for a in appointments])
    if "service" in wanted:
        jobs["service"] = loaders.service_by_key.load_many(
            [(a.establishment_id, a.service_id) for a in appointments]
        )
    if "staff" in wanted:
        jobs["staff"] = loaders.user_by_id.load_many([a.staff_id for a in appointments])
    if "deposit" in wanted:
        jobs["deposit"] = loaders.deposit_by_appointment.load_many(
            [str(a.id) for a in appointments]
        )
    results = dict(zip(jobs, await asyncio.gather(*jobs.values()), strict=True))
    build = {
        "client": lambda m: Client.of(m) if m is not None else None,
        "service": lambda m: Service.of(m) if m is not None else None,
        "staff": lambda m: User.of(m) if m is not None else None,
        "deposit": lambda m: Deposit.of(m) if m is not None else None,
    }
    for index, appointment in enumerate(appointments):
        appointment.prefetched = {
            name: build[name](values[index])
            for name, values in results.items()
            # A missing client or service falls back to the loader (and its assertion).
            if values[index] is not None or name in ("staff", "deposit")
        }


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
