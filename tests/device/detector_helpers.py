"""Shared set-up for the detector tests: an in-process simulator with a driver connected to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from dros.device.base import ArmRequest, EndOfExposure, Focus, PostExposure, RawFrame
from dros.device.detector import DetectorDriver
from dros.simulators.detector import DetectorSimulator
from dros.simulators.detector_frames import PanelResponse

SMALL = PanelResponse(width=256, height=256)


def post(kv: float = 60.0, mas: float = 1.0) -> PostExposure:
    return PostExposure(kv=kv, ma=100.0, ms=mas * 10.0, mas=mas, focus=Focus.LARGE, end=EndOfExposure.NORMAL)


@asynccontextmanager
async def rig(
    *,
    control: str = "tcp",
    profile: str = "instant",
    panel: PanelResponse = SMALL,
    replay: str | None = None,
    dn_per_ugy: float = 1000.0,
    offset_dn: float = 0.0,
    loop_time_s: float = 0.3,
    max_frame_bytes: int = 64 * 1024 * 1024,
    render_apart: bool = False,
) -> AsyncIterator[tuple[DetectorSimulator, DetectorDriver]]:
    sim = DetectorSimulator(profile, panel, replay=replay, render_apart=render_apart)
    if control == "pty":
        path, _ = await sim.serve_pty()
        url = path
    else:
        cport, _ = await sim.serve_tcp()
        url = f"socket://127.0.0.1:{cport}"
    drv = DetectorDriver(
        url,
        dn_per_ugy=dn_per_ugy,
        offset_dn=offset_dn,
        loop_time_s=loop_time_s,
        reconnect_s=0.2,
        max_frame_bytes=max_frame_bytes,
    )
    await drv.start()
    try:
        await drv.wait_for(lambda s: s.ready, 10.0)
        yield sim, drv
    finally:
        await drv.stop()
        await sim.close()


async def expose(
    drv: DetectorDriver, kv: float = 60.0, mas: float = 1.0, *, thickness_cm: float = 20.0, view: str = "V1"
) -> RawFrame:
    await drv.arm(ArmRequest(view_id=view, thickness_cm=thickness_cm))
    await drv.exposure_started()
    await drv.exposure_ended(post(kv, mas))
    return await drv.read_frame(10.0)


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]
