"""A local HTTP server that plays the part of Mollie's API v2 for the tests: real HTTP on a
free loopback port, in a thread, answering the JSON shapes the official client parses
(``resource``, ``id``, ``status``, ``amount``, ``_links``, ``_embedded``, ``count``; errors
as ``{"status": 401, "title": ..., "detail": ...}``).

What it knows: the API keys (and access tokens with their profiles) it was given; the
payments created through it, each owned by the key that created it (another key gets 404,
as with Mollie). Every request is recorded (method, path, key, body) so a test can see
which establishment's key was used. Tests move a payment on with :meth:`set_status`, as a
client paying would.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

AMOUNT = re.compile(r"^\d+\.\d{2}$")
HAL = "application/hal+json"


def api_key(mode: str = "test") -> str:
    """A key of Mollie's shape: test_ or live_ and 30 letters and digits."""
    return f"{mode}_" + secrets.token_hex(15)


def access_token() -> str:
    return "access_" + secrets.token_hex(20)


@dataclass
class Request:
    method: str
    path: str
    key: str
    body: dict[str, Any] | None


@dataclass
class FakeMollie:
    url: str = ""
    # API key or access token → the profile id it belongs to.
    keys: dict[str, str] = field(default_factory=dict)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Payment id → the key that created it.
    owners: dict[str, str] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_key(self, key: str, profile_id: str = "") -> str:
        with self.lock:
            self.keys[key] = profile_id or "pfl_" + secrets.token_hex(5)
        return key

    def set_status(self, payment_id: str, status: str) -> None:
        with self.lock:
            payment = self.payments[payment_id]
            payment["status"] = status
            now = _now()
            if status == "paid":
                payment["paidAt"] = now
            elif status in ("failed", "expired", "canceled"):
                payment[f"{status}At"] = now
            if status != "open":
                payment["_links"].pop("checkout", None)

    def requests_to(self, method: str, prefix: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.method == method and r.path.startswith(prefix)]

    def keys_used(self, method: str, prefix: str) -> list[str]:
        return [r.key for r in self.requests_to(method, prefix)]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _error(status: int, title: str, detail: str, field_name: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": status,
        "title": title,
        "detail": detail,
        "_links": {
            "documentation": {
                "href": "https://docs.mollie.com/overview/handling-errors",
                "type": "text/html",
            }
        },
    }
    if field_name:
        body["field"] = field_name
    return body


def _handler(state: FakeMollie) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", HAL)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _key(self) -> str:
            auth = self.headers.get("Authorization", "")
            return auth.removeprefix("Bearer ").strip()

        def _body(self) -> dict[str, Any] | None:
            length = int(self.headers.get("Content-Length") or 0)
            if not length:
                return None
            raw = self.rfile.read(length)
            try:
                parsed = json.loads(raw)
            except ValueError:
                return {}
            return parsed if isinstance(parsed, dict) else {}

        def _handle(self, method: str) -> None:
            key = self._key()
            body = self._body() if method in ("POST", "PATCH") else None
            path = self.path.split("?", 1)[0].rstrip("/")
            with state.lock:
                state.requests.append(Request(method, path, key, body))
                known = key in state.keys
            if not known:
                self._send(
                    401,
                    _error(
                        401,
                        "Unauthorized Request",
                        "Missing authentication, or failed to authenticate",
                    ),
                )
                return
            if method == "GET" and path == "/v2/methods":
                self._send(200, _methods())
            elif method == "GET" and path.startswith("/v2/profiles/"):
                self._profile(key, path.removeprefix("/v2/profiles/"))
            elif method == "POST" and path == "/v2/payments":
                self._create(key, body or {})
            elif method == "GET" and path.startswith("/v2/payments/"):
                self._get(key, path.removeprefix("/v2/payments/"))
            else:
                self._send(404, _error(404, "Not Found", "The resource does not exist"))

        def _profile(self, key: str, profile_id: str) -> None:
            with state.lock:
                own = state.keys[key]
            if profile_id not in ("me", own):
                self._send(404, _error(404, "Not Found", "No profile exists with this id"))
                return
            self._send(
                200,
                {
                    "resource": "profile",
                    "id": own,
                    "mode": "test",
                    "name": "Salon",
                    "status": "verified",
                    "_links": {"self": {"href": f"{state.url}/v2/profiles/{own}"}},
                },
            )

        def _create(self, key: str, body: dict[str, Any]) -> None:
            amount = body.get("amount")
            if (
                not isinstance(amount, dict)
                or amount.get("currency") != "EUR"
                or not AMOUNT.match(str(amount.get("value", "")))
            ):
                self._send(422, _error(422, "Unprocessable Entity", "Invalid amount", "amount"))
                return
            for name in ("description", "redirectUrl"):
                if not body.get(name):
                    self._send(
                        422,
                        _error(422, "Unprocessable Entity", f"The {name} is required", name),
                    )
                    return
            if key.startswith("access_") and body.get("profileId") != state.keys[key]:
                self._send(
                    422,
                    _error(422, "Unprocessable Entity", "The profile id is invalid", "profileId"),
                )
                return
            payment_id = "tr_" + secrets.token_hex(5)
            payment: dict[str, Any] = {
                "resource": "payment",
                "id": payment_id,
                "mode": "test" if key.startswith(("test_", "access_")) else "live",
                "createdAt": _now(),
                "status": "open",
                "isCancelable": False,
                "amount": amount,
                "description": body["description"],
                "method": None,
                "metadata": body.get("metadata"),
                "profileId": state.keys[key],
                "sequenceType": "oneoff",
                "redirectUrl": body["redirectUrl"],
                "webhookUrl": body.get("webhookUrl"),
                "expiresAt": (datetime.now(UTC) + timedelta(minutes=15)).isoformat(),
                "_links": {
                    "self": {"href": f"{state.url}/v2/payments/{payment_id}", "type": HAL},
                    "checkout": {
                        "href": f"https://www.mollie.com/checkout/select-method/{payment_id}",
                        "type": "text/html",
                    },
                },
            }
            with state.lock:
                state.payments[payment_id] = payment
                state.owners[payment_id] = key
            self._send(201, payment)

        def _get(self, key: str, payment_id: str) -> None:
            with state.lock:
                payment = state.payments.get(payment_id)
                owner = state.owners.get(payment_id)
                copy = json.loads(json.dumps(payment)) if payment is not None else None
            if copy is None or owner != key:
                self._send(
                    404, _error(404, "Not Found", f"No payment exists with token {payment_id}.")
                )
                return
            self._send(200, copy)

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

        def do_DELETE(self) -> None:
            self._handle("DELETE")

    return Handler


def _methods() -> dict[str, Any]:
    methods = [
        {
            "resource": "method",
            "id": method,
            "description": name,
            "status": "activated",
            "image": {"size1x": "", "size2x": "", "svg": ""},
            "_links": {"self": {"href": f"https://api.mollie.com/v2/methods/{method}"}},
        }
        for method, name in (("bancontact", "Bancontact"), ("ideal", "iDEAL"))
    ]
    return {
        "_embedded": {"methods": methods},
        "count": len(methods),
        "_links": {"self": {"href": "https://api.mollie.com/v2/methods"}},
    }


@contextmanager
def fake_mollie() -> Iterator[FakeMollie]:
    """A running fake Mollie; its base URL (for SALON_MOLLIE_API_URL) is `.url`."""
    state = FakeMollie()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="fake-mollie", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
