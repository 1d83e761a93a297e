"""B11 in the payments service: ExportClientData, the OWNER's only (FORBIDDEN otherwise).
A client unknown here (or another organization's, R01) has no data: {}."""

from __future__ import annotations

import grpc
import orjson

from salon.common.v1 import privacy_pb2
from services.common.errors import DomainError, ErrorCode, invalid
from services.common.scope import current_scope
from services.payments.api.servicer import PaymentsServicer
from services.payments.store import privacy_repository

SERVICE = "payments"


class PrivacyPaymentsServicer(PaymentsServicer):
    async def ExportClientData(
        self, request: privacy_pb2.ExportClientDataRequest, context: grpc.aio.ServicerContext
    ) -> privacy_pb2.ClientDataExport:
        scope = current_scope()
        if not scope.is_owner:
            raise DomainError(ErrorCode.FORBIDDEN, "only an owner handles a client's personal data")
        if not request.client_id.strip():
            raise invalid("clientId", "must not be empty")
        async with self.ctx.db.read() as session:
            data = await privacy_repository.export(
                session, scope.organization_id, request.client_id
            )
        return privacy_pb2.ClientDataExport(
            service=SERVICE, json=orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()
        )
