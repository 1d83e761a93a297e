"""Settings every service reads the same way, from environment variables (prefix SALON_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

BACKENDS = ("clients", "catalog", "inventory", "booking", "payments")


class CommonSettings(BaseSettings):
    """What every process (each service and the gateway) needs.

    Each field is the environment variable of the same name with the prefix ``SALON_``
    (``SALON_DATABASE_URL``...). The README lists them all.
    """

    model_config = SettingsConfigDict(env_prefix="SALON_", extra="ignore")

    # development: GraphiQL, gRPC reflection; production: neither, secure cookies.
    mode: str = Field(default="development", pattern="^(development|production)$")
    database_url: str = "sqlite+aiosqlite:///./salon.db"
    db_pool_size: int = Field(default=10, ge=1, le=200)
    nats_url: str = "nats://127.0.0.1:4222"
    # Comma-separated; the first signs, every one verifies (rotation without downtime).
    scope_secret: str = Field(default="", repr=False)
    # How long the gateway's signature on a scope is valid, in seconds.
    scope_ttl_seconds: int = Field(default=60, ge=5, le=3600)
    shutdown_grace_seconds: float = Field(default=10.0, ge=0, le=300)
    events_stream: str = "SALON"
    events_max_age_days: int = Field(default=30, ge=1, le=3650)
    # Copies of the events stream on a JetStream cluster (3 in production); 1 on one server.
    events_replicas: int = Field(default=1, ge=1, le=5)
    log_level: str = "INFO"
    # "text": one readable line per record (the developer launcher); "json": one JSON
    # object per line with the part, request and scope ids (services/common/logs.py).
    log_format: str = Field(default="text", pattern="^(text|json)$")
    # How often the outbox backlog and consumer lag gauges are refreshed (one COUNT/MIN
    # query and one JetStream consumer info per durable), in seconds.
    metrics_refresh_seconds: float = Field(default=5.0, ge=0.05, le=3600)
    # host:port of each service's gRPC endpoint (the gateway calls them all; a service
    # calls the ones ARCHITECTURE.md lists for it).
    clients_addr: str = "127.0.0.1:50051"
    catalog_addr: str = "127.0.0.1:50052"
    inventory_addr: str = "127.0.0.1:50053"
    booking_addr: str = "127.0.0.1:50054"
    payments_addr: str = "127.0.0.1:50055"
    # Deadline of every gRPC call one part makes to another.
    grpc_deadline_seconds: float = Field(default=5.0, gt=0, le=120)

    def backend_addr(self, name: str) -> str:
        return str(getattr(self, f"{name}_addr"))

    @property
    def production(self) -> bool:
        return self.mode == "production"

    def scope_secrets(self) -> list[bytes]:
        secrets = [s.strip().encode() for s in self.scope_secret.split(",") if s.strip()]
        if not secrets:
            raise RuntimeError("SALON_SCOPE_SECRET is not set: the gateway and services need it")
        if self.production and any(len(s) < 32 for s in secrets):
            raise RuntimeError("SALON_SCOPE_SECRET must be at least 32 characters in production")
        return secrets


class ServiceSettings(CommonSettings):
    """A gRPC service: where it listens and how long a call may take."""

    grpc_host: str = "127.0.0.1"
    grpc_port: int = Field(default=0, ge=0, le=65535)
    # Upper bound on the time one RPC may take, whatever deadline the caller sent.
    max_rpc_seconds: float = Field(default=10.0, gt=0, le=300)
    # Prometheus /metrics over HTTP on grpc_host: 0 = a free port chosen at start (logged),
    # -1 = no metrics endpoint.
    metrics_port: int = Field(default=0, ge=-1, le=65535)
