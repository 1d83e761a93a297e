"""The establishment scope: who is asking, for which organization and establishment.

The gateway builds it from the session (never from request arguments), signs it with
HMAC-SHA256 and sends it as gRPC metadata with every call. The services' interceptor
verifies the signature and its expiry and puts the scope in a ContextVar for the call.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum

from salon.common.v1 import scope_pb2

SCOPE_KEY = "salon-scope-bin"
SIGNATURE_KEY = "salon-scope-sig-bin"


class Role(StrEnum):
    OWNER = "OWNER"
    MANAGER = "MANAGER"
    STAFF = "STAFF"


class Right(StrEnum):
    SWITCH_AGENDA = "SWITCH_AGENDA"
    MANAGE_OTHER_PRODUCTS = "MANAGE_OTHER_PRODUCTS"
    SWITCH_REPORTS = "SWITCH_REPORTS"


def ordered_rights(rights: object) -> list[Right]:
    """Rights in the contract's order, each once."""
    wanted = set(rights)  # type: ignore[call-overload]
    return [r for r in Right if r in wanted]


def role_to_proto(role: Role) -> scope_pb2.Role.ValueType:
    return scope_pb2.Role.Value(f"ROLE_{role.value}")


def role_from_proto(value: int) -> Role:
    return Role(scope_pb2.Role.Name(value).removeprefix("ROLE_"))  # type: ignore[arg-type]


def right_to_proto(right: Right) -> scope_pb2.Right.ValueType:
    return scope_pb2.Right.Value(f"RIGHT_{right.value}")


def right_from_proto(value: int) -> Right:
    return Right(scope_pb2.Right.Name(value).removeprefix("RIGHT_"))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Scope:
    organization_id: str
    establishment_id: str
    user_id: str = ""
    role: Role = Role.STAFF
    rights: frozenset[Right] = field(default_factory=frozenset)
    request_id: str = ""
    # Other establishments of the organization the gateway vouches for in this request.
    verified_establishments: frozenset[str] = field(default_factory=frozenset)
    # Users the gateway checked to be members of the establishment the request acts on.
    verified_members: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_owner(self) -> bool:
        return self.role is Role.OWNER

    def has_right(self, right: Right) -> bool:
        # An owner may do everything in their organization.
        return self.is_owner or right in self.rights

    def to_proto(self, expires_at: int) -> scope_pb2.Scope:
        return scope_pb2.Scope(
            organization_id=self.organization_id,
            establishment_id=self.establishment_id,
            user_id=self.user_id,
            role=role_to_proto(self.role),
            rights=sorted(right_to_proto(r) for r in self.rights),
            expires_at=expires_at,
            request_id=self.request_id,
            verified_establishment_ids=sorted(self.verified_establishments),
            verified_member_ids=sorted(self.verified_members),
        )

    @classmethod
    def from_proto(cls, msg: scope_pb2.Scope) -> Scope:
        return cls(
            organization_id=msg.organization_id,
            establishment_id=msg.establishment_id,
            user_id=msg.user_id,
            role=role_from_proto(msg.role),
            rights=frozenset(right_from_proto(r) for r in msg.rights),
            request_id=msg.request_id,
            verified_establishments=frozenset(msg.verified_establishment_ids),
            verified_members=frozenset(msg.verified_member_ids),
        )


class InvalidScope(Exception):
    pass


class ScopeSigner:
    """Signs scopes (gateway) and verifies them (services)."""

    def __init__(self, secrets: Sequence[bytes], ttl_seconds: int = 60) -> None:
        if not secrets:
            raise ValueError("at least one secret is needed")
        self._secrets = list(secrets)
        self._ttl = ttl_seconds

    def metadata(self, scope: Scope, now: float | None = None) -> tuple[tuple[str, bytes], ...]:
        expires = int((now if now is not None else time.time()) + self._ttl)
        payload = scope.to_proto(expires).SerializeToString()
        signature = hmac.new(self._secrets[0], payload, hashlib.sha256).digest()
        return ((SCOPE_KEY, payload), (SIGNATURE_KEY, signature))

    def verify(self, metadata: Sequence[tuple[str, str | bytes]] | None) -> Scope:
        values = dict(metadata or ())
        payload, signature = values.get(SCOPE_KEY), values.get(SIGNATURE_KEY)
        if not isinstance(payload, bytes) or not isinstance(signature, bytes):
            raise InvalidScope("missing establishment scope")
        if not any(
            hmac.compare_digest(hmac.new(s, payload, hashlib.sha256).digest(), signature)
            for s in self._secrets
        ):
            raise InvalidScope("invalid scope signature")
        try:
            msg = scope_pb2.Scope.FromString(payload)
        except Exception as exc:  # a signed but unparsable scope: refuse, do not crash
            raise InvalidScope("unreadable scope") from exc
        if msg.expires_at < time.time():
            raise InvalidScope("expired scope")
        if not msg.organization_id or not msg.establishment_id:
            raise InvalidScope("scope without organization or establishment")
        return Scope.from_proto(msg)


_current: ContextVar[Scope | None] = ContextVar("salon_scope", default=None)


def current_scope_or_none() -> Scope | None:
    """The verified scope of the call under way, None outside a call (consumers, workers)."""
    return _current.get()


def current_scope() -> Scope:
    scope = _current.get()
    if scope is None:
        raise RuntimeError("no establishment scope in this context")
    return scope


@contextmanager
def scope_context(scope: Scope) -> Iterator[Scope]:
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)
