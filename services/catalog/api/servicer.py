"""gRPC API of the shared catalogue with per-establishment settings.

The RPCs of salon.catalog.v1.CatalogService are declared (batch reads included) but not
built yet: every one answers UNIMPLEMENTED (the generated base raises NotImplementedError,
which the shared interceptor turns into that status). The catalog issue fills this in.
"""

from __future__ import annotations

from salon.catalog.v1 import catalog_pb2_grpc
from services.common.runtime import ServiceContext


class CatalogServicer(catalog_pb2_grpc.CatalogServiceServicer):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
