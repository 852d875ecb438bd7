"""The whole acquisition loop over HTTP against a real mosquitto and the device simulators (instant profile):
start → ready → trigger → MQTT progress in order → DX file (dciodvfy) → judge → leave."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

import pydicom
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from dros.mqtt.topics import PROGRESS_TOPIC, STATUS_TOPIC
from tests.mqtt_peers import Subscriber
from tests.studies import images_of, register

API = "/dr/api/v1/auth/task/inspection"
ORDER = ["TASK_RecvRaw", "TASK_RecvMask", "TASK_RecvEnhance", "TASK_RecvForeground", "TASK_RecvApply", "TASK_Success"]


class Listener:
    """A console's MQTT subscriber running in its own thread and loop (the TestClient owns another)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.loop = asyncio.new_event_loop()
        self.sub: Subscriber | None = None
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._call(self._connect())

    def _call(self, coro: Any, timeout: float = 20) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _connect(self) -> None:
        self.sub = Subscriber(self.port)
        await self.sub.connect()

    def progress(self, sop: str) -> list[dict[str, Any]]:
        assert self.sub is not None
        return [m.payload for m in list(self.sub.messages) if m.topic == PROGRESS_TOPIC and m.payload["sop"] == sop]

    def statuses(self) -> list[dict[str, Any]]:
        assert self.sub is not None
        return [m.payload for m in list(self.sub.messages) if m.topic == STATUS_TOPIC]

    def wait_retained_status(self, key: str, value: Any, timeout: float = 5) -> dict[str, Any]:
        """The latest retained status once its `key` reads `value`: the service publishes a change as it
        happens, but the message crosses the broker after the REST answer that saw the same change."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            statuses = self.statuses()
            if statuses and statuses[-1][key] == value:
                return statuses[-1]
            time.sleep(0.02)
        raise AssertionError(f"status {key} never {value!r} within {timeout} s: {self.statuses()[-1:]}")

    def wait_end(self, sop: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for p in self.progress(sop):
                if p["status"] in ("TASK_Success", "TASK_Failure"):
                    return p
            time.sleep(0.02)
        raise AssertionError(f"no end message for {sop}: {self.progress(sop)}")

    def close(self) -> None:
        if self.sub is not None:
            self._call(self.sub.disconnect())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def wait_status(
    client: TestClient[Litestar], h: dict[str, str], pred: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        st = client.get(f"{API}/status", headers=h).json()["data"]
        if pred(st):
            return st
        assert time.monotonic() < deadline, st
        time.sleep(0.01)


def dciodvfy_errors(path: str) -> list[str]:
    exe = shutil.which("dciodvfy")
    assert exe, "dciodvfy missing (scripts/setup installs dicom3tools)"
    out = subprocess.run([exe, path], capture_output=True, text=True, timeout=60)
    return [ln for ln in (out.stdout + out.stderr).splitlines() if ln.startswith("Error")]


def test_whole_loop_start_trigger_progress_dicom_judge_leave(
    small_panel: None,
    acq_client: TestClient[Litestar],
    acq_headers: Callable[[str], dict[str, str]],
    listener: Listener,
) -> None:
    c, h = acq_client, acq_headers("tech")
    st = wait_status(c, h, lambda s: s["gen_ready"] and s["fpd_ready"])
    assert st["insp_status"] == "TASK_Idle" and st["all_ready"] is False
    study = register(c, h)
    sop = images_of(study)[0]["sop_instance_uid"]

    r = c.post(f"{API}/start", headers=h, json={"instance_uid": sop})
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"@type": "type.googleapis.com/google.protobuf.Empty", "value": {}}
    ready = wait_status(c, h, lambda s: s["all_ready"])
    assert ready == {
        "@type": "type.googleapis.com/dr.task.TaskGlobalStatus",
        "gen_status": "GENERATOR_STATUS_STANDBY",
        "gen_ready": True,
        "fpd_status": "DETECTOR_STATUS_ARMED",
        "fpd_ready": True,
        "insp_status": "TASK_Ready",
        "insp_ready": True,
        "all_ready": True,
    }
    r = c.post(f"{API}/trigger", headers=h)
    assert r.status_code == 200, r.text
    end = listener.wait_end(sop)
    assert end["status"] == "TASK_Success", end
    assert [p["status"] for p in listener.progress(sop)] == ORDER
    assert end == {"status": "TASK_Success", "sop": sop, "message": "", "dcm": f"{sop}.dcm", "thumbnail": f"{sop}.webp"}
    # the retained status followed the task: Exposing → Processing → Exposed
    seen = [s["InspStatus"] for s in listener.statuses()]
    assert "TASK_Exposing" in seen and seen[-1] == "TASK_Exposed", seen

    # the DX file as a console downloads it
    dcm = c.get(f"/dr/api/v1/auth/f/dcm/{end['dcm']}", headers=h)
    assert dcm.status_code == 200 and dcm.headers["content-type"] == "application/dicom"
    app = c.app
    folder = app.state.settings.data_path / "studies" / study["study_id"]
    path = folder / end["dcm"]
    assert dcm.content == path.read_bytes()
    assert dciodvfy_errors(str(path)) == []
    ds = pydicom.dcmread(path)
    row = app.state.db.read_sync(
        lambda conn: conn.execute(
            "SELECT expose_status, window_center, window_width, exposure_index, target_exposure_index, "
            "deviation_index, delivered_kv, delivered_ma, delivered_ms, delivered_mas, detector_id, "
            "acquisition_time IS NOT NULL, raw_file FROM image WHERE sop_instance_uid = ?",
            [sop],
        ).fetchone()
    )
    status, wc, ww, ei, tei, di, kv, ma, ms, mas, det, has_time, raw = row
    assert status == "Exposed" and has_time and raw == f"{sop}.raw"
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.1.1"  # DX For Presentation
    assert float(ds.KVP) == pytest.approx(kv) and kv > 0
    assert int(ds.ExposureTime) == round(ms) and int(ds.XRayTubeCurrent) == round(ma)
    assert int(ds.ExposureInuAs) == round(mas * 1000) and int(ds.Exposure) == round(mas)
    assert float(ds.ExposureIndex) == pytest.approx(ei, rel=1e-4)
    assert float(ds.TargetExposureIndex) == pytest.approx(tei) and tei == 250
    assert float(ds.DeviationIndex) == pytest.approx(di, abs=1e-3)
    assert ds.DetectorID == det and det
    assert float(ds.WindowCenter) == pytest.approx(wc) and float(ds.WindowWidth) == pytest.approx(ww)
    assert ds.PatientID == study["patient_id"] and ds.StudyInstanceUID == study["study_instance_uid"]
    assert (folder / f"{sop}.webp").exists()
    assert c.get(f"/dr/api/v1/pub/thumbnail/{end['thumbnail']}", headers=h).status_code == 200

    # a second trigger on the exposed image is refused: start the next view (or the same one to retake)
    r = c.post(f"{API}/trigger", headers=h)
    assert r.status_code == 422 and r.json()["code"] == "0x030004"

    r = c.post(f"{API}/judge", headers=h, json={"instance_uid": sop, "accept": False, "reason": "patient_motion"})
    assert r.status_code == 200, r.text
    got = app.state.db.read_sync(
        lambda conn: conn.execute(
            "SELECT judged_status, reject_reason FROM image WHERE sop_instance_uid = ?", [sop]
        ).fetchone()
    )
    assert got == ("Reject", "patient_motion")
    r = c.post(f"{API}/judge", headers=h, json={"instance_uid": sop, "accept": True, "reason": "bogus"})
    assert r.status_code == 400 and r.json()["data"]["field"] == "reason"

    # retake: start on the exposed (rejected) image makes a new image of the same view in the same series
    r = c.post(f"{API}/start", headers=h, json={"instance_uid": sop})
    assert r.status_code == 200, r.text
    current = app.state.acquisition.current
    assert current is not None and current.sop != sop and current.view_id == images_of(study)[0]["view_id"]
    detail = c.get(f"/dr/api/v1/auth/study/{study['study_id']}", headers=h).json()["data"]
    imgs = images_of(detail)
    new = next(i for i in imgs if i["sop_instance_uid"] == current.sop)
    assert new["series_instance_uid"] == images_of(study)[0]["series_instance_uid"]
    assert new["expose_status"] == "Unexposed"
    wait_status(c, h, lambda s: s["all_ready"])
    assert c.post(f"{API}/trigger", headers=h).status_code == 200
    assert listener.wait_end(current.sop)["status"] == "TASK_Success"
    r = c.post(f"{API}/judge", headers=h, json={"instance_uid": current.sop, "accept": True})
    assert r.status_code == 200

    # a default PACS node: completing the study queues the accepted image, never the rejected one
    from tests.ports import free_port

    node = {"name": "PACS1", "address": "127.0.0.1", "port": free_port(), "aet": "DROS", "aec": "PACS1",
            "is_enabled": True, "is_default": True}  # fmt: skip
    r = c.post("/dr/api/v1/auth/manage/pacs", headers=acq_headers("admin"), json=node)
    assert r.status_code == 200, r.text
    r = c.post(f"{API}/leave", headers=h, json={"study_id": study["study_id"], "study_status": "Completed"})
    assert r.status_code == 200, r.text
    detail = c.get(f"/dr/api/v1/auth/study/{study['study_id']}", headers=h).json()["data"]
    assert detail["study_status"] == "Completed"
    assert wait_status(c, h, lambda s: True)["insp_status"] == "TASK_Idle"
    queued = app.state.db.read_sync(
        lambda conn: conn.execute(
            "SELECT sop_instance_uid FROM send_task WHERE study_id = ?", [study["study_id"]]
        ).fetchall()
    )
    assert queued == [(current.sop,)], queued


def test_trigger_needs_start_and_bodies_are_checked(
    small_panel: None, acq_client: TestClient[Litestar], acq_headers: Callable[[str], dict[str, str]]
) -> None:
    c, h = acq_client, acq_headers("tech")
    r = c.post(f"{API}/trigger", headers=h)
    assert r.status_code == 422 and r.json()["code"] == "0x030004"
    r = c.post(f"{API}/start", headers=h, json={"instance_uid": "1.2.3.4"})
    assert r.status_code == 404 and r.json()["data"]["field"] == "instance_uid"
    r = c.post(f"{API}/start", headers=h, json={})
    assert r.status_code == 400 and r.json()["data"]["field"] == "instance_uid"
    r = c.post(f"{API}/leave", headers=h, json={"study_id": "x", "study_status": "Done"})
    assert r.status_code == 400 and r.json()["data"]["field"] == "study_status"
    r = c.post(f"{API}/leave", headers=h, json={"study_id": "999", "study_status": "Completed"})
    assert r.status_code == 404
    assert c.get(f"{API}/status").status_code == 401
    guest = c.get("/dr/api/v1/pub/software_info").json()["data"]["guest"]
    assert c.get(f"{API}/status", headers={"Authorization": f"Bearer {guest}"}).status_code == 403


def test_concurrent_triggers_give_exactly_one_exposure(
    small_panel: None,
    acq_client: TestClient[Litestar],
    acq_headers: Callable[[str], dict[str, str]],
    listener: Listener,
) -> None:
    c, h = acq_client, acq_headers("tech")
    study = register(c, h)
    sop = images_of(study)[0]["sop_instance_uid"]
    assert c.post(f"{API}/start", headers=h, json={"instance_uid": sop}).status_code == 200
    wait_status(c, h, lambda s: s["all_ready"])
    results: list[int] = []
    barrier = threading.Barrier(6)

    def press() -> None:
        barrier.wait()
        results.append(c.post(f"{API}/trigger", headers=h).status_code)

    threads = [threading.Thread(target=press) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results).count(200) == 1, results
    assert all(code in (200, 409, 422) for code in results), results
    assert listener.wait_end(sop)["status"] == "TASK_Success"
    time.sleep(0.3)
    count = c.app.state.db.read_sync(
        lambda conn: conn.execute("SELECT count(*) FROM exposure WHERE sop_instance_uid = ?", [sop]).fetchone()[0]
    )
    assert count == 1
    assert [p["status"] for p in listener.progress(sop)] == ORDER


def test_veterinary_exposure_is_dciodvfy_clean(
    small_panel: None,
    acq_client: TestClient[Litestar],
    acq_headers: Callable[[str], dict[str, str]],
    listener: Listener,
) -> None:
    from tests.studies import DOG

    c = acq_client
    h = {**acq_headers("tech"), "Product": "VETDROS"}
    study = register(c, h, DOG)
    sop = images_of(study)[0]["sop_instance_uid"]
    assert c.post(f"{API}/start", headers=h, json={"instance_uid": sop}).status_code == 200
    wait_status(c, h, lambda s: s["all_ready"])
    assert c.post(f"{API}/trigger", headers=h).status_code == 200
    end = listener.wait_end(sop)
    assert end["status"] == "TASK_Success", end
    path = c.app.state.settings.data_path / "studies" / study["study_id"] / end["dcm"]
    assert dciodvfy_errors(str(path)) == []
    ds = pydicom.dcmread(path)
    assert ds.PatientSpeciesDescription == "Dog"
    assert ds.PatientSpeciesCodeSequence[0].CodeValue == "448771007"
    assert ds.PatientBreedDescription == "Golden Retriever"
    assert ds.ResponsiblePerson == DOG["owner_name"] and ds.PatientSexNeutered == "ALTERED"
