"""The per-request context: the session (from the bearer token or the cookie, never from
arguments), the scope built from it once, its signed metadata, and the DataLoaders."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from gateway.errors import Unauthenticated
from gateway.grpc_clients import BackendUnavailable, NotAvailableYet
from gateway.loaders import Loaders
from gateway.store import tenancy
from services.common import logs
from services.common.db import new_id
from services.common.errors import DomainError
from services.common.rpc import PeerError
from services.common.scope import Scope

if TYPE_CHECKING:
    from gateway.app import AppState

CSRF_HEADER = "x-csrf-token"

T = TypeVar("T")


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket
    state: AppState
    auth: tenancy.SessionInfo | None
    # "bearer" or "cookie": cookie-authenticated mutations need the CSRF header.
    auth_source: str | None
    csrf_ok: bool
    request_id: str = field(default_factory=new_id)
    _metadata: tuple[tuple[str, bytes], ...] | None = None
    # gRPC calls made for this request, per service (reported in the response extensions).
    backend_calls: dict[str, int] = field(default_factory=dict)
    verified_establishments: set[str] = field(default_factory=set)
    verified_members: set[str] = field(default_factory=set)
    # Public operations (R16): the organization of the establishment asked for, no user.
    public: Scope | None = None

    async def call(self, service: str, method: Callable[..., Awaitable[T]], request: Any) -> T:
        """One gRPC call on behalf of this request: signed scope, deadline, counted."""
        self.backend_calls[service] = self.backend_calls.get(service, 0) + 1
        metrics = self.state.metrics
        if metrics is None:
            return await self.state.backends.call(service, method, request, self.metadata())
        started, code = time.perf_counter(), "OK"
        try:
            return await self.state.backends.call(service, method, request, self.metadata())
        except DomainError as exc:
            code = exc.grpc_code.name
            raise
        except PeerError as exc:
            code = exc.code.name
            raise
        except Exception as exc:
            # BackendUnavailable / NotAvailableYet (gateway/errors.py) and the like.
            code = _code_of(exc)
            raise
        finally:
            metrics.observe_backend(service, code, time.perf_counter() - started)

    @cached_property
    def loaders(self) -> Loaders:
        return Loaders(self)

    def session(self, *, mutation: bool = False) -> tenancy.SessionInfo:
        if self.auth is None:
            raise Unauthenticated()
        if mutation and self.auth_source == "cookie" and not self.csrf_ok:
            raise Unauthenticated("cookie sessions need the X-CSRF-Token header on mutations")
        return self.auth

    def scope(self) -> Scope:
        scope = self.public or self.session().scope(self.request_id)
        if self.verified_establishments or self.verified_members:
            scope = replace(
                scope,
                verified_establishments=frozenset(self.verified_establishments),
                verified_members=frozenset(self.verified_members),
            )
        return scope

    def vouch_member(self, user_id: str) -> None:
        """A member of the establishment this request acts on, checked here."""
        if user_id not in self.verified_members:
            self.verified_members.add(user_id)
            self._metadata = None

    def vouch(self, establishment_id: str) -> None:
        """An establishment of the organization this request acts on, checked here: the
        services accept it even before its creation event reaches them."""
        if establishment_id not in self.verified_establishments:
            self.verified_establishments.add(establishment_id)
            self._metadata = None

    def organization_id(self) -> str:
        if self.public is not None:
            return self.public.organization_id
        return self.session().organization_id

    def use_public(self, organization_id: str, establishment_id: str) -> None:
        """A public operation (online booking page): calls run for that organization and
        establishment without a user. A session of the same organization is kept (staff
        looking at their own page); any other is set aside for this request."""
        if self.auth is not None and self.auth.organization_id == organization_id:
            return
        if self.public is not None and self.public.organization_id != organization_id:
            raise Unauthenticated("one request, one organization's public page")
        self.public = Scope(organization_id, establishment_id, request_id=self.request_id)
        self._metadata = None
        self.__dict__.pop("loaders", None)

    @property
    def is_public(self) -> bool:
        return self.public is not None

    def metadata(self) -> tuple[tuple[str, bytes], ...]:
        """The signed scope for this request's gRPC calls (signed once per request)."""
        if self._metadata is None:
            self._metadata = self.state.signer.metadata(self.scope())
        return self._metadata

    def use_session(self, info: tenancy.SessionInfo) -> None:
        """After sign-up, login or a switch: the rest of the request runs in that session."""
        self.auth = info
        self.auth_source = "bearer"
        self._metadata = None
        self.__dict__.pop("loaders", None)

    def set_session_cookie(self, token: str, expires_at: datetime) -> None:
        if not isinstance(self.response, Response):
            return
        settings = self.state.settings
        max_age = int((expires_at - datetime.now(expires_at.tzinfo)).total_seconds())
        self.response.set_cookie(
            settings.session_cookie,
            token,
            max_age=max_age,
            httponly=True,
            secure=settings.production,
            samesite="lax",
            path="/",
        )
        # Double-submit CSRF token: readable by the page, echoed in X-CSRF-Token.
        self.response.set_cookie(
            settings.csrf_cookie,
            secrets.token_urlsafe(24),
            max_age=max_age,
            httponly=False,
            secure=settings.production,
            samesite="lax",
            path="/",
        )

    def clear_session_cookie(self) -> None:
        if isinstance(self.response, Response):
            settings = self.state.settings
            self.response.delete_cookie(settings.session_cookie, path="/")
            self.response.delete_cookie(settings.csrf_cookie, path="/")


def _code_of(exc: Exception) -> str:
    if isinstance(exc, BackendUnavailable):
        return "UNAVAILABLE"
    if isinstance(exc, NotAvailableYet):
        return "UNIMPLEMENTED"
    return "UNKNOWN"


def _bearer(request: Request | WebSocket) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


async def build_context(
    request: Request | WebSocket, response: Response | WebSocket, state: AppState
) -> Context:
    token, source = _bearer(request), "bearer"
    if token is None:
        token, source = request.cookies.get(state.settings.session_cookie), "cookie"
    auth = None
    if token and len(token) <= 200:
        # Across organizations: the token is all a request brings; the session it finds
        # names the organization every later transaction of the request is for.
        async with state.db.read(across_organizations=True) as session:
            auth = await tenancy.resolve_session(session, token)
    csrf_cookie = request.cookies.get(state.settings.csrf_cookie, "")
    csrf_header = request.headers.get(CSRF_HEADER, "")
    csrf_ok = bool(csrf_cookie) and hmac.compare_digest(csrf_cookie, csrf_header)
    request_id = request.headers.get("x-request-id", "")[:64] or new_id()
    # The rest of this request's task logs with its ids (services/common/logs.py).
    logs.set_request(
        logs.RequestInfo(
            request_id,
            auth.organization_id if auth else "",
            auth.establishment_id if auth else "",
        )
    )
    return Context(
        request=request,
        response=response,
        state=state,
        auth=auth,
        auth_source=source if auth else None,
        csrf_ok=csrf_ok,
        request_id=request_id,
    )
