"""The Mollie adapter: the official client (`mollie-api-python`), which is synchronous, run
in a worker thread with a time limit, so that a slow provider never blocks the event loop
and never holds a call longer than the limit.

Failures come back as what the caller can act on:
- a key Mollie refuses (401): INVALID "the provider refused this API key" (field apiKey);
- a payment Mollie does not know for this key (404): NOT_FOUND;
- another refusal of the request (4xx): INVALID with Mollie's explanation;
- Mollie unreachable, failing (5xx), answering nonsense or too slowly: UNAVAILABLE
  (services.common.rpc.PeerError, which the server answers "the mollie service is
  unavailable"; the caller may retry).
The API key is only ever put in the Authorization header by the client; no message or log
line here contains it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import grpc
from mollie.api.client import Client
from mollie.api.error import (
    Error,
    IdentifierError,
    NotFoundError,
    RequestError,
    ResponseError,
    UnauthorizedError,
)

from services.common.errors import DomainError, ErrorCode, invalid, not_found
from services.common.money import format_amount
from services.common.rpc import PeerError
from services.payments.provider.model import is_access_token

log = logging.getLogger("salon.payments.mollie")

T = TypeVar("T")

# Connect and read timeouts of one HTTP request, and the limit of a whole call (the
# client may retry a failed connect once).
CONNECT_TIMEOUT = 2
READ_TIMEOUT = 5
CALL_TIMEOUT = 8.0


@dataclass(frozen=True)
class ProviderPayment:
    id: str
    # Mollie's: open, pending, authorized, paid, canceled, expired, failed.
    status: str
    # Where the client pays (open payments); empty once there is nothing left to pay.
    checkout_url: str
    metadata: dict[str, Any]


def _unavailable(detail: str) -> PeerError:
    return PeerError("mollie", grpc.StatusCode.UNAVAILABLE, detail)


class Mollie:
    def __init__(self, api_url: str, timeout: float = CALL_TIMEOUT) -> None:
        self.api_url = api_url
        self.timeout = timeout

    def _client(self, api_key: str) -> Client:
        client = Client(timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), retry=1)
        client.set_api_endpoint(self.api_url)
        if is_access_token(api_key):
            client.set_access_token(api_key)
        else:
            client.set_api_key(api_key)
        return client

    async def _run(self, what: str, call: Callable[[], T]) -> T:
        try:
            return await asyncio.wait_for(asyncio.to_thread(call), timeout=self.timeout)
        except TimeoutError:
            log.warning("mollie: %s took longer than %ss", what, self.timeout)
            raise _unavailable(f"{what}: no answer in time") from None
        except UnauthorizedError:
            raise invalid("apiKey", "the provider refused this API key") from None
        except (NotFoundError, IdentifierError):
            raise not_found("provider payment", "paymentId") from None
        except ResponseError as exc:
            if exc.status is not None and int(exc.status) >= 500:
                log.warning("mollie: %s failed with %s", what, exc.status)
                raise _unavailable(f"{what}: status {exc.status}") from None
            raise DomainError(
                ErrorCode.INVALID, f"the provider refused the request: {exc}", exc.field
            ) from None
        except (RequestError, Error) as exc:
            # Unreachable, a broken connection, an answer that is not Mollie's JSON.
            log.warning("mollie: %s failed: %s", what, type(exc).__name__)
            raise _unavailable(f"{what}: {type(exc).__name__}") from None

    async def check_key(self, api_key: str, account_id: str) -> None:
        """Ask Mollie something only a valid key may ask. An API key: its payment methods
        (GET /v2/methods, answered for every API key); an access token: the profile the
        account id names (GET /v2/profiles/<id>)."""

        def call() -> None:
            client = self._client(api_key)
            if is_access_token(api_key):
                client.profiles.get(account_id)
            else:
                client.methods.list()

        try:
            await self._run("checking the API key", call)
        except DomainError as exc:
            if exc.code is ErrorCode.NOT_FOUND:
                raise invalid("accountId", "the provider does not know this profile") from None
            raise

    async def create_payment(
        self,
        api_key: str,
        account_id: str,
        *,
        amount: Decimal,
        description: str,
        redirect_url: str,
        webhook_url: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> ProviderPayment:
        """POST /v2/payments. `idempotency_key` (the deposit id): a retry of the same
        request within Mollie's idempotency window answers the same payment."""
        data: dict[str, Any] = {
            "amount": {"currency": "EUR", "value": format_amount(amount)},
            "description": description,
            "redirectUrl": redirect_url,
            "metadata": metadata,
        }
        if webhook_url:
            data["webhookUrl"] = webhook_url
        if is_access_token(api_key):
            data["profileId"] = account_id

        def call() -> ProviderPayment:
            payment = self._client(api_key).payments.create(data, idempotency_key=idempotency_key)
            return _payment(payment)

        return await self._run("creating a payment", call)

    async def get_payment(self, api_key: str, payment_id: str) -> ProviderPayment:
        """GET /v2/payments/<id>; NOT_FOUND when Mollie does not know it for this key."""

        def call() -> ProviderPayment:
            return _payment(self._client(api_key).payments.get(payment_id))

        return await self._run("reading a payment", call)


def _payment(payment: Any) -> ProviderPayment:
    if not payment.id or not payment.status:
        raise Error("a payment without id or status")
    metadata = payment.metadata
    return ProviderPayment(
        id=str(payment.id),
        status=str(payment.status),
        checkout_url=str(payment.checkout_url or ""),
        metadata=dict(metadata) if isinstance(metadata, dict) else {},
    )
