"""The gateway's Starlette application: POST /graphql, GET /healthz, GET /readyz."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nats.aio.client import Client as NatsClient
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from gateway.context import Context, build_context
from gateway.grpc_clients import Backends
from gateway.schema import build_schema
from gateway.settings import BACKENDS, GatewaySettings
from gateway.store.tables import outbox
from services.common import migrations
from services.common.db import Database
from services.common.nats_conn import connect
from services.common.outbox import OutboxRelay, ensure_stream
from services.common.scope import ScopeSigner

log = logging.getLogger("salon.gateway")

MIGRATIONS = Path(__file__).parent / "store" / "migrations"


@dataclass
class AppState:
    settings: GatewaySettings
    db: Database
    backends: Backends
    signer: ScopeSigner
    nc: NatsClient | None = None
    relay: OutboxRelay | None = None

    def wake_relay(self) -> None:
        if self.relay is not None:
            self.relay.wake()


class SalonGraphQL(GraphQL[Context, None]):
    def __init__(self, state_holder: dict[str, AppState], production: bool) -> None:
        super().__init__(
            build_schema(production=production),
            graphql_ide=None if production else "graphiql",
            allow_queries_via_get=False,
        )
        self.state_holder = state_holder

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        return await build_context(request, response, self.state_holder["state"])


def create_app(settings: GatewaySettings | None = None) -> Starlette:
    settings = settings or GatewaySettings()
    holder: dict[str, AppState] = {}

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        db = Database(settings.database_url, pool_size=settings.db_pool_size)
        await migrations.upgrade(db, MIGRATIONS)
        state = AppState(
            settings=settings,
            db=db,
            backends=Backends(settings),
            signer=ScopeSigner(settings.scope_secrets(), settings.scope_ttl_seconds),
        )
        state.nc = await connect(settings.nats_url, "salon-gateway")
        js = state.nc.jetstream()
        await ensure_stream(js, settings.events_stream, settings.events_max_age_days)
        state.relay = OutboxRelay(db, outbox, js)
        state.relay.start()
        holder["state"] = state
        log.info("gateway ready")
        try:
            yield
        finally:
            await state.relay.stop()
            await state.backends.close()
            try:
                await asyncio.wait_for(state.nc.drain(), timeout=5)
            except Exception as exc:  # already closed, unreachable or slow: close anyway
                log.debug("nats drain: %s", exc)
                await state.nc.close()
            await db.dispose()

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"alive": True})

    async def readyz(_request: Request) -> Response:
        state = holder.get("state")
        if state is None:
            return JSONResponse({"ready": False, "unavailable": ["gateway"]}, status_code=503)
        checks: dict[str, bool] = {}
        results = await asyncio.gather(*(state.backends.healthy(n) for n in BACKENDS))
        checks.update(dict(zip(BACKENDS, results, strict=True)))
        checks["nats"] = bool(state.nc is not None and state.nc.is_connected)
        try:
            async with state.db.read() as session:
                await session.execute(text("SELECT 1"))
            checks["database"] = True
        except Exception:
            checks["database"] = False
        unavailable = sorted(name for name, ok in checks.items() if not ok)
        return JSONResponse(
            {"ready": not unavailable, "checks": checks, "unavailable": unavailable},
            status_code=200 if not unavailable else 503,
        )

    graphql = SalonGraphQL(holder, production=settings.production)
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        lifespan=lifespan,
    )
