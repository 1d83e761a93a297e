"""OpenTelemetry traces for every part: configured by the standard ``OTEL_*`` variables,
off (and close to free) when no OTLP endpoint is set.

One trace follows a request from the gateway's GraphQL operation through the gRPC calls
(W3C ``traceparent`` in the call metadata, :func:`client_span` in services.common.rpc,
:class:`services.common.grpc_server.TracingInterceptor` on the server), the database
transactions under way (services.common.db), and across NATS: the outbox row keeps the
``traceparent`` of the span that wrote it (services.common.outbox.record_event), the relay
publishes it as a NATS header beside the CloudEvents ``ce-*`` ones under a PRODUCER span,
and the durable consumer (services.common.consumer) runs the handler in a CONSUMER span,
a child of that context.

- Enabled when ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_ENDPOINT`` is
  set, unless ``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none``.
- ``OTEL_EXPORTER_OTLP_PROTOCOL`` (or ``..._TRACES_PROTOCOL``): ``http/protobuf`` (the
  default) or ``grpc``. Headers, timeout, compression, certificates: the exporters read
  their ``OTEL_EXPORTER_OTLP_*`` variables themselves.
- ``OTEL_SERVICE_NAME``: ``salon-<part>`` when unset; ``OTEL_RESOURCE_ATTRIBUTES`` adds to
  the resource; ``OTEL_TRACES_SAMPLER`` / ``_ARG`` choose the sampler (the SDK's default is
  ``parentbased_always_on``); ``OTEL_BSP_*`` tune the batch span processor.

Off, every hook here is one check of a module variable: no SDK provider, no span objects,
no interceptor on the gRPC server, nothing written to the outbox's ``traceparent``.
Propagation is always W3C trace context (``traceparent``; ``tracestate`` is not carried
through the outbox).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

log = logging.getLogger("salon.tracing")

TRACEPARENT = "traceparent"
INSTRUMENTATION = "salon"
PROTOCOLS = ("http/protobuf", "grpc")

# The OTEL_* variables this module and the SDK read (the deploy files may set them).
VARIABLES = frozenset(
    {
        "OTEL_SDK_DISABLED",
        "OTEL_SERVICE_NAME",
        "OTEL_RESOURCE_ATTRIBUTES",
        "OTEL_TRACES_EXPORTER",
        "OTEL_TRACES_SAMPLER",
        "OTEL_TRACES_SAMPLER_ARG",
        "OTEL_BSP_SCHEDULE_DELAY",
        "OTEL_BSP_MAX_QUEUE_SIZE",
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
        "OTEL_BSP_EXPORT_TIMEOUT",
        *(
            f"OTEL_EXPORTER_OTLP{signal}_{name}"
            for signal in ("", "_TRACES")
            for name in (
                "ENDPOINT",
                "PROTOCOL",
                "HEADERS",
                "TIMEOUT",
                "COMPRESSION",
                "CERTIFICATE",
                "CLIENT_KEY",
                "CLIENT_CERTIFICATE",
                "INSECURE",
            )
        ),
    }
)

_propagator = TraceContextTextMapPropagator()
_tracer: trace.Tracer | None = None
_provider: TracerProvider | None = None

__all__ = [
    "TRACEPARENT",
    "Span",
    "SpanKind",
    "Status",
    "StatusCode",
    "client_span",
    "configure",
    "context_of",
    "current_traceparent",
    "enabled",
    "inject",
    "record_exception",
    "shutdown",
    "span",
    "use",
]


def enabled() -> bool:
    return _tracer is not None


def endpoint_configured(environ: Mapping[str, str]) -> bool:
    """True when the environment asks for traces to be exported."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower()
    if exporters in ("none", ""):
        return False
    return bool(
        environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
        or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    )


def protocol_of(environ: Mapping[str, str]) -> str:
    protocol = (
        environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "").strip()
        or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "").strip()
        or "http/protobuf"
    )
    if protocol not in PROTOCOLS:
        raise RuntimeError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r}: use one of {', '.join(PROTOCOLS)}"
        )
    return protocol


def service_name(part: str, environ: Mapping[str, str]) -> str:
    return environ.get("OTEL_SERVICE_NAME", "").strip() or f"salon-{part}"


def configure(part: str, environ: Mapping[str, str] | None = None) -> bool:
    """At a part's start: an SDK tracer provider exporting by OTLP when the environment
    names an endpoint (then also the global provider); nothing otherwise. True when on."""
    env = os.environ if environ is None else environ
    if not endpoint_configured(env):
        return False
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

    protocol = protocol_of(env)
    exporter: SpanExporter
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcExporter,
        )

        exporter = GrpcExporter()
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HttpExporter,
        )

        exporter = HttpExporter()
    # Resource.create also reads OTEL_RESOURCE_ATTRIBUTES; the name given here wins over
    # its service.name, and OTEL_SERVICE_NAME over the part's default.
    resource = Resource.create(
        {SERVICE_NAME: service_name(part, env), "service.namespace": "salon"}
    )
    provider = TracerProvider(resource=resource)  # the sampler from OTEL_TRACES_SAMPLER
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    use(provider)
    log.info("traces of %s exported by OTLP (%s)", resource.attributes.get(SERVICE_NAME), protocol)
    return True


def use(provider: TracerProvider | None) -> None:
    """Trace with this provider from now on (None: off). configure() calls it; tests call it
    with an in-memory exporter's provider."""
    global _tracer, _provider
    _provider = provider
    _tracer = provider.get_tracer(INSTRUMENTATION) if provider is not None else None


def shutdown() -> None:
    """Export what is still queued, then stop (blocking: run it in a thread from a loop)."""
    global _tracer, _provider
    provider, _provider, _tracer = _provider, None, None
    if provider is not None:
        provider.shutdown()


# ------------------------------------------------------------------ spans


@contextmanager
def span(
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    parent: Context | None = None,
    attributes: Mapping[str, Any] | None = None,
    only_in_trace: bool = False,
    exceptions_fail: bool = True,
) -> Iterator[Span | None]:
    """A span, current for the block (None when tracing is off). ``parent``: a context
    extracted from a carrier (else the current one). ``only_in_trace``: no span unless one
    is under way (database work outside any request, such as the relay's polls).
    ``exceptions_fail``: an exception leaving the block is recorded and fails the span
    (False where the caller sets the status itself: a gRPC abort is not always a failure)."""
    tracer = _tracer
    if tracer is None or (
        only_in_trace and not trace.get_current_span().get_span_context().is_valid
    ):
        yield None
        return
    with tracer.start_as_current_span(
        name,
        context=parent,
        kind=kind,
        attributes=dict(attributes) if attributes else None,
        record_exception=exceptions_fail,
        set_status_on_exception=exceptions_fail,
    ) as current:
        yield current


@contextmanager
def client_span(service: str, full_method: str) -> Iterator[Span | None]:
    """A CLIENT span of a gRPC call (name ``package.Service/Method``)."""
    rpc_service, _, rpc_method = full_method.lstrip("/").partition("/")
    with span(
        full_method.lstrip("/") or service,
        kind=SpanKind.CLIENT,
        attributes={
            "rpc.system": "grpc",
            "rpc.service": rpc_service,
            "rpc.method": rpc_method,
            "peer.service": f"salon-{service}",
        },
        exceptions_fail=False,
    ) as current:
        yield current


def set_grpc_status(current: Span | None, code: Any, *, server: bool) -> None:
    """rpc.grpc.status_code on the span; an error status as the semantic conventions say
    (a client: any code but OK; a server: only the codes that mean it failed)."""
    if current is None:
        return
    value = code.value[0] if hasattr(code, "value") else int(code)
    current.set_attribute("rpc.grpc.status_code", value)
    if value == 0:
        return
    if not server or code_name(code) in SERVER_ERRORS:
        current.set_status(Status(StatusCode.ERROR, code_name(code)))


SERVER_ERRORS = frozenset(
    {"UNKNOWN", "DEADLINE_EXCEEDED", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS"}
)


def code_name(code: Any) -> str:
    return str(getattr(code, "name", code))


def record_exception(exc: BaseException) -> None:
    """An exception handled below the span under way (kept on it as an event)."""
    if _tracer is not None:
        current = trace.get_current_span()
        if current.is_recording():
            current.record_exception(exc)


def set_scope(organization_id: str, establishment_id: str, request_id: str) -> None:
    """The verified scope on the span under way (searchable in a tracing backend)."""
    if _tracer is None:
        return
    current = trace.get_current_span()
    if current.is_recording():
        current.set_attribute("salon.organization_id", organization_id)
        current.set_attribute("salon.establishment_id", establishment_id)
        if request_id:
            current.set_attribute("salon.request_id", request_id)


# ------------------------------------------------------------------ propagation


def current_traceparent() -> str | None:
    """The W3C traceparent of the span under way (what an outbox row keeps), or None."""
    if _tracer is None:
        return None
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get(TRACEPARENT)


def inject(carrier: dict[str, str]) -> None:
    """Add the current span's traceparent to a carrier (gRPC metadata, NATS headers)."""
    if _tracer is not None:
        _propagator.inject(carrier)


def context_of(traceparent: str | None) -> Context | None:
    """The context a traceparent names (None when absent or malformed)."""
    if not traceparent:
        return None
    ctx = _propagator.extract({TRACEPARENT: traceparent})
    return ctx if trace.get_current_span(ctx).get_span_context().is_valid else None


def context_from_metadata(metadata: Any) -> Context | None:
    """The caller's context from gRPC invocation metadata."""
    for key, value in metadata or ():
        if key == TRACEPARENT and isinstance(value, str):
            return context_of(value)
    return None


def ids() -> tuple[str, str]:
    """(trace id, span id) of the span under way in hex, ("", "") when none: for logs."""
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return "", ""
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")
