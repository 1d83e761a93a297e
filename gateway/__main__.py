"""python -m gateway: serve the GraphQL gateway with uvicorn."""

from __future__ import annotations

import uvicorn

from gateway.app import create_app
from gateway.settings import GatewaySettings
from services.common import tracing
from services.common.runtime import configure_logging


def main() -> None:
    settings = GatewaySettings()
    configure_logging("gateway", settings.log_level, settings.log_format)
    tracing.configure("gateway")  # OTLP export of traces when OTEL_* name an endpoint
    try:
        _serve(settings)
    finally:
        tracing.shutdown()  # the spans still queued go out


def _serve(settings: GatewaySettings) -> None:
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level.lower(),
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        server_header=False,
    )


if __name__ == "__main__":
    main()
