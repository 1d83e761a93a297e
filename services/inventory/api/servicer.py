"""gRPC API of stock per establishment.

The RPCs of salon.inventory.v1.InventoryService are declared (batch reads included) but not
built yet: every one answers UNIMPLEMENTED (the generated base raises NotImplementedError,
which the shared interceptor turns into that status). The inventory issue fills this in.
"""

from __future__ import annotations

from salon.inventory.v1 import inventory_pb2_grpc
from services.common.runtime import ServiceContext


class InventoryServicer(inventory_pb2_grpc.InventoryServiceServicer):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
