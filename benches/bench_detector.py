"""Detector data channel: hand-off of a 3072×3072 16-bit frame (18.9 MB) from the panel to the acquisition
loop, and the event loop's worst stall while frames arrive.

The simulator runs as its own process (`dros simulate detector`, instant profile, replaying one stored
frame so the phantom's generation time stays out of the figure). Measured per frame:

* ``handoff``: the panel starts sending (header timestamp) → the driver hands a verified ndarray over
  (transfer over loopback TCP, reassembly, CRC32 in a thread);
* ``cycle``: the X-ray window closes (XOFF) → `read_frame` returns (adds the panel's file read and CRC);
* the loop time the data path takes: the longest single callback of the receiver (reads, reassembly, header
  parsing, hand-over), in CPU time of the loop's thread — what the device layer itself makes the loop wait.
  Target ≤ 5 ms;
* the worst wake-up lag `dros.runtime.loop_lag.LoopLagProbe` (every millisecond) sees during the frames, and
  the same probe on an idle loop just before: on two shared, loaded cores the wall-clock lag is dominated by
  the OS scheduler (idle figures of 10–30 ms were seen), so it is reported next to its idle baseline.

Timing targets are asserted only with ``--benchmark-enable``; the suite runs one frame as a test.
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
from pathlib import Path
from typing import Any

import numpy as np

import dros.device.detector as detector_module
from dros.device.base import ArmRequest, EndOfExposure, Focus, PostExposure
from dros.device.detector import DetectorDriver
from dros.device.detector_data import FrameReceiver
from dros.runtime.loop_lag import LoopLagProbe

SIZE = 3072
POST = PostExposure(kv=70, ma=200, ms=50, mas=10, focus=Focus.LARGE, end=EndOfExposure.NORMAL)
CALLBACK_CPU_MS: list[float] = []
GC_MS: list[float] = []
_gc_start = [0.0]


def _gc_timer(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _gc_start[0] = time.thread_time()
    elif info.get("generation") == 2:
        GC_MS.append((time.thread_time() - _gc_start[0]) * 1e3)


class TimedReceiver(FrameReceiver):
    """The driver's receiver with the loop-thread CPU time of each read callback recorded."""

    def buffer_updated(self, nbytes: int) -> None:
        t0 = time.thread_time()
        super().buffer_updated(nbytes)
        CALLBACK_CPU_MS.append((time.thread_time() - t0) * 1e3)


async def _frames(control: str, rounds: int) -> dict[str, Any]:
    drv = DetectorDriver(control, loop_time_s=2.0)
    await drv.start()
    handoff: list[float] = []
    cycle: list[float] = []
    try:
        await drv.wait_for(lambda s: s.ready, 30.0)
        async with LoopLagProbe(interval_s=0.001) as idle:
            await asyncio.sleep(1.0)
        CALLBACK_CPU_MS.clear()
        GC_MS.clear()
        gc.callbacks.append(_gc_timer)
        async with LoopLagProbe(interval_s=0.001) as probe:
            for _ in range(rounds):
                await drv.arm(ArmRequest())
                await drv.exposure_started()
                t0 = time.perf_counter()
                await drv.exposure_ended(POST)
                frame = await drv.read_frame(30.0)
                cycle.append((time.perf_counter() - t0) * 1e3)
                handoff.append(float(frame.metadata["transfer_ms"]))
                assert frame.pixels.shape == (SIZE, SIZE)
                del frame
            worst = probe.worst_ms
            samples = probe.samples
            p99 = probe.snapshot().recent_p99_ms
        gc.callbacks.remove(_gc_timer)
    finally:
        await drv.stop()
    return {
        "handoff_ms": handoff,
        "cycle_ms": cycle,
        "loop_worst_ms": worst,
        "loop_p99_ms": p99,
        "loop_samples": samples,
        "idle_worst_ms": idle.worst_ms,
        "callback_max_ms": max(CALLBACK_CPU_MS),
        "callback_p99_ms": sorted(CALLBACK_CPU_MS)[int(0.99 * (len(CALLBACK_CPU_MS) - 1))],
        "callbacks": len(CALLBACK_CPU_MS),
        "gc2_ms": list(GC_MS),
    }


def test_frame_handoff_and_loop_stall(benchmark: Any, tmp_path: Path) -> None:
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
        rounds = 10 if benchmark.enabled else 1
        real = detector_module.FrameReceiver
        detector_module.FrameReceiver = TimedReceiver  # type: ignore[misc]
        try:
            result = asyncio.run(_frames(control, rounds))
        finally:
            detector_module.FrameReceiver = real  # type: ignore[misc]
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    info = {
        "handoff_median_ms": round(statistics.median(result["handoff_ms"]), 1),
        "handoff_max_ms": round(max(result["handoff_ms"]), 1),
        "cycle_median_ms": round(statistics.median(result["cycle_ms"]), 1),
        "receiver_callback_max_cpu_ms": round(result["callback_max_ms"], 2),
        "receiver_callback_p99_cpu_ms": round(result["callback_p99_ms"], 3),
        "receiver_callbacks": result["callbacks"],
        "gc_full_collections_ms": [round(x, 2) for x in result["gc2_ms"]],
        "loop_lag_worst_ms": round(result["loop_worst_ms"], 2),
        "loop_lag_p99_ms": round(result["loop_p99_ms"], 2),
        "loop_lag_idle_worst_ms": round(result["idle_worst_ms"], 2),
        "loop_samples": result["loop_samples"],
        "frames": len(result["handoff_ms"]),
    }
    benchmark.extra_info.update(info)
    print(info)
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    assert result["loop_samples"] > 0
    if not benchmark.enabled:
        return
    assert info["handoff_median_ms"] <= 250, info  # 18.9 MB over loopback + CRC on 2 shared cores
    assert info["receiver_callback_max_cpu_ms"] <= 5.0, info
