"""The `salon` command: `salon up` runs the whole system; `salon run PART` runs one part
(what a container or a process manager starts)."""

from __future__ import annotations

import argparse
import runpy
import signal
import sys
import time
from pathlib import Path

from launcher import demo
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
        stack.start()
        if args.demo:
            seeded = demo.seed(stack.graphql_url, stack.data_dir)
            print("salon: demo data " + ("seeded" if seeded else "already there"), flush=True)
    except Exception as exc:
        print(f"salon: could not start: {exc}", file=sys.stderr, flush=True)
        stack.stop()
        return 1
    print(f"salon: ready. GraphQL: {stack.graphql_url}", flush=True)
    print(f"salon: NATS {stack.nats_url}; logs in {stack.data_dir / 'logs'}", flush=True)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="salon", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start NATS, every service and the gateway")
    up.add_argument("--demo", action="store_true", help="seed a demo chain (once per data dir)")
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
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
