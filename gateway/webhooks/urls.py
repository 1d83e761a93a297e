"""What a webhook URL may be. Production: ``https`` only, and a host that is, or resolves
only to, public addresses (no loopback, private, link-local, multicast, reserved...): the
gateway must not become a way into the network it runs in. Development: ``http`` too and
any address, for a receiver on the developer's machine. A URL with credentials
(``user:pass@``) is refused in both (they would sit in the database and the logs)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from services.common.errors import DomainError, ErrorCode

MAX_URL = 2000
FIELD = "url"

Resolver = Callable[[str, int], Awaitable[list[str]]]


async def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (getaddrinfo, in the event loop's executor)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def _invalid(message: str) -> DomainError:
    return DomainError(ErrorCode.INVALID, message, FIELD)


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def parse(url: str, *, production: bool) -> tuple[str, str, int]:
    """(the URL, its host, its port); DomainError INVALID on `url` when it is not one we
    send to. No name resolution here: see `check`."""
    url = url.strip()
    if not url or len(url) > MAX_URL:
        raise _invalid(f"a URL of at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _invalid("not a valid URL") from None
    schemes = ("https",) if production else ("https", "http")
    if parts.scheme not in schemes:
        raise _invalid("the URL must start with https://" if production else "http(s) only")
    if not parts.hostname:
        raise _invalid("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise _invalid("the URL may not carry credentials")
    if parts.fragment:
        raise _invalid("the URL may not have a #fragment")
    return url, parts.hostname, port or (443 if parts.scheme == "https" else 80)


async def check_host(host: str, port: int, resolver: Resolver = resolve) -> None:
    """Production: every address of `host` public, an IP literal included."""
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = await resolver(host, port)
        except OSError:
            raise _invalid(f"{host} does not resolve") from None
    if not addresses:
        raise _invalid(f"{host} does not resolve")
    for address in addresses:
        if not is_public(address):
            raise _invalid(
                f"{host} is a loopback, private, link-local or otherwise non-public address"
            )


async def check(url: str, *, production: bool, resolver: Resolver = resolve) -> str:
    """The URL, trimmed, when it may be registered."""
    url, host, port = parse(url, production=production)
    if production:
        await check_host(host, port, resolver)
    return url
