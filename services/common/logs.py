"""Logging for every part: text lines (the developer launcher) or JSON lines (production),
with the request and scope on each record and secrets redacted.

- :class:`ContextFilter` adds ``part``, ``request_id``, ``organization_id`` and
  ``establishment_id`` to every record: from the verified scope of the gRPC call under way
  (services.common.scope) or from the gateway's request (:func:`request_context`); and
  ``trace_id`` / ``span_id`` of the OpenTelemetry span under way, when there is one
  (services.common.tracing; empty, and left out of JSON lines, otherwise).
- :class:`RedactFilter` rewrites every record before any handler formats it: values of
  secret-named keys (password, token, api_key, secret, authorization, cookie...), bearer
  tokens and provider keys (``live_...``/``test_...``) become ``[REDACTED]``.
- :class:`JsonFormatter` writes one JSON object per line.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from services.common import tracing
from services.common.scope import _current as _current_scope

REDACTED = "[REDACTED]"

SECRET_KEY = re.compile(
    r"pass(word|wd|phrase)?|secret|token|api[_-]?key|apikey|authorization|cookie|"
    r"credential|private[_-]?key|session",
    re.IGNORECASE,
)
_KEY = r"[A-Za-z0-9_.-]*(?:pass(?:word|wd|phrase)?|secret|token|api[_-]?key|apikey|authorization|cookie|credential|private[_-]?key)[A-Za-z0-9_.-]*"  # noqa: E501
PATTERNS = (
    # Authorization: Bearer abc..., "Bearer abc..."
    re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+"),
    # Provider API keys: live_xxx / test_xxx (Mollie, Stripe-like keys), access tokens.
    re.compile(r"\b(?:live|test|access)_[A-Za-z0-9]{8,}\b"),
    # Webhook signing secrets (Standard Webhooks): whsec_<base64>.
    re.compile(r"\bwhsec_[A-Za-z0-9+/=]{8,}"),
    # key=value, key: value, "key": "value" for secret-named keys.
    re.compile(
        r"(?i)(?P<key>[\"']?" + _KEY + r"[\"']?\s*[:=]\s*)(?P<value>\"[^\"]*\"|'[^']*'|[^\s,;&}]+)"
    ),
    # URLs with credentials: scheme://user:password@host
    re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^/\s:@]+:)(?P<pw>[^@\s/]+)(?=@)"),
)

# Record attributes of the standard library: everything else on a record is an `extra`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_CONTEXT = ("part", "request_id", "organization_id", "establishment_id", "trace_id", "span_id")


def redact(text: str) -> str:
    """The text with bearer tokens, API keys and secret-named values replaced."""
    bearer, key, webhook_secret, pairs, url = PATTERNS
    text = bearer.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = key.sub(REDACTED, text)
    text = webhook_secret.sub(REDACTED, text)
    text = pairs.sub(lambda m: m.group("key") + REDACTED, text)
    return url.sub(lambda m: m.group("scheme") + REDACTED, text)


def redact_value(key: str, value: Any) -> Any:
    if SECRET_KEY.search(key):
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {str(k): redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value("", v) for v in value]
    return value


@dataclass(frozen=True)
class RequestInfo:
    request_id: str = ""
    organization_id: str = ""
    establishment_id: str = ""


_request: ContextVar[RequestInfo | None] = ContextVar("salon_log_request", default=None)


def set_request(info: RequestInfo) -> None:
    """The gateway's request, for the rest of the task handling it (one task per request)."""
    _request.set(info)


@contextmanager
def request_context(info: RequestInfo) -> Iterator[None]:
    token = _request.set(info)
    try:
        yield
    finally:
        _request.reset(token)


class ContextFilter(logging.Filter):
    """Part name, request id, organization and establishment on every record."""

    def __init__(self, part: str) -> None:
        super().__init__()
        self.part = part

    def filter(self, record: logging.LogRecord) -> bool:
        record.part = self.part
        scope = _current_scope.get()
        request = _request.get()
        if scope is not None:
            record.request_id = scope.request_id
            record.organization_id = scope.organization_id
            record.establishment_id = scope.establishment_id
        elif request is not None:
            record.request_id = request.request_id
            record.organization_id = request.organization_id
            record.establishment_id = request.establishment_id
        else:
            record.request_id = record.organization_id = record.establishment_id = ""
        # The span under way (services/common/tracing.py): a log line finds its trace.
        record.trace_id, record.span_id = tracing.ids()
        return True


class RedactFilter(logging.Filter):
    """The message (arguments merged in), the exception text and every `extra` redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and key not in _CONTEXT:
                setattr(record, key, redact_value(key, value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, logger, message, part, request and
    scope ids, `extra` fields, and the exception when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in _CONTEXT:
            value = getattr(record, key, "")
            if value:
                entry[key] = value
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in _CONTEXT and key not in entry:
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()


def handler(part: str, fmt: str, stream: Any = None) -> logging.Handler:
    """A stream handler with the context and redaction filters and the chosen format."""
    out = logging.StreamHandler(stream if stream is not None else sys.stderr)
    out.addFilter(ContextFilter(part))
    out.addFilter(RedactFilter())
    if fmt == "json":
        out.setFormatter(JsonFormatter())
    else:
        out.setFormatter(
            logging.Formatter(f"%(asctime)s %(levelname)s {part} %(name)s: %(message)s")
        )
    return out


def configure(part: str, level: str, fmt: str = "text", stream: Any = None) -> None:
    """The root logger of a part's process: one handler, replacing any before."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler(part, fmt, stream))
    root.setLevel(level.upper())
