"""Trigger → `TASK_Success` received by an MQTT subscriber, on the real service stack.

The app runs in-process (Litestar TestClient), the generator and detector simulators run as their own
processes (`dros simulate …`, `instant` profile: no prep, exposure or readout delays), so their work is not
on the service's loop. The detector replays 3072² phantom frames (written once by the Rust phantom), the
broker is a real mosquitto on a free loopback port and the subscriber a gmqtt client in another thread.

Each exposure: `start` (a retake slot of the last image, so every exposure has a fresh view), wait for
`all_ready`, then the measured span from just before `POST trigger` to the arrival of `TASK_Success` at the
subscriber. Per stage (from the service's own timings): trigger → frame in hand (prep, exposure, readout,
transfer, reassembly), raw persist (write + fsync + rename), raw commit (exposure row + TASK_RecvRaw),
imaging chain (and its stages), DICOM write (+ fsync/rename), thumbnail, commit (image row + TASK_Success),
publish (commit → subscriber). Meanwhile the event loop's wake-up lag is sampled every millisecond (wall clock:
includes the OS scheduler on shared cores) and every loop step is timed in CPU time of its thread (what our
code makes the loop wait, `StepTimer` of bench_device).

Targets (asserted only with --benchmark-enable): median ≤ 400 ms, p95 ≤ 600 ms, longest loop step ≤ 5 ms CPU,
and, when the loop thread runs real-time as the served worker does where permitted (dros.runtime.priority),
worst wall-clock wake-up lag ≤ 5 ms; at normal priority the lag is reported only (the scheduler's tick is 4 ms).
With --benchmark-disable the suite runs 2 exposures to prove the bench works.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from tests.acquisition.test_loop import API, Listener, wait_status
from tests.conftest import login
from tests.mqtt_peers import Broker
from tests.studies import images_of, register

from benches.bench_device import StepTimer as _StepTimer
from dros import imaging
from dros.app import create_app
from dros.device.detector import DetectorDriver
from dros.device.manager import DeviceManager
from dros.device.setup import _generator_driver
from dros.settings import Settings

SIZE = 3072


class StepTimer(_StepTimer):
    """bench_device's loop-step timer, also naming the longest step (where to look when it is long)."""

    def __enter__(self) -> StepTimer:
        import asyncio

        timer = self
        orig = self._orig
        self.where = ""

        def _run(handle: asyncio.events.Handle) -> None:
            t0 = time.thread_time()
            orig(handle)
            dt = (time.thread_time() - t0) * 1e3
            timer.steps += 1
            if dt > timer.max_ms:
                timer.max_ms = dt
                timer.where = repr(handle)[:300]

        asyncio.events.Handle._run = _run  # type: ignore[method-assign]
        return self


@contextmanager
def simulator(*args: str, profile: str = "instant") -> Iterator[dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "dros", "simulate", *args, "--profile", profile],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        yield json.loads(proc.stdout.readline())
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def replay_folder(folder: Path, n: int = 3) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    for seed in range(n):
        ph = imaging.phantom("rect" if seed % 2 == 0 else "circle", SIZE, SIZE, seed=seed + 11)
        np.save(folder / f"frame_{seed}.npy", ph.raw)
    return str(folder)


@contextmanager
def service(
    tmp: Path, monkeypatch: pytest.MonkeyPatch, profile: str = "instant"
) -> Iterator[tuple[TestClient[Litestar], Listener]]:
    broker = Broker(tmp / "mosquitto")
    broker.start()
    frames = replay_folder(tmp / "frames")
    try:
        with (
            simulator("generator", "--listen", "tcp", profile=profile) as gen,
            simulator(
                "detector", "--width", str(SIZE), "--height", str(SIZE), "--replay", frames, profile=profile
            ) as det,
        ):

            async def build(settings: Settings, **_: object) -> DeviceManager:
                dev = settings.device
                host, port = det["data"].rsplit(":", 1)
                detector = DetectorDriver(
                    str(det["control"]) if "://" in det["control"] else f"socket://{det['control']}",
                    data_address=(host, int(port)),
                    dn_per_ugy=dev.detector_dn_per_ugy,
                    offset_dn=dev.detector_offset_dn,
                    loop_time_s=dev.loop_time_ms / 1000,
                )
                return DeviceManager(_generator_driver(settings, gen["url"]), detector)

            monkeypatch.setattr("dros.lifespan.build_devices", build)
            settings = Settings.load(
                environ={},
                overrides={
                    "data_dir": str(tmp / "data"),
                    "log_level": "WARNING",
                    "mqtt": {"url": broker.url, "reconnect_delay_s": 0.3},
                    "device": {"simulator_profile": profile},
                    "runtime": {"loop_lag_interval_ms": 1.0},
                    "pacs": {"worker": False},
                },
            )
            listener = Listener(broker.port)
            try:
                with TestClient(create_app(settings), base_url="http://127.0.0.1", timeout=60) as c:
                    yield c, listener
            finally:
                listener.close()
    finally:
        broker.kill()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@pytest.mark.parametrize("profile", ["instant", "realistic"])
def test_trigger_to_task_success(benchmark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, profile: str) -> None:
    """`instant`: the service's own time (targets asserted). `realistic` (prep ≈ 1 s, readout 1.3 s): the time
    an operator waits from the exposure button to the image, reported only."""
    enabled = not benchmark.disabled
    runs = (30 if profile == "instant" else 8) if enabled else 1
    with service(tmp_path, monkeypatch, profile) as (c, listener):
        h = {"Authorization": f"Bearer {login(c, 'tech')}", "Product": "DROS"}
        sop = images_of(register(c, h))[0]["sop_instance_uid"]
        acq = c.app.state.acquisition
        probe = c.app.state.loop_lag
        scheduling = c.app.state.loop_scheduling
        spans: list[float] = []
        stages: list[dict[str, float]] = []
        worst_lag: list[float] = []
        worst_busy: list[float] = []

        def one() -> None:
            nonlocal sop
            assert c.post(f"{API}/start", headers=h, json={"instance_uid": sop}).status_code == 200
            wait_status(c, h, lambda s: s["all_ready"])
            cur = acq.current
            assert cur is not None
            time.sleep(0.05)  # let start's status traffic settle before timing
            probe.reset()
            t0 = time.monotonic()
            assert c.post(f"{API}/trigger", headers=h).status_code == 200
            end = listener.wait_end(cur.sop)
            assert end["status"] == "TASK_Success", end
            arrived = next(m.at for m in listener.sub.messages if m.payload.get("sop") == cur.sop  # type: ignore[union-attr]
                           and m.payload.get("status") == "TASK_Success")  # fmt: skip
            spans.append((arrived - t0) * 1000)
            t = dict(acq.timings[-1])
            t["publish_ms"] = (arrived - t.pop("committed_monotonic")) * 1000
            stages.append(t)
            snap = probe.snapshot()
            worst_lag.append(snap.worst_ms)
            worst_busy.append(snap.worst_busy_ms)
            wait_status(c, h, lambda s: s["insp_status"] == "TASK_Exposed")
            sop = cur.sop

        one()  # warm-up (first-use costs: thread pools, page cache of the replay files)
        spans.clear()
        stages.clear()
        worst_lag.clear()
        worst_busy.clear()
        with StepTimer() as steps:
            benchmark.pedantic(one, rounds=runs, iterations=1)

    med, p95 = statistics.median(spans), _pct(spans, 0.95)
    keys = sorted({k for s in stages for k in s})
    breakdown = {k: round(statistics.median([s[k] for s in stages if k in s]), 1) for k in keys}
    benchmark.extra_info.update(
        {
            "trigger_to_success_median_ms": round(med, 1),
            "trigger_to_success_p95_ms": round(p95, 1),
            "runs": len(spans),
            "profile": profile,
            "loop_lag_worst_ms": round(max(worst_lag), 2),
            "loop_lag_median_of_worst_ms": round(statistics.median(worst_lag), 2),
            # the loop thread's own CPU within a late wake-up (our stall; the rest is the OS or the GIL)
            "loop_lag_worst_busy_ms": round(max(worst_busy), 2),
            "load_avg_1min": round(os.getloadavg()[0], 2),
            "loop_step_max_cpu_ms": round(steps.max_ms, 2),
            "loop_scheduling": scheduling,
            "loop_step_max_where": steps.where,
            "stages_median_ms": breakdown,
        }
    )
    print(json.dumps(benchmark.extra_info, indent=1))
    assert len(spans) == runs
    if enabled and profile == "instant":
        assert med <= 400, f"median {med:.1f} ms"
        assert p95 <= 600, f"p95 {p95:.1f} ms"
        assert steps.max_ms <= 5.0, f"a loop step held the loop for {steps.max_ms:.1f} ms of CPU"
        if scheduling != "normal":
            assert max(worst_lag) <= 5.0, f"the loop woke {max(worst_lag):.1f} ms late"
