"""Mails for future appointments (R15): one switch for the whole organization."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.schema.base import AUTHENTICATED, UserError, user_errors
from salon.booking.v1 import booking_pb2
from services.common.errors import DomainError


@strawberry.type(description="Confirmation and reminder mails, for every establishment (R15).")
class AppointmentMailSettings:
    enabled: bool
    reminder_hours: int = strawberry.field(
        description="How long before the appointment the reminder goes out."
    )

    @classmethod
    def of(cls, msg: booking_pb2.MailSettings) -> AppointmentMailSettings:
        return cls(enabled=msg.enabled, reminder_hours=msg.reminder_hours)


@strawberry.input(
    description="OWNER. Applies to the whole organization: it cannot be limited "
    "to one establishment (R15)."
)
class SetAppointmentMailsInput:
    enabled: bool
    reminder_hours: int | None = None


@strawberry.type
class SetAppointmentMailsPayload:
    settings: AppointmentMailSettings | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MailQuery:
    @strawberry.field(permission_classes=AUTHENTICATED)
    async def appointment_mails(self, info: Info[Context, None]) -> AppointmentMailSettings:
        ctx = info.context
        reply = await ctx.call(
            "booking",
            ctx.state.backends.booking.GetMailSettings,
            booking_pb2.GetMailSettingsRequest(),
        )
        return AppointmentMailSettings.of(reply)


@strawberry.type
class MailMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def set_appointment_mails(
        self, info: Info[Context, None], input: SetAppointmentMailsInput
    ) -> SetAppointmentMailsPayload:
        ctx = info.context
        try:
            current = await ctx.call(
                "booking",
                ctx.state.backends.booking.GetMailSettings,
                booking_pb2.GetMailSettingsRequest(),
            )
            reply = await ctx.call(
                "booking",
                ctx.state.backends.booking.SetMailSettings,
                booking_pb2.MailSettings(
                    enabled=input.enabled,
                    reminder_hours=current.reminder_hours
                    if input.reminder_hours is None
                    else input.reminder_hours,
                ),
            )
        except DomainError as exc:
            return SetAppointmentMailsPayload(errors=user_errors(exc))
        return SetAppointmentMailsPayload(settings=AppointmentMailSettings.of(reply))
