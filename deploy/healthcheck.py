"""Container health check for the salon image (used by deploy/compose.yaml; Kubernetes
probes the parts itself: gRPC health on the services, HTTP on the gateway).

    python /opt/salon/healthcheck.py grpc [PORT]   # grpc.health.v1 Check(""): SERVING?
    python /opt/salon/healthcheck.py http [URL]    # GET URL answers 200?

PORT defaults to $SALON_GRPC_PORT (50051), URL to http://127.0.0.1:$SALON_PORT/readyz.
Exit 0 when healthy, 1 when not (the reason on stderr). Only the standard library and grpcio,
which the image has, so that it runs in the read-only container as it is.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 3.0


def check_grpc(port: int, timeout: float = TIMEOUT_SECONDS) -> str | None:
    """None when the server at 127.0.0.1:PORT answers SERVING, else why not."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=timeout
            )
        except grpc.RpcError as exc:
            return f"gRPC health check on port {port} failed: {exc.code().name}"
    if reply.status != health_pb2.HealthCheckResponse.SERVING:
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        return f"gRPC health on port {port} is {status}"
    return None


def check_http(url: str, timeout: float = TIMEOUT_SECONDS) -> str | None:
    """None when GET URL answers 200, else why not."""
    if not url.startswith(("http://", "https://")):
        return f"not an http(s) URL: {url}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:  # noqa: S310 (scheme checked)
            status = int(reply.status)
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, urllib.error.URLError) as exc:
        return f"GET {url} failed: {exc}"
    return None if status == 200 else f"GET {url} answered {status}"


def main(argv: list[str]) -> int:
    kind = argv[0] if argv else ""
    if kind == "grpc":
        port = int(argv[1]) if len(argv) > 1 else int(os.environ.get("SALON_GRPC_PORT", "50051"))
        problem = check_grpc(port)
    elif kind == "http":
        default = f"http://127.0.0.1:{os.environ.get('SALON_PORT', '8000')}/readyz"
        problem = check_http(argv[1] if len(argv) > 1 else default)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
