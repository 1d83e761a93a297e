"""One NATS connection per process, reconnecting forever."""

from __future__ import annotations

import asyncio
import logging

import nats
from nats.aio.client import Client

from services.common.logs import redact

log = logging.getLogger("salon.nats")


async def connect(url: str, name: str, attempts: int = 60) -> Client:
    """Connect, retrying while the server comes up (the launcher may start it just before)."""
    last: Exception | None = None
    for _ in range(attempts):
        try:
            return await nats.connect(
                url,
                name=name,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                connect_timeout=2,
            )
        except (OSError, nats.errors.Error, TimeoutError) as exc:
            last = exc
            await asyncio.sleep(0.5)
    raise RuntimeError(f"cannot reach NATS at {redact(url)}: {last}")
