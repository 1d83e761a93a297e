"""The `salon` command: `salon up` runs the whole system; `salon run PART` runs one part
(what a container or a process manager starts); `salon migrate [PART ...]` runs the
database migrations of the given parts (all by default) and exits; `salon partner
add|list|remove` manages the NATS users of partners (B06, docs/subscriptions.md).

Where `salon migrate` migrates: SALON_<PART>_DATABASE_URL (SALON_CLIENTS_DATABASE_URL,
SALON_GATEWAY_DATABASE_URL...); for a single part given, SALON_DATABASE_URL when that is not
set (as `salon run PART` reads it); with --data-dir, the SQLite files `salon up` keeps there.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import runpy
import signal
import sys
import time
from pathlib import Path

from launcher import demo, partners
from launcher.stack import SERVICES, Stack

PARTS = ("gateway", *SERVICES)


def _up(args: argparse.Namespace) -> int:
    stack = Stack(data_dir=Path(args.data_dir), port=args.port)
    stop_requested = False

    def request_stop(_signum: int, _frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    print(f"salon: starting in {stack.data_dir.resolve()} ...", flush=True)
    try:
        stack.start(timeout=args.start_timeout)
        if args.demo:
            seeded = demo.seed(stack.graphql_url, stack.data_dir)
            print("salon: demo data " + ("seeded" if seeded else "already there"), flush=True)
    except Exception as exc:
        print(f"salon: could not start: {exc}", file=sys.stderr, flush=True)
        stack.stop()
        return 1
    print(f"salon: ready. GraphQL: {stack.graphql_url}", flush=True)
    print(f"salon: NATS {stack.nats_public_url}; logs in {stack.data_dir / 'logs'}", flush=True)
    print("salon: Prometheus /metrics (also in run.json):", flush=True)
    for part, url in stack.metrics_urls.items():
        print(f"  {part:10} {url}", flush=True)
    if args.demo:
        print("salon: demo logins (e-mail / password / where):", flush=True)
        for email, password, where in demo.logins():
            print(f"  {email:22} {password:14} {where}", flush=True)
    print("salon: press Ctrl-C to stop", flush=True)
    while not stop_requested:
        for notice in stack.supervise_once():
            print(f"salon: {notice}", flush=True)
        time.sleep(0.3)
    print("salon: stopping ...", flush=True)
    stack.stop()
    print("salon: stopped", flush=True)
    return 0


def _run(args: argparse.Namespace) -> int:
    module = "gateway" if args.part == "gateway" else f"services.{args.part}"
    sys.argv = [module]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
    return 0


def migrations_of(part: str) -> Path:
    root = Path(__file__).resolve().parent.parent
    base = root / "gateway" if part == "gateway" else root / "services" / part
    return base / "store" / "migrations"


def database_url(part: str, parts: list[str], data_dir: str | None) -> str | None:
    own = os.environ.get(f"SALON_{part.upper()}_DATABASE_URL")
    if own:
        return own
    if data_dir is not None:
        return f"sqlite+aiosqlite:///{Path(data_dir).resolve() / (part + '.db')}"
    if len(parts) == 1:
        return os.environ.get("SALON_DATABASE_URL")
    return None


async def _migrate_one(url: str, location: Path) -> None:
    from services.common import migrations
    from services.common.db import Database

    db = Database(url, pool_size=1)
    try:
        await migrations.upgrade(db, location)
    finally:
        await db.dispose()


def _migrate(args: argparse.Namespace) -> int:
    parts: list[str] = list(dict.fromkeys(args.parts)) or list(PARTS)
    unknown = [part for part in parts if part not in PARTS]
    if unknown:
        print(f"salon migrate: unknown part {', '.join(unknown)}", file=sys.stderr)
        return 2
    urls = {part: database_url(part, parts, args.data_dir) for part in parts}
    missing = [part for part, url in urls.items() if not url]
    if missing:
        names = ", ".join(f"SALON_{p.upper()}_DATABASE_URL" for p in missing)
        print(f"salon migrate: no database for {', '.join(missing)}: set {names}", file=sys.stderr)
        return 2
    for part, url in urls.items():
        assert url is not None
        if args.data_dir is not None:
            Path(args.data_dir).mkdir(parents=True, exist_ok=True)
        try:
            asyncio.run(_migrate_one(url, migrations_of(part)))
        except Exception as exc:
            print(f"salon migrate: {part} failed: {exc}", file=sys.stderr, flush=True)
            return 1
        print(f"salon migrate: {part} at head", flush=True)
    return 0


def _reload(data_dir: Path) -> partners.Running | None:
    """Make the running launcher's NATS apply the new users; tell what happened."""
    try:
        running = partners.reload_running(data_dir)
    except RuntimeError as exc:
        print(
            f"salon partner: {data_dir / partners.CONFIG_FILE} is written but NATS could not "
            f"reload it: {exc}",
            file=sys.stderr,
            flush=True,
        )
        raise
    if running is None:
        print(
            f"salon partner: no `salon up` with its embedded NATS runs in {data_dir}: "
            "takes effect at the next `salon up --data-dir` there",
            flush=True,
        )
    else:
        print(f"salon partner: NATS (pid {running.pid}) reloaded its users", flush=True)
    return running


def _partner_add(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir).resolve()
    try:
        partner = partners.add_partner(data_dir, args.organization, args.name or "")
    except ValueError as exc:
        print(f"salon partner add: {exc}", file=sys.stderr, flush=True)
        return 2
    running = partners.running_nats(data_dir)
    url = running.url if running is not None and running.url else "nats://<salon host>:<port>"
    label = f" ({partner.name})" if partner.name else ""
    print(f"salon partner: created for organization {partner.organization_id}{label}", flush=True)
    print(f"  user:     {partner.user}", flush=True)
    print(f"  password: {partner.password}", flush=True)
    print(f"  url:      {url}", flush=True)
    print(f"  subject:  {partner.subject}", flush=True)
    print(
        f"  try:      nats sub --server {url} --user {partner.user} "
        f"--password {partner.password} '{partner.subject}'",
        flush=True,
    )
    print(
        "note: the launcher does not know the organizations (the gateway does): check that "
        f"{partner.organization_id} is the organization you mean; for another id the partner "
        "simply receives nothing.",
        flush=True,
    )
    try:
        _reload(data_dir)
    except RuntimeError:
        return 1
    return 0


def _partner_list(args: argparse.Namespace) -> int:
    found = partners.list_partners(Path(args.data_dir).resolve())
    if not found:
        print("salon partner: no partners", flush=True)
    for partner in found:
        print(
            f"{partner.user}  {partner.subject}  {partner.created_at}  {partner.name}".rstrip(),
            flush=True,
        )
    return 0


def _partner_remove(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir).resolve()
    removed = partners.remove_partner(data_dir, args.user)
    if removed is None:
        print(f"salon partner remove: no partner user {args.user!r}", file=sys.stderr)
        return 2
    try:
        _reload(data_dir)
    except RuntimeError:
        return 1
    print(
        f"salon partner: removed {removed.user} (organization {removed.organization_id}); "
        "its connections are closed",
        flush=True,
    )
    return 0


def _add_partner_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    partner = sub.add_parser(
        "partner",
        help="NATS users for partners, each limited to salon.<organization>.>",
        description="Partner users of the embedded NATS (kept in DATA_DIR/nats-partners.json); "
        "a running `salon up` in DATA_DIR applies a change at once.",
    )
    actions = partner.add_subparsers(dest="action", required=True)
    data_dir = argparse.ArgumentParser(add_help=False)
    data_dir.add_argument("--data-dir", default=".salon-data", help="the data folder of `salon up`")
    add = actions.add_parser(
        "add", parents=[data_dir], help="create a partner user for one organization"
    )
    add.add_argument("organization", help="the organization id (a UUID)")
    add.add_argument("--name", default="", help="who the partner is (for `list`)")
    add.set_defaults(func=_partner_add)
    listing = actions.add_parser("list", parents=[data_dir], help="list the partner users")
    listing.set_defaults(func=_partner_list)
    remove = actions.add_parser(
        "remove", parents=[data_dir], help="remove a partner user and close its connections"
    )
    remove.add_argument("user", help="the partner user (partner-...)")
    remove.set_defaults(func=_partner_remove)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="salon", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start NATS, every service and the gateway")
    up.add_argument("--demo", action="store_true", help="seed a demo chain (once per data dir)")
    up.add_argument(
        "--start-timeout",
        type=float,
        default=60,
        help="seconds every part has to answer its health check (default 60)",
    )
    up.add_argument(
        "--data-dir",
        default=".salon-data",
        help="where the databases, NATS store and logs live (default .salon-data)",
    )
    up.add_argument(
        "--port",
        type=int,
        default=None,
        help="gateway HTTP port (default $SALON_PORT, else 8000 or a free one)",
    )
    up.set_defaults(func=_up)
    run = sub.add_parser("run", help="run one part in the foreground (configured by SALON_*)")
    run.add_argument("part", choices=PARTS)
    run.set_defaults(func=_run)
    migrate = sub.add_parser(
        "migrate",
        help="run the database migrations of the given parts (default: all) and exit",
        description="Database per part: SALON_<PART>_DATABASE_URL; for one part, "
        "SALON_DATABASE_URL when that is unset; --data-dir: the SQLite files of `salon up`.",
    )
    migrate.add_argument("parts", nargs="*", metavar="PART", help=f"one of {', '.join(PARTS)}")
    migrate.add_argument(
        "--data-dir", default=None, help="migrate the SQLite databases `salon up` keeps there"
    )
    migrate.set_defaults(func=_migrate)
    _add_partner_commands(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
