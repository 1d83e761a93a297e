"""deploy/Dockerfile and the health check the containers run (deploy/healthcheck.py).

No Docker engine runs here, so the image itself is not built by the tests: the Dockerfile is
read for what the deployment relies on (one image whose entrypoint is `salon run`, an
unprivileged user, byte-code compiled at build time for a read-only root filesystem, a build
context that holds everything the COPY lines name), and the health check script is run
against real servers: a gRPC health server and an HTTP server on loopback.
"""

from __future__ import annotations

import importlib.util
import json
import re
import threading
from collections.abc import Iterator
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from launcher.cli import PARTS
from launcher.stack import free_port
from tests.deploy.kube import DEPLOY, ROOT

DOCKERFILE = DEPLOY / "Dockerfile"
IGNORE = DEPLOY / "Dockerfile.dockerignore"
HEALTHCHECK_IN_IMAGE = "/opt/salon/healthcheck.py"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def test_one_image_runs_any_part_as_salon_run() -> None:
    stage = dict(final_stage())
    assert json.loads(stage["ENTRYPOINT"]) == ["salon", "run"]
    assert json.loads(stage["CMD"])[0] in PARTS
    assert [rest for keyword, rest in instructions() if keyword == "ARG"] == [
        "PYTHON_IMAGE=python:3.11-slim"
    ]
    assert [rest for keyword, rest in instructions() if keyword == "FROM"] == [
        "${PYTHON_IMAGE} AS build",
        "${PYTHON_IMAGE} AS runtime",
    ], "multi-stage, the same Python in both"


def test_the_image_runs_unprivileged_and_writes_nothing_outside_tmp() -> None:
    stage = final_stage()
    (user,) = [rest for keyword, rest in stage if keyword == "USER"]
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) > 0, "a numeric uid lets Kubernetes check runAsNonRoot"
    assert gid.isdigit() and int(gid) > 0
    env = " ".join(rest for keyword, rest in stage if keyword == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "HOME=/tmp" in env and "TMPDIR=/tmp" in env
    assert "SALON_MAILBOX_DIR=/tmp/mailbox" in env
    build = " ".join(rest for keyword, rest in instructions() if keyword == "RUN")
    assert "compileall" in build, "byte-code is compiled at build time"
    copies = [rest for keyword, rest in instructions() if keyword == "COPY"]
    assert f"deploy/healthcheck.py {HEALTHCHECK_IN_IMAGE}" in copies


def _pattern(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for raw in patterns:
        negated = raw.startswith("!")
        compiled = _pattern(raw.removeprefix("!").strip("/"))
        if any(compiled.match(candidate) for candidate in candidates):
            result = not negated
    return result


def test_the_build_context_holds_what_the_dockerfile_copies_and_nothing_else() -> None:
    patterns = [
        line.strip()
        for line in IGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = [
        word
        for keyword, rest in instructions()
        if keyword == "COPY" and not rest.startswith("--from")
        for word in rest.split()[:-1]
    ]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not ignored(source, patterns), f"{source} is copied but left out of the context"
        if (ROOT / source).is_dir():
            inside = next(p for p in (ROOT / source).rglob("*.py") if "__pycache__" not in p.parts)
            assert not ignored(str(inside.relative_to(ROOT)), patterns), inside
    for kept_out in (
        ".git/HEAD",
        ".venv/bin/python",
        ".salon-data/clients.db",
        "tests/conftest.py",
        "services/clients/__pycache__/service.cpython-311.pyc",
        "deploy/.env",
        "clients.db",
    ):
        assert ignored(kept_out, patterns), f"{kept_out} would be sent to the builder"


# --- the health check ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("salon_healthcheck", DEPLOY / "healthcheck.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def grpc_health() -> Iterator[tuple[int, health.HealthServicer]]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield port, servicer
    finally:
        server.stop(None)


def test_the_grpc_health_check_passes_only_while_the_service_is_serving(
    healthcheck: ModuleType, grpc_health: tuple[int, health.HealthServicer]
) -> None:
    port, servicer = grpc_health
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    assert healthcheck.main(["grpc", str(port)]) == 0
    # What a service says from SIGTERM on, while it drains.
    servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    assert healthcheck.main(["grpc", str(port)]) == 1
    assert healthcheck.check_grpc(free_port(), timeout=0.5) is not None


class _Answer(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 200 if self.path == "/readyz" else 503
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def http_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_the_http_health_check_passes_only_on_200(
    healthcheck: ModuleType, http_server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALON_PORT", str(http_server))
    assert healthcheck.main(["http"]) == 0  # http://127.0.0.1:$SALON_PORT/readyz
    assert healthcheck.main(["http", f"http://127.0.0.1:{http_server}/other"]) == 1
    assert healthcheck.check_http(f"http://127.0.0.1:{free_port()}/readyz", timeout=1) is not None
    assert healthcheck.check_http("file:///etc/passwd") is not None
    assert healthcheck.main(["smtp"]) == 2
