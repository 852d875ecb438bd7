"""The whole way: a technologist exposes, accepts and completes a study on the console, and the image
arrives in Orthanc without anyone pressing send."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from litestar.testing import TestClient

from dros.app import create_app
from tests.acquisition.conftest import acq_settings, device_builder
from tests.conftest import login
from tests.mqtt_peers import Broker, broker
from tests.pacs.conftest import pacs_overrides
from tests.pacs.helpers import add_node
from tests.studies import images_of, register

__all__ = ["broker"]

TASK = "/dr/api/v1/auth/task/inspection"


@pytest.fixture
def console(data_dir: Path, broker: Broker, scp_port: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    from dros.simulators.detector_frames import PanelResponse

    monkeypatch.setattr("dros.lifespan.build_devices", device_builder(PanelResponse(width=512, height=512)))
    settings = acq_settings(data_dir, broker, **pacs_overrides(scp_port))
    with TestClient(create_app(settings), base_url="http://127.0.0.1", timeout=30) as c:
        yield c


def _wait(fn, what: str, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_completed_study_arrives_in_orthanc_by_itself(console: TestClient, orthanc) -> None:
    orthanc.clear()
    c = console
    tech = {"Authorization": f"Bearer {login(c, 'tech')}", "Product": "DROS", "Language": "en_US"}
    admin = {"Authorization": f"Bearer {login(c, 'admin')}", "Product": "DROS", "Language": "en_US"}
    add_node(c, admin, "orthanc", orthanc.dicom_port, aet=orthanc.aet, default=True)

    def status() -> dict:
        return c.get(f"{TASK}/status", headers=tech).json()["data"]

    _wait(lambda: status()["gen_ready"] and status()["fpd_ready"], "devices ready")
    study = register(c, tech)
    sop = images_of(study)[0]["sop_instance_uid"]
    assert c.post(f"{TASK}/start", headers=tech, json={"instance_uid": sop}).status_code == 200
    _wait(lambda: status()["all_ready"], "ready to expose")
    assert c.post(f"{TASK}/trigger", headers=tech).status_code == 200

    def exposed() -> bool:
        row = c.app.state.db.read_sync(
            lambda conn: conn.execute("SELECT expose_status FROM image WHERE sop_instance_uid = ?", [sop]).fetchone()
        )
        return bool(row and row[0] == "Exposed")

    _wait(exposed, "image exposed")
    assert c.post(f"{TASK}/judge", headers=tech, json={"instance_uid": sop, "accept": True}).status_code == 200
    r = c.post(f"{TASK}/leave", headers=tech, json={"study_id": study["study_id"], "study_status": "Completed"})
    assert r.status_code == 200, r.text

    _wait(lambda: sop in orthanc.sop_uids(), "the image in Orthanc", timeout=30)
    ours = pydicom.dcmread(c.app.state.settings.data_path / "studies" / study["study_id"] / f"{sop}.dcm")
    got = pydicom.dcmread(io.BytesIO(orthanc.file_of(sop)))
    assert got.PixelData == ours.PixelData
    [task] = c.get("/dr/api/v1/auth/scp/store", headers=tech).json()["data"]
    assert (task["sop_instance_uid"], task["destination"]) == (sop, "orthanc")
    _wait(lambda: c.get("/dr/api/v1/auth/scp/store", headers=tech).json()["data"][0]["status"] == "COMPLETED", "done")
