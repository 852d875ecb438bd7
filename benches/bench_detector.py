"""Detector data channel: hand-off of a 3072×3072 16-bit frame (18.9 MB) from the panel to the acquisition
loop, and how long the event loop is held while frames arrive.

Two set-ups:

* ``subprocess``: the simulator runs as its own process (`dros simulate detector`, instant profile,
  replaying one stored frame so the phantom's generation time stays out of the figure) — the driver alone
  on the measured loop, as with a real panel;
* ``inprocess``: the simulator runs in the same process and loop as the driver, generating phantoms — the
  service's default room (`device.detector = "simulator"`).

Measured per frame: ``handoff`` — the panel starts sending (header timestamp) → the driver hands a verified
ndarray over (loopback TCP, reassembly, CRC32 in a thread); ``cycle`` — the X-ray window closes (XOFF) →
`read_frame` returns. For the loop: every callback the loop runs during the frames is timed
(`asyncio.Handle._run` wrapped): its CPU time on the loop thread (what our code makes the loop wait) and its
wall time (adds waiting for the GIL and being preempted). Target: longest callback ≤ 5 ms. Also the worst
wake-up lag of `dros.runtime.loop_lag.LoopLagProbe` (every millisecond) during the frames, next to the same
probe on the idle loop just before: on two shared, loaded cores the wall-clock lag is dominated by the OS
scheduler (idle figures of 5–35 ms were seen), so it is not the target's measure.

Timing targets are asserted only with ``--benchmark-enable``; the suite runs one frame of each as a test.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dros.device.base import ArmRequest, EndOfExposure, Focus, PostExposure
from dros.device.detector import DetectorDriver
from dros.runtime.loop_lag import LoopLagProbe
from dros.simulators.detector import DetectorSimulator
from dros.simulators.detector_frames import PanelResponse

SIZE = 3072
POST = PostExposure(kv=70, ma=200, ms=50, mas=10, focus=Focus.LARGE, end=EndOfExposure.NORMAL)


class CallbackTimer:
    """Times every callback the event loop runs (CPU of the loop thread, and wall) while installed."""

    def __init__(self) -> None:
        self.cpu_ms: list[float] = []
        self.wall_ms: list[float] = []
        self.gc_full_ms: list[float] = []
        self.slowest: list[tuple[float, str]] = []  # the callbacks above 1 ms CPU, named
        self._orig: Callable[[asyncio.Handle], None] | None = None
        self._gc_t0 = 0.0

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_t0 = time.thread_time()
        elif info.get("generation") == 2:
            self.gc_full_ms.append((time.thread_time() - self._gc_t0) * 1e3)

    def __enter__(self) -> CallbackTimer:
        orig = asyncio.Handle._run
        self._orig = orig
        cpu, wall, slowest = self.cpu_ms, self.wall_ms, self.slowest

        def timed(handle: asyncio.Handle) -> None:
            c0, w0 = time.thread_time(), time.perf_counter()
            try:
                orig(handle)
            finally:
                c = (time.thread_time() - c0) * 1e3
                cpu.append(c)
                wall.append((time.perf_counter() - w0) * 1e3)
                if c > 1.0:
                    slowest.append((round(c, 2), repr(handle)[:160]))

        asyncio.Handle._run = timed  # type: ignore[method-assign]
        gc.callbacks.append(self._gc)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._orig is not None
        asyncio.Handle._run = self._orig  # type: ignore[method-assign]
        gc.callbacks.remove(self._gc)


async def _frames(drv: DetectorDriver, rounds: int) -> dict[str, Any]:
    handoff: list[float] = []
    cycle: list[float] = []
    await drv.start()
    try:
        await drv.wait_for(lambda s: s.ready, 30.0)
        async with LoopLagProbe(interval_s=0.001) as idle:
            await asyncio.sleep(1.0)
        with CallbackTimer() as timer:
            async with LoopLagProbe(interval_s=0.001) as probe:
                for _ in range(rounds):
                    await drv.arm(ArmRequest(view_id="View_DX_T_A_SK_AP_00", thickness_cm=19))
                    await drv.exposure_started()
                    t0 = time.perf_counter()
                    await drv.exposure_ended(POST)
                    frame = await drv.read_frame(60.0)
                    cycle.append((time.perf_counter() - t0) * 1e3)
                    handoff.append(float(frame.metadata["transfer_ms"]))
                    assert frame.pixels.shape == (SIZE, SIZE)
                    del frame
    finally:
        await drv.stop()
    cpu = sorted(timer.cpu_ms)
    return {
        "frames": len(handoff),
        "handoff_median_ms": round(statistics.median(handoff), 1),
        "handoff_max_ms": round(max(handoff), 1),
        "cycle_median_ms": round(statistics.median(cycle), 1),
        "callbacks": len(cpu),
        "callback_max_cpu_ms": round(cpu[-1], 2),
        "callback_p99_cpu_ms": round(cpu[int(0.99 * (len(cpu) - 1))], 3),
        "callback_max_wall_ms": round(max(timer.wall_ms), 2),
        "gc_full_collections_ms": [round(x, 2) for x in timer.gc_full_ms],
        "callbacks_over_1ms": sorted(timer.slowest, reverse=True)[:5],
        "loop_lag_worst_ms": round(probe.worst_ms, 2),
        # the loop thread's own CPU within its worst lateness (our stall; the rest is the OS or the GIL)
        "loop_lag_worst_busy_ms": round(probe.snapshot().worst_busy_ms, 2),
        "loop_lag_p99_ms": round(probe.snapshot().recent_p99_ms, 2),
        "loop_lag_idle_worst_ms": round(idle.worst_ms, 2),
        "load_avg_1min": round(os.getloadavg()[0], 2),
    }


async def _inprocess(rounds: int) -> dict[str, Any]:
    sim = DetectorSimulator("instant", PanelResponse(width=SIZE, height=SIZE), render_apart=True)  # as in the service
    cport, _ = await sim.serve_tcp()
    try:
        return await _frames(DetectorDriver(f"socket://127.0.0.1:{cport}"), rounds)
    finally:
        await sim.close()


def _report(benchmark: Any, info: dict[str, Any]) -> None:
    benchmark.extra_info.update(info)
    print(info)
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    assert info["callbacks"] > 0 and info["frames"] >= 1


def test_handoff_panel_in_its_own_process(benchmark: Any, tmp_path: Path) -> None:
    benchmark.group = f"detector data channel {SIZE}x{SIZE}"
    frame = np.random.default_rng(0).integers(0, 65535, size=(SIZE, SIZE), dtype=np.uint16)
    np.save(tmp_path / f"noise_{SIZE}_{SIZE}_1.npy", frame)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dros", "simulate", "detector", "--profile", "instant", "--replay", str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        control = json.loads(proc.stdout.readline())["control"]
        info = asyncio.run(_frames(DetectorDriver(control), 10 if benchmark.enabled else 1))
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    _report(benchmark, info)
    if benchmark.enabled:
        assert info["handoff_median_ms"] <= 250, info  # 18.9 MB over loopback + CRC on 2 shared cores
        assert info["callback_max_cpu_ms"] <= 5.0, info


@pytest.mark.parametrize("rounds", [3])
def test_handoff_panel_in_process(benchmark: Any, rounds: int) -> None:
    benchmark.group = f"detector data channel {SIZE}x{SIZE}"
    info = asyncio.run(_inprocess(rounds if benchmark.enabled else 1))
    _report(benchmark, info)
    if benchmark.enabled:
        assert info["callback_max_cpu_ms"] <= 5.0, info
