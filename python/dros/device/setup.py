"""Build the `DeviceManager` from the settings (called by the lifespan).

`device.generator`: ``simulator`` (in-process simulator on a pty, the embedded default), ``serial`` (a
generator speaking docs/generator-protocol.md at `device.generator_url`: ``/dev/ttyS0``, ``/dev/ttyUSB0``,
``socket://host:port``) or ``none``. `device.detector`: ``simulator`` (in-process simulator, control on TCP
and its data channel), ``panel`` (a panel speaking docs/detector-protocol.md at `device.detector_url`, e.g.
`dros simulate detector` as its own process) or ``none``. Simulators run with `device.simulator_profile`
(instant / realistic).
"""

from __future__ import annotations

from typing import Any

from dros.device.base import Detector, Generator
from dros.device.generator import GeneratorDriver
from dros.device.manager import Closer, DeviceManager
from dros.settings import Settings


def _generator_driver(settings: Settings, url: str) -> GeneratorDriver:
    dev = settings.device
    return GeneratorDriver(
        url,
        baudrate=dev.generator_baudrate,
        loop_time_s=dev.loop_time_ms / 1000,
        reconnect=dev.reconnect,
        reply_timeout_s=dev.reply_timeout_ms / 1000,
        retries=dev.retries,
    )


async def build_devices(settings: Settings, *, panel: Any = None) -> DeviceManager:
    """Create (not start) drivers and in-process simulators. `panel`: a `PanelResponse` for the detector
    simulator (tests use small frames); default from the settings."""
    dev = settings.device
    if dev.generator not in ("simulator", "serial", "none"):
        raise ValueError(f"device.generator must be simulator, serial or none, not {dev.generator!r}")
    if dev.generator == "serial" and not dev.generator_url:
        raise ValueError("device.generator = serial needs device.generator_url (e.g. /dev/ttyS0)")
    if dev.detector not in ("simulator", "panel", "none"):
        raise ValueError(f"device.detector must be simulator, panel or none, not {dev.detector!r}")
    if dev.detector == "panel" and not dev.detector_url:
        raise ValueError("device.detector = panel needs device.detector_url (e.g. socket://192.168.10.20:7801)")
    closers: list[Closer] = []
    generator: Generator | None = None
    detector: Detector | None = None
    try:
        if dev.generator == "simulator":
            from dros.simulators.generator import GeneratorSimulator

            gsim = GeneratorSimulator(dev.simulator_profile)
            closers.append(gsim.close)
            generator = _generator_driver(settings, await gsim.serve_pty())
        elif dev.generator == "serial":
            generator = _generator_driver(settings, dev.generator_url)
        if dev.detector == "simulator":
            from dros.device.detector import DetectorDriver
            from dros.simulators.detector import DetectorSimulator
            from dros.simulators.detector_frames import PanelResponse

            panel = panel or PanelResponse(dn_per_ugy=dev.detector_dn_per_ugy, offset_dn=dev.detector_offset_dn)
            # inside the service: a new view's large phantom renders in a helper process, not beside the loop
            dsim = DetectorSimulator(dev.simulator_profile, panel, render_apart=True)
            closers.append(dsim.close)
            cport, dport = await dsim.serve_tcp("127.0.0.1", 0, 0)
            detector = DetectorDriver(
                f"socket://127.0.0.1:{cport}",
                data_address=("127.0.0.1", dport),
                dn_per_ugy=dev.detector_dn_per_ugy,
                offset_dn=dev.detector_offset_dn,
                loop_time_s=dev.loop_time_ms / 1000,
            )
        elif dev.detector == "panel":
            from dros.device.detector import DetectorDriver, parse_data_address

            detector = DetectorDriver(
                dev.detector_url,
                data_address=parse_data_address(dev.detector_data),
                dn_per_ugy=dev.detector_dn_per_ugy,
                offset_dn=dev.detector_offset_dn,
                loop_time_s=dev.loop_time_ms / 1000,
            )
    except BaseException:
        for close in closers:
            await close()
        raise
    return DeviceManager(
        generator,
        detector,
        backup_margin_s=dev.backup_margin_ms / 1000,
        simulators=closers,
    )
