"""The payment providers' API keys at rest: Fernet (AES-128-CBC + HMAC-SHA256) with the
service's key, ``SALON_PAYMENTS_KEY`` (R32). The key never leaves this module in clear
except to the provider adapter, and no message here ever contains it."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from services.payments.settings import PaymentsSettings


class PaymentsKeyError(Exception):
    """The service cannot encrypt or decrypt API keys: no ``SALON_PAYMENTS_KEY``, a value
    that is not a Fernet key, or a stored key encrypted with another one. A set-up problem
    of the service, not of the request: the API answers FAILED_PRECONDITION."""


def _fernet(payments_key: str | None) -> Fernet:
    key = PaymentsSettings().payments_key if payments_key is None else payments_key
    if not key.strip():
        raise PaymentsKeyError("payments key not configured")
    try:
        return Fernet(key.strip().encode())
    except (ValueError, TypeError):
        raise PaymentsKeyError("the payments key is not a Fernet key") from None


def check_configured(payments_key: str | None = None) -> None:
    """Raise PaymentsKeyError before anything is asked of a provider or written."""
    _fernet(payments_key)


def encrypt(api_key: str, payments_key: str | None = None) -> str:
    """The API key encrypted (a url-safe token, with its time and an HMAC)."""
    return _fernet(payments_key).encrypt(api_key.encode()).decode("ascii")


def decrypt(token: str, payments_key: str | None = None) -> str:
    try:
        return _fernet(payments_key).decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        raise PaymentsKeyError(
            "a stored API key cannot be decrypted with the payments key"
        ) from None
