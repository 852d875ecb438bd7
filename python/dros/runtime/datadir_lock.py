"""One owner per data directory: an exclusive `flock` on `<data_dir>/dros.lock`, taken by the
`dros serve` supervisor before anything opens DuckDB.

The granian worker is forked from the supervisor and so shares the lock's open file description:
the lock is released only when the last of the two has exited. An orphaned worker therefore keeps
the directory locked (it still has DuckDB open) until it is gone — and it goes at once, because the
worker dies with its parent (`dros.runtime.parent_watch`). The file names the holders
(`supervisor <pid>`, `worker <pid>` lines) so a refused second instance can say who has it.

A worker whose graceful stop hangs where no Python code runs (a CI run caught granian's worker in a
deadlock on the GIL after its supervisor was killed: its own hard stop, a Python thread, never ran)
would hold the directory for ever. So the next start, once the orphan has had its shutdown bound,
ends it with SIGKILL — only the recorded worker of a dead supervisor, and only while it still has the
lock file open — and the kernel drops the lock with it.
"""

from __future__ import annotations

import fcntl
import os
import signal
import time
from pathlib import Path

from dros.runtime.procfs import open_targets

LOCK_FILE = "dros.lock"
# After ending a hung orphan, how long the kernel may take to drop its lock (the process must exit).
ORPHAN_KILL_WAIT_S = 5.0


class DataDirBusy(Exception):
    """Another live instance owns the data directory."""

    def __init__(self, data_dir: Path, holders: dict[str, int]) -> None:
        self.data_dir = data_dir
        self.holders = holders
        pid = holders.get("supervisor") or holders.get("worker")
        who = f"pid {pid}" if pid else "another process"
        super().__init__(
            f"data directory {data_dir} is in use by another dros serve ({who}, lock {data_dir / LOCK_FILE}); "
            "stop it or choose another --data-dir"
        )


def read_holders(path: Path) -> dict[str, int]:
    """{'supervisor': pid, 'worker': pid} as recorded in a lock file (missing roles left out)."""
    holders: dict[str, int] = {}
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError:
        return holders
    for line in text.splitlines():
        role, _, pid = line.partition(" ")
        if role in ("supervisor", "worker") and pid.strip().isdigit():
            holders[role] = int(pid)
    return holders


def process_alive(pid: int) -> bool:
    """True for a running process (a zombie has exited and only waits to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # field 3, after the parenthesised command name (which may itself contain spaces or parentheses)
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def holds_open(pid: int, path: Path) -> bool:
    """True when process `pid` has `path` open."""
    return os.path.realpath(path) in open_targets(pid)


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / LOCK_FILE
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, *, orphan_wait_s: float = 8.0) -> None:
        """Take the lock or raise `DataDirBusy` at once when a live supervisor holds it.

        When the recorded supervisor is dead, the holder is its worker on the way down (it got the
        parent-death signal and closes the database within its shutdown bound): wait up to
        `orphan_wait_s` for it, so `kill -9` of a supervisor followed by a new start needs no manual
        step. A recorded worker still holding the lock file after that is hung: it is ended."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline: float | None = None
        ended = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holders = self._holders_when_busy()
                supervisor = holders.get("supervisor")
                if supervisor is not None and process_alive(supervisor):
                    os.close(fd)
                    raise DataDirBusy(self.data_dir, holders) from None
                now = time.monotonic()
                deadline = deadline if deadline is not None else now + orphan_wait_s
                if now >= deadline:
                    worker = holders.get("worker")
                    if not ended and worker is not None and process_alive(worker) and holds_open(worker, self.path):
                        try:
                            os.kill(worker, signal.SIGKILL)
                        except ProcessLookupError:
                            pass  # it went by itself meanwhile
                        ended, deadline = True, now + ORPHAN_KILL_WAIT_S
                        continue
                    os.close(fd)
                    alive = {role: pid for role, pid in holders.items() if process_alive(pid)}
                    raise DataDirBusy(self.data_dir, alive or holders) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"supervisor {os.getpid()}\n".encode(), 0)
        self._fd = fd

    def _holders_when_busy(self) -> dict[str, int]:
        # the holder writes its pid right after locking: give a just-started one a moment
        for _ in range(10):
            holders = read_holders(self.path)
            if "supervisor" in holders:
                return holders
            time.sleep(0.02)
        return read_holders(self.path)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


def record_worker(data_dir: Path, pid: int | None = None) -> None:
    """The worker adds its pid to the lock file it shares with the supervisor (no second lock:
    it already holds the supervisor's through the forked descriptor)."""
    path = data_dir / LOCK_FILE
    holders = read_holders(path)
    holders["worker"] = pid or os.getpid()
    text = "".join(f"{role} {p}\n" for role, p in holders.items())
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, text.encode(), 0)
    finally:
        os.close(fd)
