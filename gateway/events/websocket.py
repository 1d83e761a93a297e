"""GraphQL over WebSocket (graphql-transport-ws): subscriptions only.

The session comes from the `connection_init` payload (``{"Authorization": "Bearer <token>"}``)
or, for a browser on the gateway's own origin, from the session cookie of the handshake
(Strawberry refuses handshakes from other origins). Without a valid session the connection
is closed with 4403 before any operation. One context lives as long as the connection, so
queries and mutations, whose context caches loaders and a signed scope with a short life,
stay on HTTP: over the socket they answer an error.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from graphql import (
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
    parse,
)
from graphql.error import GraphQLSyntaxError
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage

from gateway.context import Context, build_context
from gateway.protection.cost import CostLimit
from gateway.protection.limits import Limits
from gateway.store import tenancy

if TYPE_CHECKING:
    from gateway.app import AppState

MAX_TOKEN = 200
# As the schema's MaxTokensLimiter: a document is parsed here before the schema sees it.
MAX_TOKENS = 4000
# Subscriptions one connection may run at once.
MAX_SUBSCRIPTIONS = 10


@dataclasses.dataclass
class SocketContext(Context):
    """The context of one WebSocket connection; Strawberry puts the connection_init
    payload in `connection_params`."""

    connection_params: dict[str, Any] | None = None


async def socket_context(websocket: WebSocket, state: AppState) -> SocketContext:
    base = await build_context(websocket, websocket, state)
    return SocketContext(**{f.name: getattr(base, f.name) for f in dataclasses.fields(base)})


def _bearer(params: dict[str, Any]) -> str | None:
    for key, value in params.items():
        if key.lower() == "authorization":
            scheme, _, token = value.partition(" ") if isinstance(value, str) else ("", "", "")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return ""  # an Authorization that is not a bearer token: refused
    return None


async def authenticate(context: SocketContext) -> None:
    """On connection_init: the payload's bearer token, else the handshake's session (its
    cookie or Authorization header); none, or an invalid one: ConnectionRejectionError."""
    token = _bearer(context.connection_params or {})
    if token is not None:
        info = None
        if token and len(token) <= MAX_TOKEN:
            # Across organizations: the token is all the connection brings (as
            # gateway/context.py); the session found names the organization.
            async with context.state.db.read(across_organizations=True) as conn:
                info = await tenancy.resolve_session(conn, token)
        if info is None:
            raise ConnectionRejectionError()
        context.use_session(info)
    if context.auth is None:
        raise ConnectionRejectionError()


class SubscriptionsOnly(BaseGraphQLTransportWSHandler[Context, None]):
    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and message.get("id") not in self.operations:
            errors = self._refusals(message)
            if errors:
                await self.send_message(
                    {"id": message["id"], "type": "error", "payload": [e.formatted for e in errors]}
                )
                return
        await super().handle_subscribe(message)

    def _refusals(self, message: SubscribeMessage) -> list[GraphQLError]:
        """What refuses the operation before it runs: a query or mutation (HTTP only), and
        the `first` cap and cost limit, which Strawberry's subscription path does not take
        from the schema's CostLimit extension (depth, aliases and tokens it does)."""
        parsed = _operation(message)
        if parsed is None:
            return []  # the base handler reports the syntax error or missing operation
        document, operation, variables = parsed
        if operation.operation is not OperationType.SUBSCRIPTION:
            return [
                GraphQLError(
                    "only subscriptions over WebSocket: send queries and mutations over HTTP",
                    extensions={"code": "INVALID"},
                )
            ]
        limits: Limits = getattr(self.view, "limits", None) or Limits()
        return CostLimit.refusals(
            self.schema._schema,  # type: ignore[attr-defined]
            document,
            operation,
            variables,
            limits.max_cost,
            limits.max_first,
            limits.list_size,
        )[1]


def _operation(
    message: SubscribeMessage,
) -> tuple[DocumentNode, OperationDefinitionNode, dict[str, Any]] | None:
    """The parsed document, its operation and the variables; None when the document does not
    say (the base handler then reports the syntax error or the missing operation)."""
    payload = message.get("payload") or {}
    query = payload.get("query")
    if not isinstance(query, str):
        return None
    try:
        document = parse(query, max_tokens=MAX_TOKENS)
    except GraphQLSyntaxError:
        return None
    name = payload.get("operationName")
    operation = get_operation_ast(document, name if isinstance(name, str) else None)
    if operation is None:
        return None
    variables = payload.get("variables")
    return document, operation, variables if isinstance(variables, dict) else {}
