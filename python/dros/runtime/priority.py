"""The event loop first: its thread runs at a real-time priority where the process may, and the
imaging chain's threads run at a lower priority than everything else.

The loop thread drives the generator, publishes status and answers every request; the imaging
chain (rayon's pool) runs beside it and holds both cores of a two-core host while an image is
processed. A loop that woke then waited for the scheduler's next tick: 4 ms run-queue waits were
measured on the loop thread during every exposure (`benches/bench_acquisition.py`), and a lower
priority for the chain alone did not take them away, since the fair scheduler lets a running
thread finish its slice before a woken one of higher weight runs.

Under SCHED_FIFO the loop thread takes a core the moment it wakes (worst wake-up lag 5.7-8.6 ms
with nice values alone, median of the per-exposure worst 4 ms; 1.9-4.2 ms and 1.1-1.5 ms with the
loop real-time). It is the way audio servers run their audio thread: the loop's steps are short (under
1.5 ms of CPU, measured), and the kernel's real-time throttling keeps 5 % of every core for
everything else even if a bug made the loop spin. It needs root, CAP_SYS_NICE or an RLIMIT_RTPRIO
(the systemd unit grants `LimitRTPRIO=1`); without them the loop stays at normal priority and says so.

Only threads that never hold the GIL while they work are lowered: rayon's pool (the chain runs
detached from the interpreter) and argon2's (dros.auth.passwords). A lowered thread that runs
Python would hold the GIL while other processes take its core, and the loop would wait for it:
a priority inversion through the GIL. Executors that run Python stay at normal priority.

Linux keeps the scheduling policy and nice value per thread, and a new thread inherits its
creator's: the loop thread sets SCHED_RESET_ON_FORK, so threads and processes it starts begin at
normal priority. Raising a nice value back needs privileges, so these calls only ever lower.
Elsewhere they do nothing.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable

log = logging.getLogger("dros.runtime")

# the imaging chain's pool: a tenth of the weight of a normal thread when both want a core
# (argon2 goes lower still: dros.auth.passwords)
BACKGROUND_NICE = 10


def lower_thread(thread_id: int, nice: int) -> bool:
    """Set OS thread `thread_id` to `nice` unless it already runs lower; True when it runs at `nice` or lower."""
    try:
        current = os.getpriority(os.PRIO_PROCESS, thread_id)
        if current < nice:
            os.setpriority(os.PRIO_PROCESS, thread_id, nice)
        return True
    except (OSError, AttributeError):  # gone, not allowed, or not a POSIX system
        return False


def lower_this_thread(nice: int = BACKGROUND_NICE) -> bool:
    """Lower the calling thread (a worker thread's first call, before it takes work)."""
    return lower_thread(threading.get_native_id(), nice)


def lower_threads(thread_ids: Iterable[int], nice: int = BACKGROUND_NICE) -> int:
    """Lower each of `thread_ids`; returns how many run at `nice` or lower afterwards."""
    return sum(lower_thread(tid, nice) for tid in thread_ids)


def raise_loop_thread(priority: int) -> str:
    """Put the calling thread (the event loop's) under SCHED_FIFO at `priority` (0: leave it);
    returns how it is scheduled afterwards ("fifo 1", "normal"), for the log and the health report."""
    if priority > 0:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO | os.SCHED_RESET_ON_FORK, os.sched_param(priority))
        except (OSError, AttributeError) as exc:
            log.warning(
                "the event loop runs at normal priority (real-time priority %d refused: %s); grant the "
                "service RLIMIT_RTPRIO (systemd: LimitRTPRIO=%d) for the shortest wake-ups",
                priority,
                exc,
                priority,
            )
    return loop_scheduling()


def loop_scheduling() -> str:
    """How the calling thread is scheduled: "fifo <priority>", "rr <priority>" or "normal"."""
    try:
        policy = os.sched_getscheduler(0) & ~getattr(os, "SCHED_RESET_ON_FORK", 0)
        if policy in (os.SCHED_FIFO, os.SCHED_RR):
            name = "fifo" if policy == os.SCHED_FIFO else "rr"
            return f"{name} {os.sched_getparam(0).sched_priority}"
    except (OSError, AttributeError):
        pass
    return "normal"
