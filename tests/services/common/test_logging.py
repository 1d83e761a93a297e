"""JSON log lines with the part, request and scope ids; secrets never written (a password,
a bearer token, a provider API key, a secret-named `extra`, a database URL's password)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from services.common import logs
from services.common.scope import Role, Scope, scope_context

SECRETS = [
    "hunter2-very-secret",
    "eyJhbGciOiJIUzI1NiJ9.payload.sig",
    "live_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM",
    "test_Ab12Cd34Ef56Gh78",
    "s3cr3t-db-pass",
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
]


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    logger = logging.getLogger("salon.test.logging")
    handler = logs.handler("booking", "json", stream)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)
    logger.propagate = True


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_part_request_and_scope(capture) -> None:  # type: ignore[no-untyped-def]
    logger, stream = capture
    logger.info("outside any call")
    with scope_context(Scope("org-1", "est-1", "user-1", Role.OWNER, request_id="req-1")):
        logger.warning("booked %s", "appointment 7", extra={"appointment_id": "a7"})
    with logs.request_context(logs.RequestInfo("req-2", "org-2", "est-2")):
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed")
    outside, inside, request = _lines(stream)
    assert outside["part"] == "booking" and outside["message"] == "outside any call"
    assert "request_id" not in outside and "organization_id" not in outside
    assert inside["level"] == "WARNING" and inside["logger"] == "salon.test.logging"
    assert inside["message"] == "booked appointment 7"
    assert (inside["request_id"], inside["organization_id"], inside["establishment_id"]) == (
        "req-1",
        "org-1",
        "est-1",
    )
    assert inside["appointment_id"] == "a7"
    assert str(inside["timestamp"]).endswith("+00:00")
    assert (request["request_id"], request["organization_id"]) == ("req-2", "org-2")
    assert "ValueError: boom" in str(request["exception"])


def test_secrets_are_redacted_in_json_and_text(capture) -> None:  # type: ignore[no-untyped-def]
    logger, stream = capture
    text_stream = io.StringIO()
    text_handler = logs.handler("payments", "text", text_stream)
    logger.addHandler(text_handler)
    try:
        logger.info("login password=%s for ann@example.com", SECRETS[0])
        logger.info("header Authorization: Bearer %s", SECRETS[1])
        logger.info("mollie key %s and %s stored", SECRETS[2], SECRETS[3])
        logger.info('body {"password": "%s", "name": "Ann"}', SECRETS[0])
        logger.info("connect postgresql+asyncpg://salon:%s@db/salon", SECRETS[4])
        logger.info("settings", extra={"api_key": SECRETS[2], "context": {"token": SECRETS[1]}})
        try:
            raise RuntimeError(f"provider refused api_key={SECRETS[3]}")
        except RuntimeError:
            logger.exception("provider call failed")
        logger.info("webhook registered with %s", SECRETS[5])
    finally:
        logger.removeHandler(text_handler)
    output = stream.getvalue() + text_stream.getvalue()
    for secret in SECRETS:
        assert secret not in output
    lines = _lines(stream)
    assert len(lines) == 8
    assert lines[0]["message"] == "login password=[REDACTED] for ann@example.com"
    assert str(lines[1]["message"]).startswith("header Authorization: [REDACTED]")
    assert lines[2]["message"] == "mollie key [REDACTED] and [REDACTED] stored"
    assert '"name": "Ann"' in str(lines[3]["message"])
    assert lines[4]["message"] == "connect postgresql+asyncpg://salon:[REDACTED]@db/salon"
    assert lines[5]["api_key"] == "[REDACTED]"
    assert lines[5]["context"] == {"token": "[REDACTED]"}
    assert "[REDACTED]" in str(lines[6]["exception"])
    assert lines[7]["message"] == "webhook registered with [REDACTED]"
    assert "payments" in text_stream.getvalue() and "[REDACTED]" in text_stream.getvalue()
