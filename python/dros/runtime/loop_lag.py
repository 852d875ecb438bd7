"""Event-loop lag probe: a periodic task that measures how late the loop wakes it.

Every `interval_s` the probe asks the loop to wake it; the difference between when it asked to
be woken and when it ran is the time something else held the loop (a blocking call, a long
synchronous stretch). The worst lag since start/`reset()` and the worst/p99 over a recent window
are kept; when the recent worst exceeds `warn_ms` a warning is logged at most every `log_every_s`.

Usage (in any running loop — the service starts one in its lifespan, tests and benchmarks may
start their own):

    probe = LoopLagProbe(interval_s=0.005)
    probe.start()            # inside a running loop
    ...                      # the work under test
    assert probe.worst_ms <= 20
    probe.stop()

or `async with LoopLagProbe() as probe: ...`. `snapshot()` and `worst_ms` may be read from any
thread.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import deque
from types import TracebackType

import msgspec

log = logging.getLogger("dros.loop_lag")


class LoopLagSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """The probe's figures, in milliseconds."""

    running: bool
    interval_ms: float
    samples: int  # wake-ups measured since start/reset
    worst_ms: float  # worst lag since start/reset
    warn_ms: float
    stalls_over_warn: int  # wake-ups later than warn_ms since start/reset
    window_s: float
    recent_samples: int
    recent_worst_ms: float  # worst lag within the last window_s
    recent_p99_ms: float
    recent_mean_ms: float
    # The part of a late wake-up that the loop thread itself spent running (its CPU time over the
    # sleep): our own blocking. The rest of a lateness is the OS not running the thread (another
    # process had the core) or the thread waiting for the GIL.
    worst_busy_ms: float = 0.0


class LoopLagProbe:
    def __init__(
        self,
        interval_s: float = 0.005,
        *,
        window_s: float = 60.0,
        warn_ms: float = 50.0,
        log_every_s: float = 60.0,
        logger: logging.Logger | None = None,
    ) -> None:
        if interval_s <= 0 or window_s <= 0:
            raise ValueError("interval_s and window_s must be positive")
        self.interval_s = interval_s
        self.window_s = window_s
        self.warn_ms = warn_ms
        self.log_every_s = log_every_s
        self._log = logger or log
        self._lock = threading.Lock()
        # (monotonic time, lag ms); bounded so a long window at a short interval stays small
        self._recent: deque[tuple[float, float]] = deque(maxlen=max(16, math.ceil(window_s / interval_s) + 1))
        self._task: asyncio.Task[None] | None = None
        self._samples = 0
        self._worst_ms = 0.0
        self._worst_busy_ms = 0.0
        self._stalls = 0

    # -- control ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start measuring on the running loop (call from a coroutine or loop callback)."""
        if self.running:
            return
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._run(), name="dros-loop-lag-probe")

    def stop(self) -> None:
        """Stop measuring; the figures stay readable."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()

    def reset(self) -> None:
        """Forget every figure measured so far (e.g. after start-up work, before a test's load)."""
        with self._lock:
            self._recent.clear()
            self._samples = 0
            self._worst_ms = 0.0
            self._worst_busy_ms = 0.0
            self._stalls = 0

    async def __aenter__(self) -> LoopLagProbe:
        self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- figures ---------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def worst_ms(self) -> float:
        return self._worst_ms

    @property
    def samples(self) -> int:
        return self._samples

    def snapshot(self) -> LoopLagSnapshot:
        now = time.monotonic()
        with self._lock:
            recent = [lag for t, lag in self._recent if now - t <= self.window_s]
            samples, worst, stalls, busy = self._samples, self._worst_ms, self._stalls, self._worst_busy_ms
        recent.sort()
        p99 = recent[min(len(recent) - 1, math.ceil(0.99 * len(recent)) - 1)] if recent else 0.0
        return LoopLagSnapshot(
            running=self.running,
            interval_ms=round(self.interval_s * 1000, 3),
            samples=samples,
            worst_ms=round(worst, 3),
            warn_ms=self.warn_ms,
            stalls_over_warn=stalls,
            window_s=self.window_s,
            recent_samples=len(recent),
            recent_worst_ms=round(recent[-1], 3) if recent else 0.0,
            recent_p99_ms=round(p99, 3),
            recent_mean_ms=round(sum(recent) / len(recent), 3) if recent else 0.0,
            worst_busy_ms=round(busy, 3),
        )

    # -- the probe task --------------------------------------------------------------------
    def _record(self, lag_ms: float, busy_ms: float, now: float) -> None:
        with self._lock:
            self._recent.append((now, lag_ms))
            self._samples += 1
            if lag_ms > self._worst_ms:
                self._worst_ms = lag_ms
            if busy_ms > self._worst_busy_ms:
                self._worst_busy_ms = busy_ms
            if lag_ms > self.warn_ms:
                self._stalls += 1

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_log = time.monotonic() + self.log_every_s
        while True:
            # the loop's clock is what schedules the wake-up, so lateness is measured on it
            asked = loop.time() + self.interval_s
            cpu_before = time.thread_time()  # this coroutine runs on the loop thread
            await asyncio.sleep(self.interval_s)
            woke = loop.time()
            lag_ms = max(0.0, (woke - asked) * 1000.0)
            # CPU the loop thread spent while this task slept bounds how much of the lateness was
            # the loop's own work (callbacks that ran too long) rather than waiting to be scheduled
            busy_ms = min(lag_ms, (time.thread_time() - cpu_before) * 1000.0)
            self._record(lag_ms, busy_ms, time.monotonic())
            if self.log_every_s > 0 and time.monotonic() >= next_log:
                next_log = time.monotonic() + self.log_every_s
                self._log_if_stalled()

    def _log_if_stalled(self) -> None:
        snap = self.snapshot()
        if snap.recent_worst_ms > self.warn_ms:
            self._log.warning(
                "event loop stalled: worst %.1f ms, p99 %.1f ms over the last %.0f s (%d wake-ups); "
                "something blocks the loop",
                snap.recent_worst_ms,
                snap.recent_p99_ms,
                snap.window_s,
                snap.recent_samples,
                extra={"loop_lag": msgspec.to_builtins(snap)},
            )
