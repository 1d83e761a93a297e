"""The gateway's Starlette application: POST /graphql, GraphQL subscriptions over WebSocket
at /graphql (graphql-transport-ws), GET /healthz, GET /readyz, GET /metrics (Prometheus,
gateway/metrics.py), and the payment provider's webhook POST
/webhooks/mollie/{organization_id} (R32)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from nats.aio.client import Client as NatsClient
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from gateway.context import Context, build_context
from gateway.events.audit import AuditConsumer
from gateway.events.hub import EventHub
from gateway.events.websocket import (
    MAX_SUBSCRIPTIONS,
    SocketContext,
    SubscriptionsOnly,
    authenticate,
    socket_context,
)
from gateway.grpc_clients import Backends
from gateway.metrics import GatewayMetrics, GraphQLMetrics, metrics_response
from gateway.protection import BodySizeLimit, Limits, LoginThrottle
from gateway.schema import build_schema
from gateway.settings import BACKENDS, GatewaySettings
from gateway.store import tenancy
from gateway.store.tables import outbox
from gateway.tracing import GraphQLTracing
from gateway.webhooks.consumer import WebhookConsumer
from gateway.webhooks.sender import WebhookSender
from salon.payments.v1 import payments_pb2
from services.common import migrations, tracing
from services.common.db import Database, new_id
from services.common.metrics import MetricsRefresher
from services.common.nats_conn import connect
from services.common.outbox import OutboxRelay, ensure_stream
from services.common.scope import Scope, ScopeSigner

log = logging.getLogger("salon.gateway")

MIGRATIONS = Path(__file__).parent / "store" / "migrations"
# A provider's webhook body is one form field; anything longer is not one.
MAX_WEBHOOK_BODY = 4096
MAX_ID = 100
# A provider's payment id ("tr_WDqYK6vllg"): anything else is not one (and is never logged).
PAYMENT_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")


@dataclass
class AppState:
    settings: GatewaySettings
    db: Database
    backends: Backends
    signer: ScopeSigner
    nc: NatsClient | None = None
    relay: OutboxRelay | None = None
    # B04: every event into the audit log; B06: events to GraphQL subscriptions.
    audit: AuditConsumer | None = None
    hub: EventHub | None = None
    # B06: events to the organizations' webhooks (gateway/webhooks).
    webhook_consumer: WebhookConsumer | None = None
    webhook_sender: WebhookSender | None = None
    # Prometheus metrics (gateway/metrics.py), served at GET /metrics.
    metrics: GatewayMetrics | None = None
    # Failed logins, counted in the gateway's database (gateway/protection/login.py).
    login_throttle: LoginThrottle = field(init=False)

    def __post_init__(self) -> None:
        self.login_throttle = LoginThrottle(self.db, self.settings)

    def wake_relay(self) -> None:
        if self.relay is not None:
            self.relay.wake()


class SalonGraphQL(GraphQL[Context, None]):
    # Over WebSocket: subscriptions only (gateway/events/websocket.py).
    graphql_transport_ws_handler_class = SubscriptionsOnly

    def __init__(
        self, state_holder: dict[str, AppState], production: bool, limits: Limits | None = None
    ) -> None:
        super().__init__(
            build_schema(production=production, limits=limits),
            graphql_ide=None if production else "graphiql",
            allow_queries_via_get=False,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=MAX_SUBSCRIPTIONS,
        )
        self.state_holder = state_holder
        # The WebSocket handler checks subscriptions against these (gateway/events/websocket.py).
        self.limits = limits or Limits()
        # First: its operation hook wraps the others' (the protection's refusals counted).
        self.schema.extensions = (GraphQLMetrics, *self.schema.extensions)  # type: ignore[attr-defined]
        if tracing.enabled():
            # Outermost: the operation's span holds everything the others do.
            self.schema.extensions = (GraphQLTracing, *self.schema.extensions)  # type: ignore[attr-defined]

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        if isinstance(request, WebSocket):
            return await socket_context(request, self.state_holder["state"])
        return await build_context(request, response, self.state_holder["state"])

    async def on_ws_connect(self, context: Context) -> UnsetType:
        """connection_init: no valid session, the connection closes with 4403."""
        assert isinstance(context, SocketContext)
        await authenticate(context)
        return UNSET


async def _payment_id(request: Request, name: str) -> str | None:
    """A payment id from a small url-encoded form body; None when absent or not one."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_WEBHOOK_BODY:
            return None
    values = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=20)
    value = (values.get(name) or [""])[0].strip()
    return value if PAYMENT_ID.fullmatch(value) else None


async def refresh_provider_payment(
    state: AppState, organization_id: str, establishment_id: str, provider: str, payment_id: str
) -> None:
    """Ask payments to fetch the payment from the provider and update its deposit, in a
    scope without a user for that organization (the webhook carries no session)."""
    scope = Scope(organization_id, establishment_id, request_id=new_id())
    try:
        await state.backends.call(
            "payments",
            state.backends.payments.RefreshProviderPayment,
            payments_pb2.RefreshProviderPaymentRequest(provider=provider, payment_id=payment_id),
            state.signer.metadata(scope),
        )
    except Exception as exc:  # the provider already has its answer: log and go on
        log.warning(
            "%s webhook, organization %s, payment %s: not refreshed (%s)",
            provider,
            organization_id,
            payment_id,
            getattr(exc, "message", None) or exc,
        )


def create_app(settings: GatewaySettings | None = None) -> Starlette:
    settings = settings or GatewaySettings()
    holder: dict[str, AppState] = {}
    metrics = GatewayMetrics()

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        db = Database(settings.database_url, pool_size=settings.db_pool_size)
        await migrations.upgrade(db, MIGRATIONS)
        state = AppState(
            settings=settings,
            db=db,
            backends=Backends(settings),
            signer=ScopeSigner(settings.scope_secrets(), settings.scope_ttl_seconds),
            metrics=metrics,
        )
        metrics.watch_pool(db)
        state.nc = await connect(settings.nats_url, "salon-gateway")
        js = state.nc.jetstream()
        await ensure_stream(
            js, settings.events_stream, settings.events_max_age_days, settings.events_replicas
        )
        state.relay = OutboxRelay(db, outbox, js)
        state.relay.start()
        state.audit = AuditConsumer(js, db, stream=settings.events_stream)
        state.audit.metrics = metrics
        state.audit.start()
        audit = state.audit
        state.webhook_consumer = WebhookConsumer(js, db, stream=settings.events_stream)
        state.webhook_consumer.metrics = metrics
        state.webhook_consumer.start()
        state.webhook_sender = WebhookSender(db, settings)
        state.webhook_sender.start()
        webhook_consumer = state.webhook_consumer
        refresher = MetricsRefresher(
            metrics,
            outbox=state.relay,
            consumers=lambda: [audit, webhook_consumer],
            interval=settings.metrics_refresh_seconds,
        )
        refresher.start()
        state.hub = EventHub(state.nc)
        holder["state"] = state
        log.info("gateway ready")
        try:
            yield
        finally:
            await refresher.stop()
            await state.hub.stop()
            await state.webhook_sender.stop()
            await state.webhook_consumer.stop()
            await state.audit.stop()
            await state.relay.stop()
            await state.backends.close()
            try:
                await asyncio.wait_for(state.nc.drain(), timeout=5)
            except Exception as exc:  # already closed, unreachable or slow: close anyway
                log.debug("nats drain: %s", exc)
                await state.nc.close()
            await db.dispose()

    async def metrics_endpoint(request: Request) -> Response:
        """Prometheus metrics; a bearer token when SALON_METRICS_TOKEN is set."""
        return await metrics_response(request, metrics, settings.metrics_token)

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

    async def mollie_webhook(request: Request) -> Response:
        """R32: Mollie says a payment changed (form field `id`). Known organization: 200 at
        once with an empty body (Mollie retries anything else), the refresh runs after the
        answer. Unknown organization: 404; no id: 400."""
        state = holder.get("state")
        if state is None:
            return Response(status_code=503)
        organization_id = str(request.path_params["organization_id"])
        establishments: list[tenancy.Establishment] = []
        if 0 < len(organization_id) <= MAX_ID:
            async with state.db.read(organization_id=organization_id) as conn:
                establishments = await tenancy.establishments_of(conn, organization_id)
        if not establishments:
            return Response(status_code=404)
        payment_id = await _payment_id(request, "id")
        if payment_id is None:
            return Response(status_code=400)
        return Response(
            status_code=200,
            background=BackgroundTask(
                refresh_provider_payment,
                state,
                organization_id,
                establishments[0].id,
                "mollie",
                payment_id,
            ),
        )

    graphql = SalonGraphQL(holder, production=settings.production, limits=Limits.of(settings))
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            Route("/webhooks/mollie/{organization_id}", mollie_webhook, methods=["POST"]),
        ],
        lifespan=lifespan,
        # Bodies above SALON_MAX_BODY_BYTES: 413 before they are read (gateway/protection).
        middleware=[Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)],
    )
