"""Failed logins throttled per e-mail address and per client address, in the gateway's
database so that every replica counts the same failures.

An attempt is counted before its password is checked (a row under each key), and the row
stays when the check fails: concurrent attempts cannot all pass the count before any of
them has failed. A success deletes the e-mail address's rows (its count starts again) and
the attempt's own row under the client address, never the address's other failures. At
`login_max_failures` rows for the address (or `login_max_failures_per_ip` for the client)
in the last `login_window_seconds`, an attempt is refused without looking at the password.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select

from gateway.settings import GatewaySettings
from gateway.store.tables import login_failures
from services.common.db import Database, advisory_lock, new_id, utcnow
from services.common.validation import email_key

LOCK_NAMESPACE = "login-throttle"

log = logging.getLogger("salon.gateway.login")


def client_key(host: str | None) -> str:
    """The client address as counted: an IPv6 address by its /64 (what one host gets),
    an IPv4-mapped one as IPv4."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


@dataclass(frozen=True)
class Attempt:
    """A login attempt let through (its rows count as failures until it succeeds), or
    refused (`retry_after` seconds until the oldest failure counted leaves the window)."""

    allowed: bool
    email_key: str
    rows: tuple[str, ...] = ()
    retry_after: int = 0


class LoginThrottle:
    def __init__(self, db: Database, settings: GatewaySettings) -> None:
        self.db = db
        self.max_per_email = settings.login_max_failures
        self.max_per_client = settings.login_max_failures_per_ip
        self.window = timedelta(seconds=settings.login_window_seconds)
        self._swept = -math.inf

    async def attempt(self, email: str, client: str | None) -> Attempt:
        by_email = _key("email", email_key(email[:1000]))
        by_client = _key("client", client_key(client))
        limits = {by_email: self.max_per_email, by_client: self.max_per_client}
        now = utcnow()
        since = now - self.window
        async with self.db.write() as conn:
            for key in sorted(limits):  # always in the same order: no deadlock
                await advisory_lock(conn, LOCK_NAMESPACE, key)
            counted = await conn.execute(
                select(
                    login_failures.c.throttle_key,
                    func.count(),
                    func.min(login_failures.c.at),
                )
                .where(
                    login_failures.c.throttle_key.in_(limits),
                    login_failures.c.at > since,
                )
                .group_by(login_failures.c.throttle_key)
            )
            full = [oldest for key, count, oldest in counted if count >= limits[key]]
            if full:
                wait = max(1, math.ceil((max(full) + self.window - now).total_seconds()))
                log.warning("login refused for %ss: too many failures (client %s)", wait, client)
                return Attempt(False, by_email, retry_after=wait)
            rows = {key: new_id() for key in limits}
            await conn.execute(
                login_failures.insert(),
                [{"id": row, "throttle_key": key, "at": now} for key, row in rows.items()],
            )
            # What has left the window: these keys' rows now, everyone's once per window.
            old = login_failures.c.at <= since
            if time.monotonic() - self._swept > self.window.total_seconds():
                self._swept = time.monotonic()
                await conn.execute(delete(login_failures).where(old))
            else:
                await conn.execute(
                    delete(login_failures).where(login_failures.c.throttle_key.in_(limits), old)
                )
        return Attempt(True, by_email, rows=(rows[by_client],))

    async def succeeded(self, attempt: Attempt) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                delete(login_failures).where(
                    (login_failures.c.throttle_key == attempt.email_key)
                    | login_failures.c.id.in_(attempt.rows)
                )
            )
