"""The launcher's children die with it (no orphans), armed without ``preexec_fn``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

PARENT = """
import subprocess, sys
from launcher.stack import dying_with_launcher
child = subprocess.Popen(dying_with_launcher(["/bin/sleep", "60"]), start_new_session=True)
print(child.pid, flush=True)
sys.stdin.read()
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose: its parent (now init) reaps it.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_a_child_gets_sigterm_when_the_launcher_is_killed() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    time.sleep(0.5)  # the child has become /bin/sleep by now
    with open(f"/proc/{child_pid}/cmdline", "rb") as cmdline:
        assert cmdline.read().split(b"\0")[0] == b"/bin/sleep"
    assert _alive(child_pid)
    parent.send_signal(signal.SIGKILL)  # no handler runs: only the kernel's death signal
    parent.wait()
    deadline = time.monotonic() + 10
    while _alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child_pid)


def test_a_child_whose_launcher_is_already_gone_does_not_start() -> None:
    # PID 1 is never our parent: the guard sees it is orphaned and exits before exec.
    done = subprocess.run(
        [sys.executable, "-m", "launcher.die_with_parent", "1", "/bin/true"], check=False
    )
    assert done.returncode == 1
