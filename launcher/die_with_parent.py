"""``python -m launcher.die_with_parent PID PROGRAM [ARG ...]``: become PROGRAM, set to
receive SIGTERM when the process PID (the launcher) dies.

The launcher used to set this up with ``Popen(preexec_fn=...)``, which makes Python fork and
run Python code in the child before ``exec``; in a process that has used gRPC (a test worker
that ran in-process services) gRPC's fork handlers then left the child broken. Starting this
small program instead needs no ``preexec_fn`` (Python can use vfork), and the death signal
survives ``execv`` into PROGRAM, whether that is a Python part or the nats-server binary.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: python -m launcher.die_with_parent PID PROGRAM [ARG ...]", file=sys.stderr)
        return 2
    parent, program = int(argv[0]), argv[1:]
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:  # not Linux: the launcher's own signal handling still stops children
        pass
    if os.getppid() != parent:  # the launcher died before the signal was armed
        return 1
    os.execv(program[0], program)  # noqa: S606 - our own parts and nats-server


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
