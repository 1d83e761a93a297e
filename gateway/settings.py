"""Gateway settings, from environment variables (prefix SALON_)."""

from __future__ import annotations

from pydantic import Field

from services.common.settings import CommonSettings

BACKENDS = ("clients", "catalog", "inventory", "booking", "payments")


class GatewaySettings(CommonSettings):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    database_url: str = "sqlite+aiosqlite:///./gateway.db"
    # host:port of each service's gRPC endpoint.
    clients_addr: str = "127.0.0.1:50051"
    catalog_addr: str = "127.0.0.1:50052"
    inventory_addr: str = "127.0.0.1:50053"
    booking_addr: str = "127.0.0.1:50054"
    payments_addr: str = "127.0.0.1:50055"
    # Deadline of every gRPC call the gateway makes.
    grpc_deadline_seconds: float = Field(default=5.0, gt=0, le=120)
    session_ttl_hours: int = Field(default=24 * 14, ge=1, le=24 * 365)
    session_cookie: str = "salon_session"
    csrf_cookie: str = "salon_csrf"

    def backend_addr(self, name: str) -> str:
        return str(getattr(self, f"{name}_addr"))
