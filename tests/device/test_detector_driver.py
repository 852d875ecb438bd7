"""Detector driver against the detector simulator, in-process, over TCP and over a pty: the exposure cycle,
states, calibration validity, and every injected fault."""

from __future__ import annotations

import asyncio
import time
import zlib

import numpy as np
import pytest

from dros.device.base import (
    ArmRequest,
    CalibrationValidity,
    DetectorState,
    DeviceFault,
    DeviceNotReady,
    LinkState,
)
from dros.device.detector import NO_IMAGE
from dros.simulators.detector import CAL_PERIODS

from .detector_helpers import expose, post, rig


@pytest.mark.parametrize("control", ["tcp", "pty"])
def test_exposure_cycle_delivers_a_checksummed_frame(control: str) -> None:
    async def main() -> None:
        async with rig(control=control) as (sim, drv):
            states: list[DetectorState] = []
            drv.add_listener(lambda: states.append(drv.status.state))
            assert drv.status.link == LinkState.CONNECTED
            assert drv.status.seed_status == "DETECTOR_STATUS_STANDBY"
            await drv.arm(ArmRequest(view_id="V1", thickness_cm=18))
            assert drv.status.state == DetectorState.ARMED
            assert sim.arming.view_id == "V1" and sim.arming.thickness_cm == pytest.approx(18.0)
            await drv.exposure_started()
            await drv.exposure_ended(post(70, 2))
            frame = await drv.read_frame(10.0)
            assert frame.pixels.shape == (256, 256) and frame.pixels.dtype == np.uint16
            assert frame.frame_id == sim.frame_id == 1
            assert frame.delivered is not None and frame.delivered.mas == 2
            assert frame.exposure_ended_at >= frame.exposure_started_at > 0
            assert frame.received_at >= frame.exposure_ended_at
            await drv.wait_for(lambda s: s.state == DetectorState.STANDBY, 5.0)
            assert DetectorState.INTEGRATING in states and DetectorState.READOUT in states
            assert drv.stats.frames == 1 and drv.stats.refused == 0

    asyncio.run(main())


def test_frame_matches_what_the_simulator_sent() -> None:
    async def main() -> None:
        async with rig() as (sim, drv):
            sent: list[int] = []
            real_emit = sim._emit

            def spy(event: object, **extra: object) -> None:
                if "crc" in extra:
                    sent.append(int(extra["crc"]))  # type: ignore[call-overload]
                real_emit(event, **extra)  # type: ignore[arg-type]

            sim._emit = spy  # type: ignore[method-assign]
            frame = await expose(drv)
            assert sent == [zlib.crc32(frame.pixels.astype("<u2").tobytes())]

    asyncio.run(main())


def test_calibration_validity_reported_and_expired_map_refuses_arm() -> None:
    async def main() -> None:
        async with rig() as (_sim, drv):
            cal = drv.status.calibration
            assert (cal.offset, cal.gain, cal.defect) == (CalibrationValidity.VALID,) * 3
            assert drv.status.ready
            await drv.inject_fault("expire", "gain")
            await drv.wait_for(lambda s: s.calibration.gain == CalibrationValidity.OUT_OF_DATE, 5.0)
            assert not drv.status.ready and not drv.status.calibration.usable
            with pytest.raises(DeviceNotReady) as exc:
                await drv.arm(ArmRequest())
            assert exc.value.interlocks == ("detector_calibration",)
            await drv.calibrate("gain")
            assert drv.status.calibration.gain == CalibrationValidity.VALID and drv.status.ready
            await expose(drv)

    asyncio.run(main())


def test_readout_timeout_fault_gives_no_image_error_then_recovers() -> None:
    async def main() -> None:
        async with rig() as (_sim, drv):
            await drv.inject_fault("timeout")
            await drv.arm(ArmRequest())
            await drv.exposure_started()
            await drv.exposure_ended(post())
            with pytest.raises(DeviceFault) as exc:
                await drv.read_frame(0.5)
            assert exc.value.en == NO_IMAGE[0]
            assert (await expose(drv)).frame_id == 2

    asyncio.run(main())


def test_corrupted_frame_refused_at_once_then_next_frame_ok() -> None:
    async def main() -> None:
        async with rig() as (_sim, drv):
            await drv.inject_fault("corrupt")
            await drv.arm(ArmRequest())
            await drv.exposure_started()
            await drv.exposure_ended(post())
            with pytest.raises(DeviceFault, match="failed its checksum"):
                await drv.read_frame(5.0)  # refused on arrival, not after the timeout
            assert drv.stats.refused == 1
            assert drv.status.link == LinkState.CONNECTED
            assert (await expose(drv)).frame_id == 2

    asyncio.run(main())


def test_truncated_transfer_refused_data_link_reconnects() -> None:
    async def main() -> None:
        async with rig() as (_sim, drv):
            await drv.inject_fault("truncate")
            await drv.arm(ArmRequest())
            await drv.exposure_started()
            await drv.exposure_ended(post())
            with pytest.raises(DeviceFault, match=r"truncated|connection lost"):
                await drv.read_frame(5.0)
            await drv.wait_for(lambda s: s.link == LinkState.LOST, 5.0)  # both links are reopened together
            await drv.wait_for(lambda s: s.link == LinkState.CONNECTED and s.ready, 10.0)
            assert drv.stats.connects == 2
            assert (await expose(drv)).frame_id == 2

    asyncio.run(main())


def test_frame_larger_than_the_driver_accepts_is_refused_at_once() -> None:
    async def main() -> None:
        async with rig(max_frame_bytes=64 * 1024) as (_sim, drv):  # a 256x256 frame is 128 KiB
            await drv.arm(ArmRequest())
            await drv.exposure_started()
            await drv.exposure_ended(post())
            with pytest.raises(DeviceFault, match="exceeds the limit"):
                await drv.read_frame(5.0)
            assert drv.status.link == LinkState.CONNECTED  # the payload was skipped as garbage
            assert drv._receiver is not None and drv._receiver.stats.headers_refused == 1

    asyncio.run(main())


def test_garbage_on_data_channel_is_skipped() -> None:
    async def main() -> None:
        async with rig() as (_sim, drv):
            await drv.inject_fault("garbage", 5000)
            frame = await expose(drv)
            assert frame.frame_id == 1
            assert drv._receiver is not None and drv._receiver.stats.garbage_bytes >= 5000

    asyncio.run(main())


def test_line_noise_on_the_control_channel_is_survived() -> None:
    async def main() -> None:
        async with rig() as (_sim, drv):
            for _ in range(20):
                await drv.inject_fault("noise", 300)  # STX/ETX among them: frames cut short, bad checksums
                await drv.refresh()
            assert drv._parser.garbage_bytes + drv._parser.bad_frames > 0
            assert drv.status.link == LinkState.CONNECTED
            assert (await expose(drv)).frame_id == 1

    asyncio.run(main())


def test_disconnect_shows_lost_then_reconnects() -> None:
    async def main() -> None:
        async with rig() as (_sim, drv):
            seen: list[LinkState] = []
            drv.add_listener(lambda: seen.append(drv.status.link))
            with pytest.raises((DeviceNotReady, DeviceFault)):
                await drv.inject_fault("disconnect")  # the reply never comes: the link drops first
            await drv.wait_for(lambda s: s.link == LinkState.CONNECTED, 10.0)
            assert LinkState.LOST in seen
            assert (await expose(drv)).frame_id == 1

    asyncio.run(main())


def test_error_state_refuses_arm_until_cleared() -> None:
    async def main() -> None:
        async with rig() as (_sim, drv):
            await drv.inject_fault("error", "FPD_TEMP")
            await drv.wait_for(lambda s: s.state == DetectorState.ERROR, 5.0)
            assert drv.status.errors == ("FPD_TEMP",) and not drv.status.ready
            with pytest.raises(DeviceNotReady) as exc:
                await drv.arm(ArmRequest())
            assert exc.value.interlocks == ("detector_error",)
            await drv.clear_errors()
            await drv.wait_for(lambda s: s.ready, 5.0)
            await expose(drv)

    asyncio.run(main())


def test_xray_window_without_arming_is_refused() -> None:
    async def main() -> None:
        async with rig() as (_sim, drv):
            with pytest.raises(DeviceNotReady, match="not armed"):
                await drv.exposure_started()
            with pytest.raises(DeviceFault, match="no exposure"):
                await drv.read_frame(0.1)

    asyncio.run(main())


def test_armed_panel_disarms_itself_after_its_window() -> None:
    async def main() -> None:
        async with rig() as (sim, drv):
            sim.arm_window_s = 0.2
            await drv.arm(ArmRequest())
            await drv.wait_for(lambda s: s.state == DetectorState.STANDBY, 5.0)
            with pytest.raises(DeviceNotReady):
                await drv.exposure_started()

    asyncio.run(main())


def test_calibration_due_soon_warns_but_stays_usable() -> None:
    async def main() -> None:
        async with rig() as (sim, drv):
            period, warn = CAL_PERIODS["offset"]
            sim.calibrated_at["offset"] = time.time() - period + warn / 2  # due in half the warning window
            status = await drv.refresh()
            assert status.calibration.offset == CalibrationValidity.VALID_WARN
            assert status.calibration.usable and status.ready
            await expose(drv)

    asyncio.run(main())


def test_link_lost_while_the_keep_alive_waits_for_a_reply_is_reported_at_once() -> None:
    """The panel hears the keep-alive's STATUS and goes away without answering: the link shows LOST when
    it drops, not after the command's 3 attempts × 0.5 s (which outlast the 1.3 s readout of a frame)."""

    async def main() -> None:
        async with rig() as (sim, drv):
            heard = asyncio.Event()
            real_receive = sim._receive
            sim._receive = lambda data: heard.set()  # type: ignore[method-assign]
            await asyncio.wait_for(heard.wait(), 5.0)  # the next keep-alive is in flight, unanswered
            t0 = time.perf_counter()
            sim.inject("disconnect")
            await drv.wait_for(lambda s: s.link == LinkState.LOST, 5.0)
            waited = time.perf_counter() - t0
            sim._receive = real_receive  # type: ignore[method-assign]
            assert waited < drv.command_timeout_s, f"LOST came {waited:.2f} s after the link dropped"
            assert drv.stats.link_losses == 1
            await drv.wait_for(lambda s: s.link == LinkState.CONNECTED, 10.0)
            assert (await expose(drv)).frame_id == 1

    asyncio.run(main())


def test_panel_lost_during_readout_fails_the_frame_at_once() -> None:
    async def main() -> None:
        async with rig(profile="realistic") as (sim, drv):
            await drv.arm(ArmRequest())
            await drv.exposure_started()
            await drv.exposure_ended(post())
            await drv.wait_for(lambda s: s.state == DetectorState.READOUT, 5.0)
            t0 = time.perf_counter()
            await sim.close()  # the panel goes away 1.3 s before its frame would come
            with pytest.raises(DeviceFault, match="connection lost during readout"):
                await drv.read_frame(10.0)
            assert time.perf_counter() - t0 < 1.0
            assert drv.status.link == LinkState.LOST

    asyncio.run(main())
