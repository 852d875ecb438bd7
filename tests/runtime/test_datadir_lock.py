"""One owner per data directory (dros.lock) and a worker that dies with its supervisor."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dros.runtime.datadir_lock import DataDirBusy, DataDirLock, read_holders, record_worker

HOLDER = Path(__file__).with_name("holder.py")


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(HOLDER), *args], stdout=subprocess.PIPE, text=True, start_new_session=True
    )


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for p in started:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()


def test_a_second_owner_is_refused_naming_the_directory_and_pid(tmp_path: Path) -> None:
    first = DataDirLock(tmp_path)
    first.acquire()
    try:
        record_worker(tmp_path, 4242)
        assert read_holders(tmp_path / "dros.lock") == {"supervisor": os.getpid(), "worker": 4242}
        started = time.monotonic()
        with pytest.raises(DataDirBusy) as busy:
            DataDirLock(tmp_path).acquire()
        assert time.monotonic() - started < 1  # at once: the holder is alive
        message = str(busy.value)
        assert "\n" not in message and str(tmp_path) in message and f"pid {os.getpid()}" in message
    finally:
        first.release()
    again = DataDirLock(tmp_path)
    again.acquire()  # released: free again
    again.release()


def test_an_orphaned_holder_is_waited_for(tmp_path: Path, procs: list[subprocess.Popen[str]]) -> None:
    # a worker whose supervisor died, on its way down (here: exits after 1 s)
    holder = _spawn("lock", str(tmp_path), str(_dead_pid()), "1")
    procs.append(holder)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    lock = DataDirLock(tmp_path)
    started = time.monotonic()
    lock.acquire(orphan_wait_s=10)
    waited = time.monotonic() - started
    lock.release()
    assert 0.3 < waited < 5, waited


def test_an_orphaned_worker_that_does_not_go_is_ended(tmp_path: Path, procs: list[subprocess.Popen[str]]) -> None:
    # a worker whose supervisor died and whose own stop hangs (here: it sleeps for a minute)
    holder = _spawn("lock", str(tmp_path), str(_dead_pid()), "60")
    procs.append(holder)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    lock = DataDirLock(tmp_path)
    started = time.monotonic()
    lock.acquire(orphan_wait_s=0.5)
    waited = time.monotonic() - started
    lock.release()
    assert holder.wait(timeout=5) == -signal.SIGKILL
    assert 0.5 <= waited < 5, waited


def test_a_holder_that_is_not_the_recorded_worker_is_named_not_ended(
    tmp_path: Path, procs: list[subprocess.Popen[str]]
) -> None:
    # the lock file's worker is gone; whoever holds the lock is no process this start may end
    holder = _spawn("lock", str(tmp_path), str(_dead_pid()), "60", str(_dead_pid()))
    procs.append(holder)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    with pytest.raises(DataDirBusy) as busy:
        DataDirLock(tmp_path).acquire(orphan_wait_s=0.5)
    assert str(tmp_path) in str(busy.value)
    assert holder.poll() is None, "a holder not recorded as the worker was ended"


@pytest.mark.parametrize(
    ("mode", "within_s"),
    [("signal", 5.0), ("watchdog", 5.0), ("hung", 8.0)],
    ids=["parent-death-signal", "watchdog", "gil-held-native-hard-stop"],
)
def test_the_worker_dies_with_its_parent(
    tmp_path: Path, procs: list[subprocess.Popen[str]], mode: str, within_s: float
) -> None:
    """`hung`: SIGTERM ignored and the GIL held, so neither the graceful stop nor the Python
    watchdog's alarm can act; the native thread ends it (grace 2 s + 1 s margin)."""
    pidfile = tmp_path / "grandchild.pid"
    parent = _spawn("child", str(pidfile), mode)
    procs.append(parent)
    deadline = time.monotonic() + 20
    while not pidfile.exists() or not pidfile.read_text():
        assert time.monotonic() < deadline, "grandchild did not start"
        time.sleep(0.05)
    grandchild = int(pidfile.read_text())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + within_s
    try:
        while Path(f"/proc/{grandchild}").exists() and _state(grandchild) not in ("Z", "X"):
            assert time.monotonic() < deadline, f"pid {grandchild} outlived its parent"
            time.sleep(0.05)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(grandchild, signal.SIGKILL)  # a failed run leaves nothing behind


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return "X"


@pytest.mark.parametrize(("grace_s", "poll_s"), [(0.0, 0.1), (-1.0, 0.1), (float("nan"), 0.1), (1.0, 0.0)])
def test_the_native_hard_stop_refuses_a_wait_that_is_not_a_positive_time(grace_s: float, poll_s: float) -> None:
    from dros import _core

    with pytest.raises(ValueError, match="must be a positive number of seconds"):
        _core.kill_when_parent_gone(os.getppid(), grace_s, poll_s)
