"""Alembic migrations per service, run by the service at start and by ``salon migrate``.

Each service keeps its revisions in ``<service>/store/migrations`` and an ``env.py`` of two
lines that calls :func:`run_env`. On PostgreSQL an advisory lock keeps replicas that start
together from migrating at once.

After the upgrade, in the same transaction, every tenant table (one with an
``organization_id`` column) gets forced row-level security and the tenant policy
(services/common/rls.py): tables added by any later revision are covered without their
author doing anything.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection

from services.common import rls
from services.common.db import Database


def alembic_config(script_location: Path, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _upgrade(connection: Connection, cfg: Config, lock_id: int) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})
        # Migrations change the rows of every organization (a backfill, a data fix): this
        # transaction works across organizations, by name, like the other jobs that do.
        connection.execute(rls.SET_TENANT, {"organization_id": "", "across": "on"})
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")
    rls.protect_tenant_tables(connection)


async def upgrade(db: Database, script_location: Path) -> None:
    cfg = alembic_config(script_location, db.url)
    lock_id = zlib.crc32(str(script_location.name + script_location.parent.name).encode())
    async with db.write_engine.begin() as conn:
        await conn.run_sync(_upgrade, cfg, lock_id)


def run_env(target_metadata: MetaData) -> None:
    """The body of every service's migrations/env.py."""
    connection: Any = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through services.common.migrations.upgrade")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


def create_event_tables() -> None:
    """The outbox and processed-events tables, for a service's first migration.

    Kept here (not copied into every service) because their shape is the relay's and the
    consumer's, not the service's.
    """
    import sqlalchemy as sa
    from alembic import op

    from services.common.db import UTCDateTime

    op.create_table(
        "outbox",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("id", sa.String(32), nullable=False, unique=True),
        sa.Column("type", sa.String(120), nullable=False),
        sa.Column("subject", sa.String(250), nullable=False),
        sa.Column("source", sa.String(60), nullable=False),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("establishment_id", sa.String(32), nullable=True),
        sa.Column("actor_id", sa.String(32), nullable=True),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_outbox_sent_at", "outbox", ["sent_at"])
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(80), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("processed_at", UTCDateTime(), nullable=False),
    )


def add_outbox_traceparent() -> None:
    """The outbox's ``traceparent`` column (services/common/tracing.py): each service's
    ``<n>_outbox_trace`` revision calls this; rows written before it have none."""
    import sqlalchemy as sa
    from alembic import op

    from services.common.outbox import TRACEPARENT_WIDTH

    op.add_column("outbox", sa.Column("traceparent", sa.String(TRACEPARENT_WIDTH), nullable=True))


def drop_outbox_traceparent() -> None:
    from alembic import op

    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("traceparent")
