"""The loop-lag probe measures how late the loop wakes it: a blocking call shows as lag."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from dros.runtime.loop_lag import LoopLagProbe


def test_blocking_the_loop_shows_as_lag() -> None:
    async def scenario() -> LoopLagProbe:
        probe = LoopLagProbe(interval_s=0.005, warn_ms=50)
        probe.start()
        await asyncio.sleep(0.05)
        time.sleep(0.12)  # the loop is blocked for 120 ms
        await asyncio.sleep(0.05)
        probe.stop()
        return probe

    probe = asyncio.run(scenario())
    snap = probe.snapshot()
    assert probe.worst_ms >= 100, snap
    assert snap.worst_ms == pytest.approx(probe.worst_ms, abs=0.001)
    assert snap.recent_worst_ms >= 100 and snap.stalls_over_warn == 1
    assert snap.samples >= 10 and snap.recent_samples == snap.samples
    assert not snap.running


def test_busy_part_counts_the_loops_own_cpu_work_not_waiting() -> None:
    """`worst_busy_ms` is the lateness the loop thread spent computing: a 60 ms CPU loop shows in it,
    a 60 ms sleep on the loop (the thread holds the loop but uses no CPU, as when the OS does not
    run it) shows as lag only."""

    def spin(seconds: float) -> None:
        end = time.thread_time() + seconds
        while time.thread_time() < end:
            pass

    async def scenario(block: str) -> LoopLagProbe:
        probe = LoopLagProbe(interval_s=0.005)
        probe.start()
        await asyncio.sleep(0.03)
        if block == "cpu":
            spin(0.06)
        else:
            time.sleep(0.06)
        await asyncio.sleep(0.03)
        probe.stop()
        return probe

    cpu = asyncio.run(scenario("cpu")).snapshot()
    assert cpu.worst_ms >= 55 and cpu.worst_busy_ms >= 50, cpu
    waited = asyncio.run(scenario("sleep")).snapshot()
    assert waited.worst_ms >= 55 and waited.worst_busy_ms < 20, waited


def test_an_idle_loop_shows_no_stall_and_reset_forgets() -> None:
    async def scenario() -> tuple[float, float, int]:
        async with LoopLagProbe(interval_s=0.005) as probe:
            await asyncio.sleep(0.02)  # the probe task runs its first wake-up
            time.sleep(0.06)
            await asyncio.sleep(0.02)
            blocked = probe.worst_ms
            probe.reset()
            await asyncio.sleep(0.2)
            return blocked, probe.worst_ms, probe.samples

    blocked, idle_worst, samples = asyncio.run(scenario())
    assert blocked >= 50
    # after reset only the idle wake-ups count: far below the 60 ms block (a loaded machine adds a few ms)
    assert idle_worst < 40 and samples >= 10


def test_a_stall_above_the_threshold_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        async with LoopLagProbe(interval_s=0.005, warn_ms=30, log_every_s=0.05):
            await asyncio.sleep(0.01)
            time.sleep(0.05)
            await asyncio.sleep(0.1)

    with caplog.at_level(logging.WARNING, logger="dros.loop_lag"):
        asyncio.run(scenario())
    stalls = [r for r in caplog.records if r.name == "dros.loop_lag"]
    assert stalls and "event loop stalled" in stalls[0].getMessage()


def test_start_needs_a_running_loop_and_bad_intervals_are_refused() -> None:
    with pytest.raises(RuntimeError):
        LoopLagProbe().start()
    with pytest.raises(ValueError):
        LoopLagProbe(interval_s=0)
