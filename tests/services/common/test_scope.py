"""The signed scope: only the gateway's signature is accepted, and only for a short time."""

from __future__ import annotations

import time

import pytest

from services.common.scope import (
    SCOPE_KEY,
    SIGNATURE_KEY,
    InvalidScope,
    Right,
    Role,
    Scope,
    ScopeSigner,
)

SECRET = b"s" * 32
SCOPE = Scope("org-a", "est-1", "user-1", Role.MANAGER, frozenset({Right.SWITCH_AGENDA}), "r1")


def test_a_signed_scope_round_trips() -> None:
    signer = ScopeSigner([SECRET])
    assert signer.verify(signer.metadata(SCOPE)) == SCOPE


def test_missing_scope_is_refused() -> None:
    with pytest.raises(InvalidScope, match="missing"):
        ScopeSigner([SECRET]).verify([])


def test_a_scope_signed_with_another_secret_is_refused() -> None:
    forged = ScopeSigner([b"x" * 32]).metadata(SCOPE)
    with pytest.raises(InvalidScope, match="signature"):
        ScopeSigner([SECRET]).verify(forged)


def test_a_tampered_scope_is_refused() -> None:
    """Swapping the organization in a signed scope breaks the signature (R01)."""
    signer = ScopeSigner([SECRET])
    md = dict(signer.metadata(SCOPE))
    other = Scope("org-b", "est-9", "user-1", Role.OWNER).to_proto(int(time.time()) + 60)
    md[SCOPE_KEY] = other.SerializeToString()
    with pytest.raises(InvalidScope, match="signature"):
        signer.verify(list(md.items()))


def test_an_expired_scope_is_refused() -> None:
    signer = ScopeSigner([SECRET], ttl_seconds=60)
    old = signer.metadata(SCOPE, now=time.time() - 120)
    with pytest.raises(InvalidScope, match="expired"):
        signer.verify(old)


def test_secrets_rotate_without_downtime() -> None:
    old, new = b"o" * 32, b"n" * 32
    signed_by_old = ScopeSigner([old]).metadata(SCOPE)
    assert ScopeSigner([new, old]).verify(signed_by_old) == SCOPE
    with pytest.raises(InvalidScope):
        ScopeSigner([new]).verify(signed_by_old)


def test_owner_has_every_right_and_staff_only_theirs() -> None:
    owner = Scope("o", "e", "u", Role.OWNER)
    staff = Scope("o", "e", "u", Role.STAFF, frozenset({Right.SWITCH_REPORTS}))
    assert all(owner.has_right(r) for r in Right)
    assert staff.has_right(Right.SWITCH_REPORTS)
    assert not staff.has_right(Right.SWITCH_AGENDA)


def test_signature_key_names_are_binary_metadata() -> None:
    assert SCOPE_KEY.endswith("-bin") and SIGNATURE_KEY.endswith("-bin")
