"""The gateway's part of a trace: one SERVER span per GraphQL operation over HTTP, the
parent of the gRPC calls the resolvers make (services/common/rpc.py adds the traceparent
to their metadata) and of the database work and events of the gateway itself.

Installed only with tracing on (services/common/tracing.py); a ``traceparent`` header on
the request (a frontend that traces) makes the operation its child. Subscriptions over
WebSocket get no span: one would last as long as the subscription.
"""

from __future__ import annotations

from collections.abc import Iterator

from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension

from services.common import tracing


class GraphQLTracing(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        ctx = self.execution_context
        request = getattr(ctx.context, "request", None)
        if request is None or isinstance(request, WebSocket):
            yield
            return
        parent = tracing.context_of(request.headers.get(tracing.TRACEPARENT))
        request_id = getattr(ctx.context, "request_id", "")
        with tracing.span(
            "graphql",
            kind=tracing.SpanKind.SERVER,
            parent=parent,
            attributes={"salon.request_id": request_id} if request_id else None,
        ) as span:
            yield
            if span is None:
                return
            try:
                name, kind = ctx.operation_name, ctx.operation_type.value
            except Exception:  # an unparsable document has neither
                name, kind = None, ""
            if kind:
                span.set_attribute("graphql.operation.type", kind)
                span.update_name(f"{kind} {name}" if name else kind)
            if name:
                span.set_attribute("graphql.operation.name", name)
            auth = getattr(ctx.context, "auth", None)
            if auth is not None:
                span.set_attribute("salon.organization_id", auth.organization_id)
                span.set_attribute("salon.establishment_id", auth.establishment_id)
            errors = ctx.pre_execution_errors or (ctx.result.errors if ctx.result else None)
            if errors:
                # Counted, not a failed span: most are the caller's (validation, NOT_FOUND).
                span.set_attribute("graphql.errors", len(errors))
