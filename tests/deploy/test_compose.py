"""deploy/compose.yaml: salon on one host. No Docker engine (nor the compose plugin) runs
here, so the file is read as compose reads it (YAML, anchors and merge keys, then `${...}`
interpolated from the env file) and checked for what running it relies on; its parts'
environments are given to the parts' own settings classes; its NATS configuration is
checked by nats-server itself and its PostgreSQL init script is run against a real
PostgreSQL (TEST_DATABASE_URL). Where `docker compose` is installed it validates the file
too."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Mapping
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from gateway.settings import GatewaySettings
from launcher.cli import PARTS
from launcher.nats_server import nats_server_binary
from launcher.stack import SERVICES
from services.booking.settings import MailerSettings
from services.clients.settings import MarketingSettings
from services.common import tracing
from services.common.settings import ServiceSettings
from services.payments.settings import PaymentsSettings
from tests.deploy.kube import DEPLOY
from tests.deploy.parts import KNOWN_SETTINGS

COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"
INIT_SCRIPT = DEPLOY / "postgres" / "init-databases.sh"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")

# What an operator puts into deploy/.env in place of the placeholders.
FILLED_IN = {
    "SALON_SCOPE_SECRET": "s" * 48,
    "SALON_PAYMENTS_KEY": "A" * 43 + "=",
    "POSTGRES_PASSWORD": "0123456789abcdef",
    "SALON_DB_PASSWORD": "fedcba9876543210",
}

_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


class MissingVariable(Exception):
    pass


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Compose's `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}`."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        present = name in env and (env[name] != "" or op in (None, "-", "?"))
        if present:
            return env[name]
        if op in (":?", "?"):
            raise MissingVariable(f"{name}: {arg}")
        return arg if op in (":-", "-") else ""

    return _VARIABLE.sub(one, value)


def env_file(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if re.match(r"^\w+=", line))
    return {name: value for name, value in pairs}


def compose(env: Mapping[str, str]) -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return dict(interpolate(loaded, env))


@pytest.fixture(scope="module")
def project() -> dict[str, Any]:
    return compose({**env_file(ENV_EXAMPLE.read_text()), **FILLED_IN})


def test_every_secret_comes_from_the_env_file_and_is_required() -> None:
    text = COMPOSE.read_text()
    example = ENV_EXAMPLE.read_text()
    referenced: dict[str, set[str | None]] = {}
    for match in _VARIABLE.finditer(text):
        referenced.setdefault(match["name"], set()).add(match["op"])
    for name, ops in referenced.items():
        assert re.search(rf"^#? ?{name}=", example, re.M), f"{name} is not in .env.example"
        if ops - {":-", "-"}:
            assert re.search(rf"^{name}=", example, re.M), f"{name} must be set in .env.example"
    for name in FILLED_IN:
        assert ":?" in referenced[name], f"{name}: compose must refuse to start without it"
        assert env_file(example)[name] == "REPLACE"
        with pytest.raises(MissingVariable, match=name):
            compose({key: value for key, value in FILLED_IN.items() if key != name})
    compose(env_file(example))  # the example as it is: every required variable set


def test_the_host_runs_nats_postgres_and_every_part_from_one_image(
    project: dict[str, Any],
) -> None:
    services = project["services"]
    assert sorted(services) == sorted(["nats", "postgres", *PARTS])
    for part in PARTS:
        service = services[part]
        assert service["command"] == [part]
        assert service["image"] == services["gateway"]["image"]
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
        assert service["read_only"] is True, part
        tmpfs = [mount.split(":")[0] for mount in service["tmpfs"]]
        assert "/tmp" in tmpfs, part  # noqa: S108 (the container's /tmp, a tmpfs)
        assert service["cap_drop"] == ["ALL"], part
        for infrastructure in ("postgres", "nats"):
            assert service["depends_on"][infrastructure] == {"condition": "service_healthy"}
        test = service["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "/opt/salon/healthcheck.py"], part
        assert test[3:] == (
            ["http", "http://127.0.0.1:8000/readyz"] if part == "gateway" else ["grpc", "50051"]
        )
    for infrastructure in ("nats", "postgres"):
        assert services[infrastructure]["read_only"] is True
        assert services[infrastructure]["healthcheck"]["test"]
    for service_name in SERVICES:
        assert services["gateway"]["depends_on"][service_name] == {"condition": "service_healthy"}
    assert [port.split(":")[-1] for port in services["gateway"]["ports"]] == ["8000"]
    for name, service in services.items():
        if name != "gateway":
            assert "ports" not in service, f"{name} is reached on the compose network only"


def test_each_part_gets_settings_it_reads_and_its_own_database(
    project: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    services = project["services"]
    script = INIT_SCRIPT.read_text()
    default_parts = re.search(r"\$\{SALON_DATABASES:-([^}]*)\}", script)
    assert default_parts is not None
    assert sorted(default_parts.group(1).split()) == sorted(PARTS)
    for part in PARTS:
        variables = {key: str(value) for key, value in services[part]["environment"].items()}
        unknown = set(variables) - KNOWN_SETTINGS
        assert not unknown, f"{part}: no part reads {sorted(unknown)}"
        for name in list(os.environ):
            if name.startswith("SALON_"):
                monkeypatch.delenv(name)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        settings = GatewaySettings() if part == "gateway" else ServiceSettings()
        assert settings.production and settings.scope_secrets()
        url = make_url(settings.database_url)
        assert (url.drivername, url.host, url.port) == ("postgresql+asyncpg", "postgres", 5432)
        assert (url.username, url.database) == (part, part)
        assert url.password == FILLED_IN["SALON_DB_PASSWORD"]
        for peer in SERVICES:
            host, _, port = settings.backend_addr(peer).partition(":")
            assert host in services and port == "50051"
        if part == "booking":
            assert MailerSettings().mailbox_dir.as_posix() == "/data/mailbox"
        if part == "clients":
            marketing = MarketingSettings()
            assert marketing.mailbox_dir.as_posix() == "/data/mailbox"
            assert marketing.sms_dir.as_posix() == "/data/sms" and not marketing.use_sms_http
        if part == "payments":
            assert PaymentsSettings().payments_key == FILLED_IN["SALON_PAYMENTS_KEY"]
    postgres = services["postgres"]
    assert postgres["environment"]["SALON_DB_PASSWORD"] == FILLED_IN["SALON_DB_PASSWORD"]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in postgres["volumes"]}
    (init,) = [path for path in mounts if path.startswith("/docker-entrypoint-initdb.d/")]
    assert (DEPLOY / mounts[init]).resolve() == INIT_SCRIPT
    assert init.endswith(".sh")


def test_every_part_names_itself_in_traces_exported_once_the_env_file_names_an_endpoint() -> None:
    for env, on in (
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector:4318"}, True),
    ):
        services = compose({**env_file(ENV_EXAMPLE.read_text()), **FILLED_IN, **env})["services"]
        for part in PARTS:
            variables = {key: str(value) for key, value in services[part]["environment"].items()}
            assert tracing.service_name(part, variables) == f"salon-{part}"
            assert tracing.protocol_of(variables) == "http/protobuf"
            assert tracing.endpoint_configured(variables) is on


def test_nats_on_one_host_keeps_jetstream_on_a_volume_and_syncs_every_write(
    project: dict[str, Any],
) -> None:
    nats = project["services"]["nats"]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in nats["volumes"]}
    config_path = DEPLOY / mounts[nats["command"][-1]]
    config = config_path.read_text()
    store = re.search(r"store_dir:\s*(\S+)", config)
    assert store is not None and mounts[store.group(1)] in project["volumes"]
    assert re.search(r"^\s*sync_interval:\s*always\s*$", config, re.M)
    result = subprocess.run(
        [nats_server_binary(), "--config", str(config_path), "-t"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(
    shutil.which("docker") is None
    or subprocess.run(["docker", "compose", "version"], capture_output=True, check=False).returncode
    != 0,
    reason="the docker compose plugin is not installed: the structure checks above stand in",
)
def test_docker_compose_accepts_the_file() -> None:
    result = subprocess.run(
        ["docker", "compose", "--env-file", str(ENV_EXAMPLE), "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# --- the PostgreSQL init script, for real -------------------------------------------------


async def _check_databases(base_url: str, names: list[str]) -> None:
    import asyncpg

    url = make_url(base_url).set(drivername="postgresql")
    first, second = names
    owner = await asyncpg.connect(url.set(username=first, database=first).render_as_string(False))
    try:
        await owner.execute("CREATE TABLE t (organization_id text PRIMARY KEY)")
        role = await owner.fetchrow(
            "SELECT rolsuper, rolbypassrls, rolcreatedb, rolcreaterole FROM pg_roles"
            " WHERE rolname = current_user"
        )
        assert role is not None and not any(role.values())
    finally:
        await owner.close()
    # Another part's role may not even connect to it.
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await asyncpg.connect(url.set(username=second, database=first).render_as_string(False))


async def _drop(base_url: str, names: list[str]) -> None:
    import asyncpg

    admin = await asyncpg.connect(
        make_url(base_url).set(drivername="postgresql").render_as_string(False)
    )
    try:
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'DROP ROLE IF EXISTS "{name}"')
    finally:
        await admin.close()


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="TEST_DATABASE_URL is not set")
def test_the_init_script_gives_each_part_its_own_role_and_database() -> None:
    if shutil.which("psql") is None:
        pytest.fail("psql is needed to run deploy/postgres/init-databases.sh", pytrace=False)
    url = make_url(TEST_DATABASE_URL)
    prefix = f"salon_deploy_{secrets.token_hex(4)}"
    names = [f"{prefix}_clients", f"{prefix}_catalog"]
    env = {
        **os.environ,
        "SALON_DATABASES": " ".join(names),
        "SALON_DB_PASSWORD": FILLED_IN["SALON_DB_PASSWORD"],
        "POSTGRES_USER": url.username or "postgres",
        "PGHOST": url.host or "127.0.0.1",
        "PGPORT": str(url.port or 5432),
    }
    if url.password:
        env["PGPASSWORD"] = url.password
    try:
        result = subprocess.run(
            ["sh", str(INIT_SCRIPT)], env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        asyncio.run(_check_databases(TEST_DATABASE_URL, names))
        # The image runs it once, on an empty data directory; again, it stops at once.
        again = subprocess.run(
            ["sh", str(INIT_SCRIPT)], env=env, capture_output=True, text=True, timeout=60
        )
        assert again.returncode != 0 and "already exists" in again.stderr
    finally:
        asyncio.run(_drop(TEST_DATABASE_URL, names))
