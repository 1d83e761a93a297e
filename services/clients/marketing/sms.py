"""SMS senders (R30), chosen by the environment (services/clients/settings.py):

- :class:`FolderSmsSender`, the embedded default: each SMS a JSON file
  ``<SALON_SMS_DIR>/<message id>.json``, written whole or not at all (like the mailbox);
- :class:`HttpSmsSender`: one ``POST`` of JSON ``{"id", "from", "to", "text"}`` to
  ``SALON_SMS_URL`` per SMS, with ``Idempotency-Key: <message id>`` (a provider that honours
  it drops the copy a crash between its answer and our record could cause) and, when
  ``SALON_SMS_TOKEN`` is set, ``Authorization: Bearer <token>``. A 2xx is accepted; a 4xx
  other than 408 and 429 is a refusal for good (:class:`Refused`, not retried); anything
  else (5xx, 408, 429, no answer) is tried again later.

Another provider is one class with the same ``send``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx
import orjson

from services.clients.settings import MarketingSettings
from services.common.mail import Refused, write_whole

_RETRYABLE_4XX = frozenset({408, 429})


@dataclass(frozen=True)
class Sms:
    id: str
    sender: str
    to: str
    text: str

    def as_json(self) -> bytes:
        return orjson.dumps({"id": self.id, "from": self.sender, "to": self.to, "text": self.text})


class SmsSender(Protocol):
    async def send(self, sms: Sms) -> None:
        """Hand the SMS over; return only once it is accepted. Refused for a permanent
        refusal, anything else for a failure worth another attempt."""

    async def close(self) -> None: ...


class FolderSmsSender:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(self, sms: Sms) -> None:
        await asyncio.to_thread(write_whole, self.folder, f"{sms.id}.json", sms.as_json())

    async def close(self) -> None:
        return None


class HttpSmsSender:
    def __init__(self, url: str, token: str = "", timeout: float = 10.0) -> None:
        self.url = url
        self.token = token
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None

    async def send(self, sms: Sms) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        headers = {"Content-Type": "application/json", "Idempotency-Key": sms.id}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        response = await self._client.post(self.url, content=sms.as_json(), headers=headers)
        status = response.status_code
        if 200 <= status < 300:
            return
        detail = f"HTTP {status}: {response.text[:200]}"
        if 400 <= status < 500 and status not in _RETRYABLE_4XX:
            raise Refused(detail)
        raise ConnectionError(detail)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def sms_sender_for(settings: MarketingSettings) -> SmsSender:
    """The HTTP sender when SALON_SMS_URL is set, the folder otherwise."""
    if settings.use_sms_http:
        return HttpSmsSender(settings.sms_url, settings.sms_token, settings.sms_timeout_seconds)
    return FolderSmsSender(settings.sms_dir)
