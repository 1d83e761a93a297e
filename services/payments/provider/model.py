"""Payment terminals (R31) and the payment provider connection (R32): what they are and
which input is allowed, checked before anything is asked of the provider or written.

- A terminal is assigned to one establishment by its serial; the same serial may be
  assigned to several establishments of the organization (R31), once per establishment.
- A provider account is connected per establishment; the same account may be connected to
  several (R32). The API key is checked with the provider, stored encrypted and never
  returned, logged or published.
- A provider payment's status decides its deposit's (R17): paid → PAID; failed, expired,
  canceled → FAILED; anything else (open, pending, authorized) leaves it waiting.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from services.common import validation
from services.common.errors import invalid

MOLLIE = "mollie"
PROVIDERS = frozenset({MOLLIE})

SERIAL = re.compile(r"^[A-Z0-9-]{3,64}$")
MAX_TERMINAL_NAME = 100
MAX_ACCOUNT_ID = 64
# Mollie's API keys: live_ or test_ and 30 letters and digits; its organization access
# tokens: access_ and letters and digits.
API_KEY = re.compile(r"^(live|test)_[A-Za-z0-9]{30}$")
ACCESS_TOKEN = re.compile(r"^access_[A-Za-z0-9]{20,200}$")
PROFILE_ID = re.compile(r"^pfl_[A-Za-z0-9]{1,60}$")
MAX_URL = 500
PAYMENT_ID = re.compile(r"^tr_[A-Za-z0-9]{1,60}$")


@dataclass(frozen=True)
class Terminal:
    id: str
    serial: str
    name: str
    establishment_id: str


@dataclass(frozen=True)
class Connection:
    """An establishment's provider account; `api_key_encrypted` only ever in this form."""

    establishment_id: str
    provider: str
    account_id: str
    api_key_encrypted: str
    connected_at: datetime


class PaymentOutcome(StrEnum):
    """What a provider payment's status means for its deposit."""

    PAID = "PAID"
    FAILED = "FAILED"
    WAITING = "WAITING"


def check_serial(value: str) -> str:
    """Stripped and upper-cased: " ab-123 " and "AB-123" are one terminal."""
    serial = unicodedata.normalize("NFKC", value or "").strip().upper()
    if not serial:
        raise invalid("serial", "must not be empty")
    if not SERIAL.match(serial):
        raise invalid("serial", "must be 3 to 64 letters, digits or dashes")
    return serial


def check_terminal_name(value: str) -> str:
    return validation.name(value, "name", MAX_TERMINAL_NAME)


def check_provider(value: str) -> str:
    provider = (value or "").strip().lower()
    if provider not in PROVIDERS:
        raise invalid("provider", "must be mollie")
    return provider


def check_account_id(value: str) -> str:
    account = (value or "").strip()
    if not account:
        raise invalid("accountId", "must not be empty")
    if len(account) > MAX_ACCOUNT_ID:
        raise invalid("accountId", f"must be at most {MAX_ACCOUNT_ID} characters")
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in account):
        raise invalid("accountId", "must not contain spaces or control characters")
    return account


def is_access_token(api_key: str) -> bool:
    return api_key.startswith("access_")


def check_api_key(value: str, account_id: str) -> str:
    """A Mollie API key (live_/test_ + 30 letters and digits) or an organization access
    token (access_...). With an access token Mollie needs to know which profile a payment
    is for: the account id is then that profile's id (pfl_...). The message never repeats
    the key."""
    key = (value or "").strip()
    if not key:
        raise invalid("apiKey", "must not be empty")
    if API_KEY.match(key):
        return key
    if ACCESS_TOKEN.match(key):
        if not PROFILE_ID.match(account_id):
            raise invalid(
                "accountId", "with an access token, must be the Mollie profile id (pfl_...)"
            )
        return key
    raise invalid(
        "apiKey", "must be a Mollie API key (live_ or test_ and 30 letters or digits) or token"
    )


def check_payment_id(value: str) -> str:
    payment_id = (value or "").strip()
    if not PAYMENT_ID.match(payment_id):
        raise invalid("paymentId", "must be a Mollie payment id (tr_...)")
    return payment_id


def check_redirect_url(value: str) -> str:
    """Where the provider sends the client back after paying (the booking page): an
    absolute http(s) URL. Empty is refused: the provider needs one (RecordDeposit falls
    back on SALON_PUBLIC_URL before asking)."""
    url = (value or "").strip()
    if not url:
        raise invalid("redirectUrl", "is needed to pay online (or set SALON_PUBLIC_URL)")
    if len(url) > MAX_URL:
        raise invalid("redirectUrl", f"must be at most {MAX_URL} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid("redirectUrl", "must be an http or https URL")
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in url):
        raise invalid("redirectUrl", "must not contain spaces or control characters")
    return url


def outcome(provider_status: str) -> PaymentOutcome:
    """Mollie's payment statuses: open, pending, authorized, paid, canceled, expired,
    failed. Only paid pays a deposit; an authorized payment is not captured money yet."""
    if provider_status == "paid":
        return PaymentOutcome.PAID
    if provider_status in ("failed", "expired", "canceled"):
        return PaymentOutcome.FAILED
    return PaymentOutcome.WAITING
