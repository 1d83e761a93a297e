"""B11 in the catalog service: ExportClientData, the OWNER's only (FORBIDDEN otherwise).

The catalog service holds nothing about a client (its projection of the booking
service's appointments keeps the appointment, service, start and status, not the client):
its part of every client's export is {}, as for an unknown client (R01 alike)."""

from __future__ import annotations

import grpc

from salon.common.v1 import privacy_pb2
from services.catalog.api.servicer import CatalogServicer
from services.common.errors import DomainError, ErrorCode, invalid
from services.common.scope import current_scope

SERVICE = "catalog"


class PrivacyCatalogServicer(CatalogServicer):
    async def ExportClientData(
        self, request: privacy_pb2.ExportClientDataRequest, context: grpc.aio.ServicerContext
    ) -> privacy_pb2.ClientDataExport:
        scope = current_scope()
        if not scope.is_owner:
            raise DomainError(ErrorCode.FORBIDDEN, "only an owner handles a client's personal data")
        if not request.client_id.strip():
            raise invalid("clientId", "must not be empty")
        return privacy_pb2.ClientDataExport(service=SERVICE, json="{}")
