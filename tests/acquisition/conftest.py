from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from dros.app import create_app
from dros.settings import Settings
from tests.mqtt_peers import Broker, broker

__all__ = ["broker"]


def acq_settings(data_dir: Path, broker: Broker, **extra: object) -> Settings:
    overrides: dict[str, object] = {
        "data_dir": str(data_dir),
        "host": "127.0.0.1",
        "log_level": "WARNING",
        "mqtt": {"url": broker.url, "reconnect_delay_s": 0.3},
        "device": {"simulator_profile": "instant"},
    }
    overrides.update(extra)
    return Settings.load(environ={}, overrides=overrides)


@pytest.fixture
def acq_client(data_dir: Path, broker: Broker) -> Iterator[TestClient[Litestar]]:
    app = create_app(acq_settings(data_dir, broker))
    with TestClient(app, base_url="http://127.0.0.1", timeout=30) as c:
        yield c


@pytest.fixture
def acq_headers(acq_client: TestClient[Litestar]) -> Callable[[str], dict[str, str]]:
    from tests.conftest import login

    cache: dict[str, str] = {}

    def headers(user: str = "tech") -> dict[str, str]:
        if user not in cache:
            cache[user] = login(acq_client, user)
        return {"Authorization": f"Bearer {cache[user]}", "Product": "DROS", "Language": "en_US"}

    return headers


def device_builder(panel: object = None, replay: str | None = None) -> Callable[..., object]:
    """`build_devices` with a chosen panel size and an optional replay folder for the detector simulator
    (the same drivers and simulators the service builds, only configured differently)."""
    from dros.device.detector import DetectorDriver
    from dros.device.manager import DeviceManager
    from dros.device.setup import _generator_driver
    from dros.simulators.detector import DetectorSimulator
    from dros.simulators.generator import GeneratorSimulator

    async def build(settings: Settings, **_: object) -> DeviceManager:
        dev = settings.device
        gsim = GeneratorSimulator(dev.simulator_profile)
        generator = _generator_driver(settings, await gsim.serve_pty())
        dsim = DetectorSimulator(dev.simulator_profile, panel, replay=replay)  # type: ignore[arg-type]
        cport, dport = await dsim.serve_tcp("127.0.0.1", 0, 0)
        detector = DetectorDriver(
            f"socket://127.0.0.1:{cport}",
            data_address=("127.0.0.1", dport),
            dn_per_ugy=dev.detector_dn_per_ugy,
            offset_dn=dev.detector_offset_dn,
            loop_time_s=dev.loop_time_ms / 1000,
        )
        manager = DeviceManager(generator, detector, backup_margin_s=dev.backup_margin_ms / 1000,
                                simulators=[gsim.close, dsim.close])  # fmt: skip
        manager.simulators = (gsim, dsim)  # type: ignore[attr-defined]  # tests inject faults through them
        return manager

    return build


@pytest.fixture
def small_panel(monkeypatch: pytest.MonkeyPatch) -> None:
    """512² phantom frames: the loop is the same, the pixels are cheaper."""
    from dros.simulators.detector_frames import PanelResponse

    monkeypatch.setattr("dros.lifespan.build_devices", device_builder(PanelResponse(width=512, height=512)))


@pytest.fixture
def listener(broker: Broker) -> Iterator[object]:
    from tests.acquisition.test_loop import Listener

    lst = Listener(broker.port)
    yield lst
    lst.close()
