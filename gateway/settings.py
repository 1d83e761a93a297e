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
