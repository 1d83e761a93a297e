"""B11 in the inventory service: ExportClientData, the OWNER's only (FORBIDDEN otherwise).

The inventory service holds nothing about a client (stock, movements and reservations name no
client): its part of every client's export is {}, as for an unknown client (R01 alike)."""

from __future__ import annotations

import grpc

from salon.common.v1 import privacy_pb2
from services.common.errors import DomainError, ErrorCode, invalid
from services.common.scope import current_scope
from services.inventory.api.servicer import InventoryServicer

SERVICE = "inventory"


class PrivacyInventoryServicer(InventoryServicer):
    async def ExportClientData(
        self, request: privacy_pb2.ExportClientDataRequest, context: grpc.aio.ServicerContext
    ) -> privacy_pb2.ClientDataExport:
        scope = current_scope()
        if not scope.is_owner:
            raise DomainError(ErrorCode.FORBIDDEN, "only an owner handles a client's personal data")
        if not request.client_id.strip():
            raise invalid("clientId", "must not be empty")
        return privacy_pb2.ClientDataExport(service=SERVICE, json="{}")
