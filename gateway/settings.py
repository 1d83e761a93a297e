"""Gateway settings, from environment variables (prefix SALON_)."""

from __future__ import annotations

from pydantic import Field

from services.common.settings import BACKENDS, CommonSettings

__all__ = ["BACKENDS", "GatewaySettings"]


class GatewaySettings(CommonSettings):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    database_url: str = "sqlite+aiosqlite:///./gateway.db"
    session_ttl_hours: int = Field(default=24 * 14, ge=1, le=24 * 365)
    session_cookie: str = "salon_session"
    csrf_cookie: str = "salon_csrf"
    # Batch and cache reads per request (off only to measure what they save: bench/).
    dataloaders: bool = True

    # What one GraphQL operation may ask for (gateway/protection). Nested fields with a
    # selection of their own, below the root:
    graphql_max_depth: int = Field(default=12, ge=1, le=100)
    # Aliased fields in a document, fragments counted where they are spread.
    graphql_max_aliases: int = Field(default=30, ge=0, le=1000)
    # Lexical tokens in a document (the parser stops there).
    graphql_max_tokens: int = Field(default=4000, ge=100, le=100_000)
    # Static cost of an operation: 1 per field, a list's fields times its `first` or 10
    # (see gateway/protection/cost.py); reported in `extensions.cost`.
    graphql_max_cost: int = Field(default=20_000, ge=1, le=10_000_000)
    # Bytes of one HTTP request body; more is answered 413 before any parsing.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    # Failed logins per e-mail address and per client address within the window; beyond,
    # `login` answers TOO_MANY_ATTEMPTS without looking at the password.
    login_max_failures: int = Field(default=5, ge=1, le=1000)
    login_max_failures_per_ip: int = Field(default=20, ge=1, le=100_000)
    login_window_seconds: int = Field(default=15 * 60, ge=1, le=24 * 3600)
    # GET /metrics needs `Authorization: Bearer <this>` when set (empty: open, for a
    # Prometheus on a private network; set it when the gateway's port is public).
    metrics_token: str = Field(default="", repr=False)

    # Webhooks (B06, gateway/webhooks): the Fernet key (32 url-safe base64 bytes) that
    # encrypts the endpoints' signing secrets at rest. Empty: a key derived from the first
    # SALON_SCOPE_SECRET (rotating that secret then makes the stored ones unreadable: set
    # this in production).
    webhooks_key: str = Field(default="", repr=False)
    # Seconds between a failed attempt and the next: the n-th failure waits the n-th value;
    # after the last one the delivery is FAILED (so len + 1 attempts in all).
    webhook_retry_seconds: list[float] = Field(
        default=[5, 30, 120, 600, 3600, 6 * 3600, 12 * 3600], min_length=1, max_length=20
    )
    # One attempt's HTTP timeout; how often the sender looks for due deliveries.
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=30)
    webhook_poll_seconds: float = Field(default=1.0, gt=0, le=60)
