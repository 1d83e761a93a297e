"""The gRPC side every service shares: scope verification, error translation, health,
reflection (outside production), per-call time limits and graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.common import rpc, tracing
from services.common.errors import STATUS_DETAILS_KEY, DomainError
from services.common.metrics import PartMetrics, status_name
from services.common.scope import InvalidScope, ScopeSigner, scope_context

log = logging.getLogger("salon.grpc")

# Calls that need no scope: probes and tooling.
EXEMPT_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


class ScopeInterceptor(grpc.aio.ServerInterceptor):
    """Verifies the gateway's signed scope and runs the call inside it.

    Also the single place where a DomainError becomes a gRPC status with details, where an
    unexpected exception is logged and masked as INTERNAL, and where a call is bounded in
    time whatever deadline the caller sent.
    """

    def __init__(
        self,
        signer: ScopeSigner,
        max_rpc_seconds: float,
        public_methods: frozenset[str] = frozenset(),
        metrics: PartMetrics | None = None,
    ) -> None:
        self.signer = signer
        self.metrics = metrics
        self.max_rpc_seconds = max_rpc_seconds
        # Methods a scope without a user (the public booking page, R16) may call; every
        # other one needs a signed-in user, whatever the caller.
        self.public_methods = public_methods

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        method: str = details.method  # type: ignore[attr-defined]
        if handler is None or method.startswith(EXEMPT_PREFIXES) or not handler.unary_unary:
            return handler
        inner = handler.unary_unary
        try:
            scope = self.signer.verify(details.invocation_metadata)  # type: ignore[attr-defined]
            refusal = ""
        except InvalidScope as exc:
            scope, refusal = None, str(exc)
        limit = self.max_rpc_seconds
        public_refused = (
            scope is not None
            and not scope.user_id
            and method.rsplit("/", 1)[-1] not in self.public_methods
        )

        async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
            if self.metrics is None:
                return await checked(request, context)
            started = time.perf_counter()
            code = "OK"
            try:
                return await checked(request, context)
            except grpc.aio.AbortError:
                code = status_name(context.code())
                raise
            except asyncio.CancelledError:
                code = "CANCELLED"
                raise
            except BaseException:
                code = "UNKNOWN"
                raise
            finally:
                self.metrics.observe_rpc(method, code, time.perf_counter() - started)

        async def checked(request: Any, context: grpc.aio.ServicerContext) -> Any:
            if scope is None:
                await context.abort(grpc.StatusCode.UNAUTHENTICATED, refusal)
                raise AssertionError("unreachable")
            if public_refused:
                await context.abort(
                    grpc.StatusCode.PERMISSION_DENIED, "this call needs a signed-in user"
                )
            remaining = context.time_remaining()
            timeout = min(limit, remaining) if remaining is not None else limit
            with scope_context(scope):
                tracing.set_scope(scope.organization_id, scope.establishment_id, scope.request_id)
                try:
                    async with asyncio.timeout(timeout):
                        return await inner(request, context)
                except DomainError as exc:
                    await context.abort(
                        exc.grpc_code,
                        exc.message,
                        trailing_metadata=((STATUS_DETAILS_KEY, exc.to_status_details()),),
                    )
                except rpc.PeerError as exc:
                    if not exc.unavailable:
                        log.error("%s: %s (request %s)", method, exc, scope.request_id)
                        await context.abort(grpc.StatusCode.INTERNAL, "internal error")
                    # Another service this call needs is down: say so, the caller may retry.
                    await context.abort(
                        grpc.StatusCode.UNAVAILABLE, f"the {exc.service} service is unavailable"
                    )
                except NotImplementedError:
                    await context.abort(
                        grpc.StatusCode.UNIMPLEMENTED, f"{method} is not available yet"
                    )
                except TimeoutError:
                    await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "call took too long")
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if isinstance(exc, grpc.aio.AbortError):
                        raise
                    log.exception("unexpected error in %s (request %s)", method, scope.request_id)
                    await context.abort(grpc.StatusCode.INTERNAL, "internal error")
            raise AssertionError("unreachable")

        return grpc.unary_unary_rpc_method_handler(
            call,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


class TracingInterceptor(grpc.aio.ServerInterceptor):
    """With tracing on (and only then installed): each call is a SERVER span, a child of
    the caller's span named by the ``traceparent`` metadata. Outermost, so that the scope
    check, the time limit and the error translation are inside it; the status code comes
    from the abort the scope interceptor made."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        method: str = details.method  # type: ignore[attr-defined]
        if handler is None or method.startswith(EXEMPT_PREFIXES) or not handler.unary_unary:
            return handler
        inner = handler.unary_unary
        parent = tracing.context_from_metadata(details.invocation_metadata)  # type: ignore[attr-defined]
        name = method.lstrip("/")
        rpc_service, _, rpc_method = name.partition("/")
        attributes = {"rpc.system": "grpc", "rpc.service": rpc_service, "rpc.method": rpc_method}

        async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
            with tracing.span(
                name,
                kind=tracing.SpanKind.SERVER,
                parent=parent,
                attributes=attributes,
                exceptions_fail=False,
            ) as span:
                try:
                    reply = await inner(request, context)
                except grpc.aio.AbortError:
                    tracing.set_grpc_status(span, context.code(), server=True)
                    raise
                except asyncio.CancelledError:
                    tracing.set_grpc_status(span, grpc.StatusCode.CANCELLED, server=True)
                    raise
                except Exception:
                    tracing.set_grpc_status(span, grpc.StatusCode.UNKNOWN, server=True)
                    raise
                tracing.set_grpc_status(span, grpc.StatusCode.OK, server=True)
                return reply

        return grpc.unary_unary_rpc_method_handler(
            call,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


class GrpcServer:
    """A grpc.aio server with health checking and (outside production) reflection."""

    def __init__(
        self,
        *,
        signer: ScopeSigner,
        service_names: Sequence[str],
        register: Callable[[grpc.aio.Server], None],
        host: str,
        port: int,
        reflection_enabled: bool,
        max_rpc_seconds: float,
        public_methods: frozenset[str] = frozenset(),
        metrics: PartMetrics | None = None,
    ) -> None:
        self.service_names = list(service_names)
        interceptors: list[grpc.aio.ServerInterceptor] = [
            ScopeInterceptor(signer, max_rpc_seconds, public_methods, metrics)
        ]
        if tracing.enabled():
            interceptors.insert(0, TracingInterceptor())
        self.server = grpc.aio.server(
            interceptors=interceptors,
            options=[
                ("grpc.so_reuseport", 0),
                ("grpc.max_receive_message_length", 8 * 1024 * 1024),
            ],
        )
        register(self.server)
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        if reflection_enabled:
            reflection.enable_server_reflection(
                [
                    *self.service_names,
                    health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                    reflection.SERVICE_NAME,
                ],
                self.server,
            )
        self.port = self.server.add_insecure_port(f"{host}:{port}")
        if self.port == 0:
            raise RuntimeError(f"cannot listen on {host}:{port}")

    async def start(self) -> None:
        await self.server.start()
        for name in ["", *self.service_names]:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    async def stop(self, grace: float) -> None:
        """NOT_SERVING first (load balancers stop sending), then drain in-flight calls."""
        for name in ["", *self.service_names]:
            await self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.server.stop(grace)
