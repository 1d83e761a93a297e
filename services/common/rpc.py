"""Calling another part over gRPC: channel options, deadlines, the signed scope, and
turning a failure back into the DomainError the callee raised."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from services.common import tracing
from services.common.errors import from_rpc_error

T = TypeVar("T")

# Reconnect quickly after a peer restarts instead of gRPC's default backoff (up to 2 min).
CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2000),
    ("grpc.keepalive_time_ms", 30000),
    ("grpc.max_receive_message_length", 8 * 1024 * 1024),
]


class PeerError(Exception):
    """The peer failed in a way that is not a DomainError of ours."""

    def __init__(self, service: str, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{service}: {code.name} {details}")
        self.service = service
        self.code = code

    @property
    def unavailable(self) -> bool:
        return self.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def channel(address: str) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)


async def call(
    service: str,
    method: Callable[..., Awaitable[T]],
    request: Any,
    metadata: tuple[tuple[str, bytes], ...],
    deadline: float,
) -> T:
    """One RPC with the signed scope and a deadline; a DomainError the peer raised comes
    back as the same DomainError, anything else as PeerError. With tracing on, the call is
    a CLIENT span and its traceparent travels in the metadata."""
    if not tracing.enabled():
        return await _call(service, method, request, metadata, deadline)
    # grpc.aio's multicallable keeps the path ("/salon.x.v1.XService/Method") in `_method`,
    # with no public accessor; without it the span is named after the service.
    full_method = getattr(method, "_method", b"")
    if isinstance(full_method, bytes):
        full_method = full_method.decode("ascii", "replace")
    with tracing.client_span(service, str(full_method)) as span:
        carrier: dict[str, str] = {}
        tracing.inject(carrier)
        try:
            reply = await _call(service, method, request, (*metadata, *carrier.items()), deadline)
        except PeerError as exc:
            tracing.set_grpc_status(span, exc.code, server=False)
            raise
        except Exception as exc:  # a DomainError carries its status code
            code = getattr(exc, "grpc_code", grpc.StatusCode.UNKNOWN)
            tracing.set_grpc_status(span, code, server=False)
            raise
        tracing.set_grpc_status(span, grpc.StatusCode.OK, server=False)
        return reply


async def _call(
    service: str,
    method: Callable[..., Awaitable[T]],
    request: Any,
    metadata: tuple[tuple[str, Any], ...],
    deadline: float,
) -> T:
    try:
        return await method(request, metadata=metadata, timeout=deadline)
    except grpc.aio.AioRpcError as exc:
        domain = from_rpc_error(exc)
        if domain is not None:
            raise domain from None
        raise PeerError(service, exc.code(), exc.details() or "") from None
