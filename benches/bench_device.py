"""Generator link: command round trip driver ↔ simulator over a pty and over TCP, and the event loop's worst
stall while the device layer runs under load.

The simulators run as their own processes (`dros simulate generator|detector`, instant profile), so the
figures are the driver's and the line's, not the simulator's work on our loop.

* ``round trip``: one `ST` command (9-byte request, ~14-byte answer) → parsed reply, median and p99 over
  many. Neither a pty nor loopback TCP adds line time; a real 19200-baud 8N1 line adds 10 bits/byte =
  0.52 ms per byte, ≈ 12 ms for this exchange. Target ≤ 2 ms median.
* ``loop stall under load``: 8 clients changing parameters as fast as answers come, a 50 ms heartbeat, garbage
  on the line, and exposures through `DeviceManager` (prep, expose, post-exposure record, detector frame
  128×128) — meanwhile `dros.runtime.loop_lag.LoopLagProbe` wakes every millisecond. Reported: the worst and
  p99 wake-up lag (wall clock, includes the OS scheduler on two shared cores; an idle baseline is measured just
  before), and the longest single loop step in CPU time of the loop's thread — what the device layer itself
  makes the loop wait. Target ≤ 5 ms.

Timing targets are asserted only with ``--benchmark-enable``; the suite runs a short version as a test.
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
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from dros.device.base import ArmRequest, DeviceBusy, DeviceFault, ExposureRequest, Technique
from dros.device.detector import DetectorDriver
from dros.device.generator import GeneratorDriver
from dros.device.manager import DeviceManager
from dros.runtime.loop_lag import LoopLagProbe
from dros.runtime.priority import raise_loop_thread


@contextmanager
def process(*args: str) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "dros", "simulate", *args, "--profile", "instant"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        yield proc, json.loads(proc.stdout.readline())
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


async def _round_trips(url: str, n: int) -> list[float]:
    drv = GeneratorDriver(url, loop_time_s=5.0)
    await drv.start()
    try:
        assert await drv.wait_connected(20.0)
        for _ in range(50):  # warm-up
            await drv.call("ST")
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            await drv.call("ST")
            out.append((time.perf_counter() - t0) * 1e3)
        return out
    finally:
        await drv.stop()


@pytest.mark.parametrize("link", ["pty", "tcp"])
def test_command_round_trip(benchmark: Any, link: str) -> None:
    benchmark.group = "generator command round trip"
    with process("generator", "--listen", link) as (_, info):
        n = 2000 if benchmark.enabled else 50
        times = asyncio.run(_round_trips(info["url"], n))
    median = statistics.median(times)
    p99 = sorted(times)[int(0.99 * (len(times) - 1))]
    benchmark.extra_info.update({"link": link, "median_ms": round(median, 3), "p99_ms": round(p99, 3), "n": n})
    print({"link": link, "median_ms": round(median, 3), "p99_ms": round(p99, 3), "n": n})
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    assert len(times) == n
    if benchmark.enabled:
        assert median <= 2.0, (link, median)


class StepTimer:
    """Times every loop step (callback or task step) in CPU time of the loop's thread."""

    def __init__(self) -> None:
        self.max_ms = 0.0
        self.steps = 0
        self._orig = asyncio.events.Handle._run

    def __enter__(self) -> StepTimer:
        timer = self
        orig = self._orig

        def _run(handle: asyncio.events.Handle) -> None:
            t0 = time.thread_time()
            orig(handle)
            dt = (time.thread_time() - t0) * 1e3
            timer.steps += 1
            if dt > timer.max_ms:
                timer.max_ms = dt

        asyncio.events.Handle._run = _run  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.events.Handle._run = self._orig  # type: ignore[method-assign]


async def _load(
    gen_url: str, det_control: str, det_data: str, seconds: float, exposures: int, noise: Callable[[], None]
) -> dict[str, Any]:
    gen = GeneratorDriver(gen_url, loop_time_s=0.05, reply_timeout_s=0.2)
    host, port = det_data.rsplit(":", 1)
    det = DetectorDriver(det_control, data_address=(host, int(port)), loop_time_s=0.2)
    devices = DeviceManager(gen, det)
    await devices.start()
    try:
        await devices.wait_for(lambda s: s.gen_ready and s.fpd_ready, 30.0)
        await devices.load_technique(Technique(kv=70, ma=200, ms=20, mas=4))
        # As the served worker does after start-up (lifespan): what lives for the process's life leaves
        # the collector's sight. Without it a full collection walks pytest's own heap (20-40 ms measured)
        # inside whichever loop step allocates at the wrong moment - a test-harness stall, not the layer's.
        gc.collect()
        gc.freeze()
        # and its loop thread runs real-time where permitted (its own thread here: the policy stays with it)
        scheduling = raise_loop_thread(1)
        async with LoopLagProbe(interval_s=0.001) as idle:
            await asyncio.sleep(0.5)
        stop = asyncio.Event()
        commands = [0]

        async def client(i: int) -> None:
            while not stop.is_set():
                with suppress(DeviceFault, DeviceBusy):
                    await devices.set_param("KV", 60 + (commands[0] + i) % 40)
                    commands[0] += 1
                await asyncio.sleep(0)

        done = [0]

        async def exposer() -> None:
            for k in range(exposures):
                while devices.status.exposing:
                    await asyncio.sleep(0.001)
                await devices.arm(ArmRequest(view_id="bench"))
                result = await devices.expose(ExposureRequest(press_id=f"bench-{k}"))
                assert result.frame is not None
                done[0] += 1

        async def garbage() -> None:
            while not stop.is_set():
                await asyncio.to_thread(noise)  # random bytes from the generator onto the line
                await asyncio.sleep(0.05)

        with StepTimer() as steps:
            async with LoopLagProbe(interval_s=0.001) as probe:
                tasks = [asyncio.create_task(client(i)) for i in range(8)]
                tasks.append(asyncio.create_task(garbage()))
                t0 = time.perf_counter()
                await exposer()
                remaining = seconds - (time.perf_counter() - t0)
                if remaining > 0:
                    await asyncio.sleep(remaining)
                stop.set()
                await asyncio.gather(*tasks)
                snap = probe.snapshot()
        return {
            "loop_lag_worst_ms": round(snap.worst_ms, 2),
            # the loop thread's own CPU within its worst lateness: our stall (target ≤ 5 ms); the rest of
            # the wall-clock figure is the thread waiting for a core or for the GIL
            "loop_lag_worst_busy_ms": round(snap.worst_busy_ms, 2),
            "loop_lag_p99_ms": round(snap.recent_p99_ms, 3),
            "loop_lag_idle_worst_ms": round(idle.worst_ms, 2),
            "loop_step_max_cpu_ms": round(steps.max_ms, 3),
            "loop_steps": steps.steps,
            "commands": commands[0],
            "exposures": done[0],
            "seconds": round(time.perf_counter() - t0, 2),
            "load_avg_1min": round(os.getloadavg()[0], 2),
            "loop_scheduling": scheduling,
        }
    finally:
        gc.unfreeze()
        await devices.stop(timeout_s=2.0)


def test_loop_stall_under_device_load(benchmark: Any, tmp_path: Path) -> None:
    benchmark.group = "device layer loop stall"
    with (
        process("generator", "--listen", "tcp") as (gproc, g),
        process("detector", "--width", "128", "--height", "128") as (_, d),
    ):
        seconds, exposures = (5.0, 20) if benchmark.enabled else (0.5, 2)

        def noise() -> None:
            assert gproc.stdin is not None and gproc.stdout is not None
            gproc.stdin.write("noise 64\n")
            gproc.stdin.flush()
            gproc.stdout.readline()

        with ThreadPoolExecutor(1, thread_name_prefix="bench-loop") as own_thread:
            info = own_thread.submit(
                asyncio.run, _load(g["url"], d["control"], d["data"], seconds, exposures, noise)
            ).result()
    benchmark.extra_info.update(info)
    print(info)
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    assert info["exposures"] == exposures and info["commands"] > 0
    if benchmark.enabled:
        # The device layer's own stall; the wall-clock lag is reported beside its idle baseline and the load
        # average, since on two shared cores it is set by the OS scheduler (see the module docstring).
        assert info["loop_step_max_cpu_ms"] <= 5.0, info
        if info["loop_scheduling"] != "normal":  # as served where permitted: the wake-up itself is bounded
            assert info["loop_lag_worst_ms"] <= 5.0, info
