"""gRPC API of the mail settings (R15): one switch and one reminder lead time for the whole
organization. There is no establishment in the request or in the row: the setting cannot be
limited to one establishment, whichever establishment the owner's session is in."""

from __future__ import annotations

import grpc

from salon.booking.v1 import booking_pb2
from services.booking.mail import queue
from services.common.errors import DomainError, ErrorCode
from services.common.runtime import ServiceContext
from services.common.scope import current_scope


def settings_to_proto(settings: queue.OrganizationMailSettings) -> booking_pb2.MailSettings:
    return booking_pb2.MailSettings(
        enabled=settings.enabled, reminder_hours=settings.reminder_hours
    )


class MailSettingsRpc:
    """Mixed into the BookingServicer, which gives it `ctx`."""

    ctx: ServiceContext

    async def SetMailSettings(
        self, request: booking_pb2.MailSettings, context: grpc.aio.ServicerContext
    ) -> booking_pb2.MailSettings:
        scope = current_scope()
        if not scope.is_owner:
            raise DomainError(
                ErrorCode.FORBIDDEN, "only the owner sets the organization's mail settings"
            )
        settings = queue.OrganizationMailSettings(
            enabled=request.enabled,
            reminder_hours=queue.check_reminder_hours(request.reminder_hours),
        )
        async with self.ctx.db.write() as session:
            await queue.save_settings(session, scope.organization_id, settings)
        return settings_to_proto(settings)

    async def GetMailSettings(
        self, request: booking_pb2.GetMailSettingsRequest, context: grpc.aio.ServicerContext
    ) -> booking_pb2.MailSettings:
        # Anyone of the organization may read them (the agenda's screens say whether the
        # clients are mailed).
        scope = current_scope()
        async with self.ctx.db.read() as session:
            settings = await queue.get_settings(session, scope.organization_id)
        return settings_to_proto(settings)
