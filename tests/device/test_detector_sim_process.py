"""`dros simulate detector` as its own process: the driver sees it die (error) and reconnects when it is back
on the same ports; the control channel also works over the pty the program prints."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from dros.device.base import DeviceFault, LinkState
from dros.device.detector import DetectorDriver
from tests.ports import free_port

from .detector_helpers import expose

PROCS: list[subprocess.Popen[str]] = []


@contextmanager
def simulator(*args: str, stdin: int | None = subprocess.DEVNULL) -> Iterator[dict[str, str]]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dros",
            "simulate",
            "detector",
            "--profile",
            "instant",
            "--width",
            "128",
            "--height",
            "128",
            *args,
        ],
        stdout=subprocess.PIPE,
        stdin=stdin,
        text=True,
        start_new_session=True,
    )
    PROCS.append(proc)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, "the simulator printed no address line"
        info: dict[str, str] = json.loads(line)
        info["pid"] = str(proc.pid)
        yield info
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def test_killed_simulator_shows_as_lost_and_reconnects_when_restarted() -> None:
    cport, dport = free_port(), free_port()
    ports = ("--port", str(cport), "--data-port", str(dport))

    async def main() -> None:
        drv = DetectorDriver(f"socket://127.0.0.1:{cport}", loop_time_s=0.2, reconnect_s=0.2, command_timeout_s=0.3)
        try:
            with simulator(*ports) as info:
                await drv.start()
                await drv.wait_for(lambda s: s.ready, 20.0)
                assert (await expose(drv)).pixels.shape == (128, 128)
                os.killpg(int(info["pid"]), signal.SIGKILL)  # the cable is pulled
                await drv.wait_for(lambda s: s.link == LinkState.LOST, 5.0)
                assert drv.status.seed_status == "DETECTOR_STATUS_DISCONNECTED" and not drv.status.ready
                assert drv.last_error
            await asyncio.sleep(0.5)  # still lost while nothing listens
            assert drv.status.link == LinkState.LOST
            with simulator(*ports):
                await drv.wait_for(lambda s: s.link == LinkState.CONNECTED and s.ready, 20.0)
                assert drv.stats.link_losses == 1 and drv.stats.connects == 2
                assert (await expose(drv)).frame_id == 1  # a new panel session
        finally:
            await drv.stop()

    asyncio.run(main())


def test_program_on_a_pty() -> None:
    async def main() -> None:
        with simulator("--control", "pty") as info:
            assert info["control"].startswith("/dev/")
            drv = DetectorDriver(info["control"], loop_time_s=0.3)
            await drv.start()
            try:
                await drv.wait_for(lambda s: s.ready, 20.0)
                frame = await expose(drv, kv=70, mas=2)
                assert frame.pixels.shape == (128, 128) and frame.detector_id == "SIM-FPD-0001"
            finally:
                await drv.stop()

    asyncio.run(main())


def test_service_uses_a_panel_running_as_its_own_process() -> None:
    """`device.detector = "panel"`: the device layer drives `dros simulate detector` (or a real panel) over its
    control URL, data channel from the panel's status or `device.detector_data`."""
    from dros.device.setup import build_devices
    from dros.settings import Settings

    async def main() -> None:
        with simulator() as info:
            for data in ("", info["data"]):
                settings = Settings.load(
                    environ={
                        "DROS_DEVICE_GENERATOR": "none",
                        "DROS_DEVICE_DETECTOR": "panel",
                        "DROS_DEVICE_DETECTOR_URL": info["control"],
                        "DROS_DEVICE_DETECTOR_DATA": data,
                        "DROS_DEVICE_DETECTOR_DN_PER_UGY": "400",
                        "DROS_DEVICE_LOOP_TIME_MS": "300",
                    }
                )
                devices = await build_devices(settings)
                await devices.start()
                try:
                    await devices.wait_for(lambda s: s.fpd_ready, 20.0)
                    assert devices.status.fpd_status == "DETECTOR_STATUS_STANDBY"
                    det = devices.detector
                    assert isinstance(det, DetectorDriver)
                    frame = await expose(det)
                    assert frame.pixels.shape == (128, 128) and frame.calibration.dn_per_ugy == 400.0
                finally:
                    await devices.stop()

    asyncio.run(main())


def test_panel_settings_are_checked_at_start() -> None:
    from dros.device.setup import build_devices
    from dros.settings import Settings

    async def build(env: dict[str, str]) -> None:
        await build_devices(Settings.load(environ={"DROS_DEVICE_GENERATOR": "none", **env}))

    with pytest.raises(ValueError, match=r"needs device\.detector_url"):
        asyncio.run(build({"DROS_DEVICE_DETECTOR": "panel"}))
    with pytest.raises(ValueError, match="must be simulator, panel or none"):
        asyncio.run(build({"DROS_DEVICE_DETECTOR": "flatpanel"}))
    with pytest.raises(ValueError, match="host:port"):
        asyncio.run(build({"DROS_DEVICE_DETECTOR": "panel", "DROS_DEVICE_DETECTOR_URL": "socket://h:1",
                           "DROS_DEVICE_DETECTOR_DATA": "nonsense"}))  # fmt: skip


def test_faults_from_standard_input() -> None:
    async def main() -> None:
        with simulator(stdin=subprocess.PIPE) as info:
            proc = PROCS[-1]
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write("corrupt\nbogus\n")
            proc.stdin.flush()
            assert json.loads(proc.stdout.readline()) == {"injected": "corrupt"}
            assert "unknown fault" in json.loads(proc.stdout.readline())["error"]
            drv = DetectorDriver(info["control"], loop_time_s=0.3)
            await drv.start()
            try:
                await drv.wait_for(lambda s: s.ready, 20.0)
                with pytest.raises(DeviceFault, match="failed its checksum"):
                    await expose(drv)
                assert (await expose(drv)).frame_id == 2
            finally:
                await drv.stop()

    asyncio.run(main())
