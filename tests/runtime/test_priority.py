"""The event loop first: its thread real-time where permitted (threads it starts are not), the
imaging pool's threads at a lower priority."""

from __future__ import annotations

import os
import resource
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from dros import imaging
from dros.runtime import priority
from dros.runtime.priority import (
    BACKGROUND_NICE,
    loop_scheduling,
    lower_this_thread,
    lower_threads,
    raise_loop_thread,
)

# root, or a real-time allowance as the systemd unit grants (LimitRTPRIO=1)
MAY_RUN_REALTIME = os.geteuid() == 0 or resource.getrlimit(resource.RLIMIT_RTPRIO)[0] >= 1


def _in_thread(fn):  # type: ignore[no-untyped-def]
    """Run fn in a fresh thread (scheduling changes stay with that thread) and return its result."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn).result()


def _nice_of(tid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, tid)


@pytest.mark.skipif(
    not MAY_RUN_REALTIME, reason="this user may not use real-time priorities (not root, RLIMIT_RTPRIO 0)"
)
def test_the_loop_thread_runs_fifo_and_the_threads_it_starts_do_not() -> None:
    def scenario() -> tuple[str, str, int]:
        mine = raise_loop_thread(1)
        started = _in_thread(loop_scheduling)  # a thread this one starts
        return mine, started, os.sched_getscheduler(0) & os.SCHED_RESET_ON_FORK

    mine, started, reset_on_fork = _in_thread(scenario)
    assert mine == "fifo 1"
    assert reset_on_fork, "threads the loop starts would inherit its real-time priority"
    assert started == "normal"
    assert loop_scheduling() == "normal"  # the test's own thread is untouched


def test_priority_zero_leaves_the_loop_at_normal_scheduling() -> None:
    assert _in_thread(lambda: raise_loop_thread(0)) == "normal"


def test_a_refused_real_time_priority_is_logged_and_reported_as_normal(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(*_: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(priority.os, "sched_setscheduler", refuse)
    assert _in_thread(lambda: raise_loop_thread(1)) == "normal"
    assert "LimitRTPRIO=1" in caplog.text


def test_lowering_never_raises_a_thread_that_already_runs_lower() -> None:
    def scenario() -> tuple[bool, int, bool, int]:
        assert lower_this_thread(15)
        again = lower_this_thread(BACKGROUND_NICE)  # 10 would be a raise: refused silently
        return again, _nice_of(threading.get_native_id()), lower_this_thread(19), _nice_of(threading.get_native_id())

    again, after, lowest, final = _in_thread(scenario)
    assert again and after == 15
    assert lowest and final == 19


def test_every_imaging_pool_thread_can_be_lowered_and_is_named() -> None:
    ids = imaging.pool_thread_ids()
    assert len(ids) >= 1 and len(set(ids)) == len(ids)
    own = {int(t) for t in os.listdir("/proc/self/task")}
    assert set(ids) <= own, "not threads of this process"
    assert lower_threads(ids) == len(ids)
    assert all(_nice_of(tid) >= BACKGROUND_NICE for tid in ids)
    names = {open(f"/proc/self/task/{tid}/comm").read().strip() for tid in ids}
    assert names == {"dros-imaging"}
    # the pool the chain runs on is the one lowered: a process call still sees the same threads
    imaging.process(imaging.phantom("rect", 256, 256, seed=1).raw)
    assert set(imaging.pool_thread_ids()) == set(ids)
