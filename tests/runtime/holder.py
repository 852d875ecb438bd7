"""Helper process for the lifecycle tests.

`holder.py lock <data_dir> <supervisor_pid> <seconds> [<worker_pid>]`: take the data-directory lock
as an orphaned worker would hold it (recording a supervisor pid, and itself as the worker unless
another pid is given), hold it for <seconds>, exit.
`holder.py child <pidfile> <mode>`: fork a grandchild that dies with this process
(dros.runtime.parent_watch), write the grandchild's pid to <pidfile>, then sleep. Modes:
`signal` (everything on), `watchdog` (no parent-death signal), `hung` (SIGTERM ignored and the GIL
held for a minute, as by a worker deadlocked in its shutdown: only a native hard stop can end it).
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import signal
import sys
import time
from pathlib import Path


def hold_lock(data_dir: Path, supervisor: int, seconds: float, worker: int | None = None) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / "dros.lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"supervisor {supervisor}\nworker {worker or os.getpid()}\n".encode(), 0)
    print("locked", flush=True)
    time.sleep(seconds)


def child(pidfile: Path, mode: str) -> None:
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        from dros.runtime import parent_watch

        if mode == "watchdog":
            parent_watch.set_parent_death_signal = lambda sig=0: False  # type: ignore[assignment]
        parent_watch.die_with_parent(parent, grace_s=2, poll_s=0.05)
        if mode == "hung":
            # before the pid is known: granian's handler takes SIGTERM, and its shutdown hangs
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        pidfile.write_text(str(os.getpid()))
        if mode == "hung":
            ctypes.PyDLL(None).sleep(60)  # libc sleep() called with the GIL held
            os._exit(0)
        while True:
            time.sleep(0.1)
    time.sleep(60)


if __name__ == "__main__":
    if sys.argv[1] == "lock":
        hold_lock(
            Path(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]) if len(sys.argv) > 5 else None
        )
    else:
        child(Path(sys.argv[2]), sys.argv[3])
