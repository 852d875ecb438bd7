"""The exposure path of `DeviceManager` with both simulators (generator over a pty, detector over TCP):
one full exposure, and every interlock shown refusing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from dros.device import interlock
from dros.device.base import (
    ArmRequest,
    DetectorStatus,
    DeviceBusy,
    DeviceEvent,
    DeviceFault,
    DeviceNotReady,
    DeviceStatus,
    EndOfExposure,
    ExposureRequest,
    GeneratorLimits,
    GeneratorState,
    GeneratorStatus,
    LinkState,
    TechMode,
    Technique,
)
from dros.device.detector import DetectorDriver
from dros.device.generator import GeneratorDriver
from dros.device.manager import DeviceManager
from dros.device.setup import build_devices
from dros.settings import Settings
from dros.simulators.detector import DetectorSimulator
from dros.simulators.detector_frames import PanelResponse
from dros.simulators.generator import GeneratorSimulator

SMALL = PanelResponse(width=128, height=128)
TECH = Technique(kv=70, ma=200, ms=50, mas=10, work_station=1)


@asynccontextmanager
async def room(
    gen_profile: str = "instant",
) -> AsyncIterator[tuple[DeviceManager, GeneratorSimulator, DetectorSimulator]]:
    gsim = GeneratorSimulator(gen_profile)
    dsim = DetectorSimulator("instant", SMALL)
    gen = GeneratorDriver(await gsim.serve_pty(), loop_time_s=0.2, reply_timeout_s=0.1, reconnect_interval_s=0.1)
    cport, dport = await dsim.serve_tcp()
    det = DetectorDriver(f"socket://127.0.0.1:{cport}", data_address=("127.0.0.1", dport), loop_time_s=0.3)
    devices = DeviceManager(gen, det, backup_margin_s=0.2, simulators=[gsim.close, dsim.close])
    await devices.start()
    try:
        await devices.wait_for(lambda s: s.gen_ready and s.fpd_ready, 10.0)
        await devices.load_technique(TECH)
        yield devices, gsim, dsim
    finally:
        await devices.stop()


def run(body: Callable[[DeviceManager, GeneratorSimulator, DetectorSimulator], Awaitable[None]], **kw: str) -> None:
    async def main() -> None:
        async with room(**kw) as (devices, gsim, dsim):
            await body(devices, gsim, dsim)

    asyncio.run(main())


async def refused(devices: DeviceManager, code: str, press: str = "p") -> DeviceNotReady:
    with pytest.raises(DeviceNotReady) as exc:
        await devices.expose(ExposureRequest(press_id=press))
    assert code in exc.value.interlocks, exc.value.interlocks
    assert exc.value.code.info.code == "0x040001"
    return exc.value


def test_one_exposure_end_to_end_with_events() -> None:
    async def body(devices: DeviceManager, gsim: GeneratorSimulator, dsim: DetectorSimulator) -> None:
        events: list[DeviceEvent] = []
        devices.subscribe(events.append)
        streamed: list[str] = []

        async def consume() -> None:
            async for ev in devices.events():
                if ev.kind == "exposure":
                    streamed.append(ev.name)
                    if ev.name == "frame":
                        return

        consumer = asyncio.create_task(consume())
        await asyncio.sleep(0)
        await devices.arm(ArmRequest(view_id="V1", thickness_cm=18))
        assert devices.status.interlocks == ()  # may expose
        result = await devices.expose(ExposureRequest(press_id="press-1", transaction="tx-9", client_id="console"))
        assert (result.post.kv, result.post.mas, result.post.end) == (70, 10, EndOfExposure.NORMAL)
        assert result.frame is not None and result.frame.pixels.shape == (128, 128)
        assert result.frame.delivered == result.post and result.frame_error == ""
        steps = [e.name for e in events if e.kind == "exposure"]
        assert steps == ["prep", "expose", "ended", "frame"]
        await asyncio.wait_for(consumer, 2.0)
        assert streamed == steps  # the async stream sees the same events
        assert all(e.transaction == "tx-9" and e.client_id == "console" for e in events if e.kind == "exposure")
        await devices.wait_for(lambda s: s.generator.state == GeneratorState.STANDBY, 2.0)
        assert devices.status.generator.heat_pct > 0 and not devices.status.exposing

    run(body)


def test_detector_must_be_armed() -> None:
    async def body(devices: DeviceManager, gsim: GeneratorSimulator, dsim: DetectorSimulator) -> None:
        await refused(devices, "detector_not_armed")
        assert gsim.s.exposures == 0

    run(body)


def test_one_exposure_per_press() -> None:
    async def body(devices: DeviceManager, gsim: GeneratorSimulator, dsim: DetectorSimulator) -> None:
        await devices.arm(ArmRequest(view_id="V1"))
        await devices.expose(ExposureRequest(press_id="same"))
        await devices.arm(ArmRequest(view_id="V1"))
        await refused(devices, "press_used", press="same")
        assert gsim.s.exposures == 1
        await devices.expose(ExposureRequest(press_id="next"))
        assert gsim.s.exposures == 2

    run(body)


def test_concurrent_exposures_one_runs_others_busy() -> None:
    async def body(devices: DeviceManager, gsim: GeneratorSimulator, dsim: DetectorSimulator) -> None:
        await devices.arm(ArmRequest(view_id="V1"))
        results = await asyncio.gather(
            *(devices.expose(ExposureRequest(press_id=f"p{i}")) for i in range(5)), return_exceptions=True
        )
        assert sum(not isinstance(r, BaseException) for r in results) == 1
        busy = [r for r in results if isinstance(r, DeviceBusy)]
        assert len(busy) == 4 and busy[0].code.info.code == "0x040002"
        assert gsim.s.exposures == 1

    run(body)


def test_door_open_refuses() -> None:
    async def body(devices: DeviceManager, gsim: GeneratorSimulator, dsim: DetectorSimulator) -> None:
        await devices.arm(ArmRequest(view_id="V1"))
        gsim.inject("door", 0)
        await devices.wait_for(lambda s: not s.generator.door_closed, 2.0)
        await refused(devices, "door_open")
        assert gsim.s.exposures == 0

    run(body)


def test_active_generator_error_refuses() -> None:
    async def body(devices: DeviceManager, gsim: GeneratorSimulator, dsim: DetectorSimulator) -> None:
        await devices.arm(ArmRequest(view_id="V1"))
        gsim.inject("arc")
        await devices.wait_for(lambda s: s.generator.state == GeneratorState.ERROR, 2.0)
        await refused(devices, "generator_error")
        await devices.clear_errors()
        await devices.wait_for(lambda s: "generator_error" not in s.interlocks, 2.0)

    run(body)


def test_heat_budget_refuses() -> None:
    async def body(devices: DeviceManager, gsim: GeneratorSimulator, dsim: DetectorSimulator) -> None:
        await devices.arm(ArmRequest(view_id="V1"))
        gsim.inject("heat", 99.9)
        await devices.wait_for(lambda s: s.generator.heat_pct > 99, 3.0)
        await refused(devices, "heat_budget")
        assert gsim.s.exposures == 0

    run(body)


def test_detector_calibration_and_error_refuse() -> None:
    async def body(devices: DeviceManager, gsim: GeneratorSimulator, dsim: DetectorSimulator) -> None:
        await devices.arm(ArmRequest(view_id="V1"))
        dsim.inject("expire", "gain")
        await devices.wait_for(lambda s: not s.detector.calibration.usable, 3.0)
        await refused(devices, "detector_calibration")
        dsim.inject("error", "FPD_HW")
        await devices.wait_for(lambda s: bool(s.detector.errors), 3.0)
        await refused(devices, "detector_error")
        assert gsim.s.exposures == 0

    run(body)


def test_lost_links_refuse() -> None:
    async def body(devices: DeviceManager, gsim: GeneratorSimulator, dsim: DetectorSimulator) -> None:
        await devices.arm(ArmRequest(view_id="V1"))
        gsim.inject("silence", 1.0)
        await devices.wait_for(lambda s: s.generator.link != LinkState.CONNECTED, 3.0)
        await refused(devices, "generator_link")
        await devices.wait_for(lambda s: s.generator.link == LinkState.CONNECTED, 5.0)
        dsim.inject("disconnect")
        await devices.wait_for(lambda s: s.detector.link != LinkState.CONNECTED, 3.0)
        await refused(devices, "detector_link")
        assert gsim.s.exposures == 0

    run(body)


def test_backup_timer_aborts_and_blocks_until_cleared() -> None:
    async def body(devices: DeviceManager, gsim: GeneratorSimulator, dsim: DetectorSimulator) -> None:
        await devices.arm(ArmRequest(view_id="V1"))
        gsim.inject("stuck", 1)  # the generator's own terminators fail: X-rays would not stop
        with pytest.raises(DeviceFault) as exc:
            await devices.expose(ExposureRequest(press_id="p1"))
        assert "backup timer" in (exc.value.en or "")
        assert exc.value.post is not None and exc.value.post.end == EndOfExposure.ABORTED_HOST
        assert gsim.s.state != GeneratorState.EXP_IN_PROGRESS  # X-rays are off
        gsim.inject("stuck", 0)
        await devices.arm(ArmRequest(view_id="V1"))
        await refused(devices, "error_active", press="p2")
        await devices.clear_errors()
        await devices.arm(ArmRequest(view_id="V1"))
        result = await devices.expose(ExposureRequest(press_id="p3"))
        assert result.frame is not None

    run(body)


def test_comm_loss_during_exposure_aborts_and_raises() -> None:
    async def body(devices: DeviceManager, gsim: GeneratorSimulator, dsim: DetectorSimulator) -> None:
        await devices.load_technique(Technique(kv=70, ma=100, ms=2000, mas=200))  # a 2 s exposure
        await devices.arm(ArmRequest(view_id="V1"))
        task = asyncio.create_task(devices.expose(ExposureRequest(press_id="long")))
        await devices.wait_for(lambda s: s.generator.state == GeneratorState.EXP_IN_PROGRESS, 5.0)
        gsim.inject("silence", 3.0)  # the line goes dead mid-exposure
        with pytest.raises(DeviceFault) as exc:
            await task
        assert "communication" in (exc.value.en or "")
        assert "comm_loss" in devices.host_errors and "error_active" in devices.status.interlocks
        # the generator's own watchdog stops the X-rays when its console falls silent
        for _ in range(100):
            if gsim.s.state != GeneratorState.EXP_IN_PROGRESS:
                break
            await asyncio.sleep(0.05)
        assert gsim.s.state != GeneratorState.EXP_IN_PROGRESS

    run(body, gen_profile="realistic")


def test_limits_interlock() -> None:
    lim = GeneratorLimits(
        kv_min=40, kv_max=150, ma_min=10, ma_max=1000, ms_min=1, ms_max=10000, mas_min=0.1, mas_max=1000,
        max_power_kw=80, heat_capacity_hu=225000,
    )  # fmt: skip
    det = DetectorStatus(link=LinkState.CONNECTED)
    ok = GeneratorStatus(link=LinkState.CONNECTED, state=GeneratorState.STANDBY, technique=TECH, limits=lim)
    assert "limits" not in [i.code for i in interlock.evaluate(DeviceStatus(generator=ok, detector=det))]
    for bad in (
        Technique(kv=160, ma=200, ms=50, mas=10),
        Technique(kv=70, ma=5, ms=50, mas=10),
        Technique(kv=70, ma=200, ms=20000, mas=10),
        Technique(kv=70, ma=200, ms=50, mas=2000, tech_mode=TechMode.TWO_POINT),
    ):
        g = GeneratorStatus(link=LinkState.CONNECTED, state=GeneratorState.STANDBY, technique=bad, limits=lim)
        codes = [i.code for i in interlock.evaluate(DeviceStatus(generator=g, detector=det))]
        assert "limits" in codes, bad


def test_build_devices_from_settings_and_stop_within_a_second(tmp_path: Path) -> None:
    async def main() -> None:
        settings = Settings.load(
            environ={}, overrides={"data_dir": str(tmp_path), "device": {"simulator_profile": "instant"}}
        )
        devices = await build_devices(settings, panel=SMALL)
        await devices.start()
        await devices.wait_for(lambda s: s.gen_ready and s.fpd_ready, 10.0)
        assert devices.status.gen_status == "GENERATOR_STATUS_STANDBY"
        assert devices.status.fpd_status == "DETECTOR_STATUS_STANDBY"
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await devices.stop(timeout_s=1.0)
        assert loop.time() - t0 < 1.0

    asyncio.run(main())


@pytest.mark.parametrize(
    ("device", "message"),
    [({"generator": "magic"}, "simulator, serial or none"), ({"generator": "serial"}, "generator_url")],
)
def test_build_devices_refuses_a_bad_configuration(tmp_path: Path, device: dict[str, str], message: str) -> None:
    settings = Settings.load(environ={}, overrides={"data_dir": str(tmp_path), "device": device})
    with pytest.raises(ValueError, match=message):
        asyncio.run(build_devices(settings))


def test_generator_must_be_in_standby() -> None:
    async def body(devices: DeviceManager, gsim: GeneratorSimulator, dsim: DetectorSimulator) -> None:
        await devices.arm(ArmRequest(view_id="V1"))
        gen = devices.generator
        assert isinstance(gen, GeneratorDriver)
        await gen.call("PR", "1")  # someone else's prep (a service tool) holds the generator
        await devices.wait_for(lambda s: s.generator.state == GeneratorState.READY, 2.0)
        await refused(devices, "generator_state")
        with pytest.raises(TimeoutError):
            await devices.wait_for(lambda s: s.generator.state == GeneratorState.STANDBY, 0.2)
        await gen.release()
        await devices.wait_for(lambda s: s.generator.state == GeneratorState.STANDBY, 2.0)
        assert (await devices.expose(ExposureRequest(press_id="ok"))).frame is not None

    run(body)
