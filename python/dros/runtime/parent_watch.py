"""The granian worker dies with its supervisor.

Granian's supervisor forks one worker; if the supervisor is killed (SIGKILL, OOM killer, a crash)
nothing stops the worker, which would keep serving, keep the DuckDB file and the data-directory
lock, and block the next start. Two mechanisms, because either alone has a gap:

- `prctl(PR_SET_PDEATHSIG, SIGTERM)`: the kernel sends SIGTERM the moment the parent exits, and
  granian's worker shuts down gracefully on it;
- a watchdog thread comparing `getppid()` with the supervisor's pid (covers a parent that died
  before the prctl call, and kernels/containers where the signal is not delivered). When it
  fires it sends SIGTERM itself and arms `alarm()`: SIGALRM's default action ends the process
  after the shutdown bound even if the graceful path hangs (it needs no Python code to run).

Both need Python to run after the parent is gone: granian's Rust side takes the SIGTERM and
starts its shutdown, and the watchdog needs the GIL to arm the alarm. A worker caught deadlocked
on the GIL in that shutdown lived on. So a native thread of the Rust core
(`_core.kill_when_parent_gone`) does the same watch without the GIL and sends SIGKILL a second
after the alarm would have ended the process.
"""

from __future__ import annotations

import ctypes
import logging
import math
import os
import signal
import sys
import threading

from dros import _core

log = logging.getLogger("dros.runtime")

PR_SET_PDEATHSIG = 1
SUPERVISOR_PID_ENV = "DROS_SUPERVISOR_PID"
# The native hard stop comes this long after the alarm, so that it ends only a worker that the
# alarm could not (one whose Python never ran again).
NATIVE_MARGIN_S = 1.0


def set_parent_death_signal(sig: int = signal.SIGTERM) -> bool:
    """Ask the kernel to send `sig` when the parent exits; False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _hard_stop(grace_s: float) -> None:
    signal.alarm(max(1, math.ceil(grace_s)))  # default SIGALRM action: terminate, no Python needed
    os.kill(os.getpid(), signal.SIGTERM)


def die_with_parent(parent_pid: int, *, grace_s: float = 5.0, poll_s: float = 0.2) -> threading.Thread | None:
    """Make this process exit when `parent_pid` (its parent) is gone. Returns the watchdog thread,
    or None when the parent was already gone (the process is then being stopped)."""
    set_parent_death_signal(signal.SIGTERM)
    _core.kill_when_parent_gone(parent_pid, math.ceil(grace_s) + NATIVE_MARGIN_S, poll_s)
    if os.getppid() != parent_pid:
        log.warning("supervisor (pid %d) is gone before the worker started: stopping", parent_pid)
        _hard_stop(grace_s)
        return None

    def watch() -> None:
        stop = threading.Event()
        while os.getppid() == parent_pid:
            stop.wait(poll_s)
        log.warning("supervisor (pid %d) is gone: stopping the worker within %.0f s", parent_pid, grace_s)
        _hard_stop(grace_s)

    thread = threading.Thread(target=watch, name="dros-parent-watchdog", daemon=True)
    thread.start()
    return thread
