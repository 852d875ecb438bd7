"""Failure paths of the loop: a missing replay file, a generator fault in the middle of the exposure, the
broker killed and restarted mid-session."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from dros.app import create_app
from dros.device.base import EventKind, GeneratorState
from dros.settings import Locale
from dros.simulators.detector_frames import PanelResponse
from tests.acquisition.conftest import acq_settings, device_builder
from tests.acquisition.test_loop import API, ORDER, Listener, wait_status
from tests.conftest import login
from tests.mqtt_peers import Broker
from tests.studies import images_of, register


@contextlib.contextmanager
def _client(
    data_dir: Path, broker: Broker, reconnect_s: float = 0.3
) -> Iterator[tuple[TestClient[Litestar], dict[str, str]]]:
    app = create_app(acq_settings(data_dir, broker, mqtt={"url": broker.url, "reconnect_delay_s": reconnect_s}))
    with TestClient(app, base_url="http://127.0.0.1", timeout=30) as c:
        yield c, {"Authorization": f"Bearer {login(c, 'tech')}", "Product": "DROS", "Language": "en_US"}


def _ready(c: TestClient[Litestar], h: dict[str, str]) -> str:
    study = register(c, h)
    sop = images_of(study)[0]["sop_instance_uid"]
    assert c.post(f"{API}/start", headers=h, json={"instance_uid": sop}).status_code == 200
    wait_status(c, h, lambda s: s["all_ready"])
    return sop


def _image_state(c: TestClient[Litestar], sop: str) -> tuple[Any, ...]:
    row = c.app.state.db.read_sync(
        lambda conn: conn.execute(
            "SELECT i.expose_status, i.image_file, e.state, e.failure, e.kv, e.mas FROM image i "
            "LEFT JOIN exposure e USING (sop_instance_uid) WHERE i.sop_instance_uid = ?",
            [sop],
        ).fetchone()
    )
    assert row is not None
    return tuple(row)


@pytest.mark.parametrize("lang", ["en_US", "zh_CN"])
def test_missing_replay_file_ends_in_task_failure_with_the_detectors_reason(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path, broker: Broker, tmp_path: Path, lang: str
) -> None:
    missing = str(tmp_path / "testfile" / "circle_3072_3072_11.tif")
    monkeypatch.setattr("dros.lifespan.build_devices", device_builder(PanelResponse(width=512, height=512), missing))
    listener = Listener(broker.port)
    try:
        with _client(data_dir, broker) as (c, h):
            c.app.state.system_language = Locale(lang)  # what manage/language sets
            sop = _ready(c, h)
            assert c.post(f"{API}/trigger", headers=h).status_code == 200
            end = listener.wait_end(sop)
            assert end["status"] == "TASK_Failure"
            expected = {
                "en_US": f"open {missing}: The system cannot find the file specified.",
                "zh_CN": f"打开 {missing} 失败：系统找不到指定的文件。",
            }
            assert end["message"] == expected[lang], end
            assert [p["status"] for p in listener.progress(sop)] == ["TASK_Failure"], "no frame: no RecvRaw"
            expose_status, image_file, state, failure, kv, mas = _image_state(c, sop)
            assert (expose_status, image_file, state) == ("Unexposed", "", "failed")
            assert failure == end["message"] and kv > 0 and mas > 0, "the delivered dose is still recorded"
            st = wait_status(c, h, lambda s: s["insp_status"] != "TASK_Exposing")
            assert st["insp_status"] in ("TASK_Ready", "TASK_NotReady"), "a retake of the same image is possible"
    finally:
        listener.close()


@pytest.mark.parametrize("lang", ["en_US", "zh_CN"])
def test_generator_fault_mid_exposure_fails_and_leaves_a_safe_state(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path, broker: Broker, lang: str
) -> None:
    monkeypatch.setattr("dros.lifespan.build_devices", device_builder(PanelResponse(width=512, height=512)))
    listener = Listener(broker.port)
    try:
        with _client(data_dir, broker) as (c, h):
            c.app.state.system_language = Locale(lang)
            sop = _ready(c, h)
            devices = c.app.state.devices
            gsim, _dsim = devices.simulators
            fired: list[str] = []

            def on_event(ev: Any) -> None:
                if ev.kind == EventKind.EXPOSURE and ev.name == "expose" and not fired:
                    fired.append(gsim.inject("arc"))

            unsubscribe = devices.subscribe(on_event)
            assert c.post(f"{API}/trigger", headers=h).status_code == 200
            end = listener.wait_end(sop)
            unsubscribe()
            assert fired, "the fault was injected during the exposure"
            assert end["status"] == "TASK_Failure", end
            assert ("high-voltage arc" if lang == "en_US" else "高压打火") in end["message"], end
            expose_status, image_file, state, failure, _kv, _mas = _image_state(c, sop)
            assert expose_status == "Unexposed" and image_file == ""
            assert state == "failed" and failure == end["message"]
            deadline = time.monotonic() + 5
            while devices.status.generator.state in (GeneratorState.EXP_IN_PROGRESS, GeneratorState.EXP_REQ):
                assert time.monotonic() < deadline
                time.sleep(0.02)
            assert not devices.status.exposing, "the one-exposure lock is released"
            st = wait_status(c, h, lambda s: s["insp_status"] != "TASK_Exposing")
            assert st["all_ready"] is False and st["insp_status"] == "TASK_NotReady", "the fault blocks exposures"
            assert c.post(f"{API}/trigger", headers=h).status_code == 503
    finally:
        listener.close()


@pytest.mark.parametrize("lang", ["en_US", "zh_CN"])
def test_processing_failure_is_told_in_the_system_language(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path, broker: Broker, lang: str
) -> None:
    """A chain that raises: TASK_Failure after TASK_RecvRaw, the raw frame kept, the reason in the language."""
    from dros.acquisition import worker

    def broken_chain(*_args: Any) -> Any:
        raise ValueError("frame too dark")

    monkeypatch.setattr("dros.lifespan.build_devices", device_builder(PanelResponse(width=512, height=512)))
    monkeypatch.setattr(worker, "process", broken_chain)
    listener = Listener(broker.port)
    try:
        with _client(data_dir, broker) as (c, h):
            c.app.state.system_language = Locale(lang)
            sop = _ready(c, h)
            assert c.post(f"{API}/trigger", headers=h).status_code == 200
            end = listener.wait_end(sop)
            expected = {"en_US": "image processing failed: frame too dark", "zh_CN": "图像处理失败：frame too dark"}
            assert end == {"status": "TASK_Failure", "sop": sop, "message": expected[lang]}, end
            assert [p["status"] for p in listener.progress(sop)] == ["TASK_RecvRaw", "TASK_Failure"]
            expose_status, image_file, state, failure, _kv, _mas = _image_state(c, sop)
            assert (expose_status, image_file, state, failure) == ("Unexposed", "", "failed", expected[lang])
    finally:
        listener.close()


def test_image_deleted_while_processed_is_not_marked_exposed(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path, broker: Broker
) -> None:
    """The image row is deleted after its metadata was read, while its files are written: the commit that would
    say Exposed refuses it in its own transaction, TASK_Failure."""
    from dros.acquisition import worker

    outputs = worker.write_outputs
    deleted: list[str] = []

    def delete_then_write(*args: Any) -> Any:
        sop = deleted[0]
        app_db.write_sync(lambda c: c.execute("UPDATE image SET is_deleted = true WHERE sop_instance_uid = ?", [sop]))
        return outputs(*args)

    monkeypatch.setattr("dros.lifespan.build_devices", device_builder(PanelResponse(width=512, height=512)))
    monkeypatch.setattr(worker, "write_outputs", delete_then_write)
    listener = Listener(broker.port)
    try:
        with _client(data_dir, broker) as (c, h):
            app_db = c.app.state.db
            sop = _ready(c, h)
            deleted.append(sop)
            assert c.post(f"{API}/trigger", headers=h).status_code == 200
            end = listener.wait_end(sop)
            assert end["status"] == "TASK_Failure", end
            assert end["message"] == "image processing failed: the image was deleted during the exposure", end
            expose_status, _image_file, state, failure, _kv, _mas = _image_state(c, sop)
            assert (expose_status, state, failure) == ("Unexposed", "failed", end["message"])
    finally:
        listener.close()


def test_broker_killed_and_restarted_mid_session(small_panel: None, data_dir: Path, broker: Broker) -> None:
    with _client(data_dir, broker, reconnect_s=1.5) as (c, h):
        sop = _ready(c, h)
        broker.kill()
        # REST keeps working without the broker, and so does the exposure
        assert c.get(f"{API}/status", headers=h).json()["data"]["all_ready"] is True
        assert c.post(f"{API}/trigger", headers=h).status_code == 200
        st = wait_status(c, h, lambda s: s["insp_status"] == "TASK_Exposed")
        assert st["insp_ready"] is False
        assert c.app.state.mqtt.connected is False
        outbox = c.app.state.db.read_sync(lambda conn: conn.execute("SELECT count(*) FROM mqtt_outbox").fetchone()[0])
        assert outbox >= len(ORDER), "the progress of the outage waits in DuckDB"
        broker.start()
        listener = Listener(broker.port)  # a console back before the service (its reconnect delay is 1.5 s)
        try:
            end = listener.wait_end(sop, timeout=30)
            assert end["status"] == "TASK_Success"
            assert [p["status"] for p in listener.progress(sop)] == ORDER, "delivered after the outage, in order"
            deadline = time.monotonic() + 10
            while not c.app.state.mqtt.connected:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        finally:
            listener.close()
        late = Listener(broker.port)
        try:
            deadline = time.monotonic() + 10
            while not late.statuses():
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert late.sub is not None and late.sub.messages[0].retain
            assert late.statuses()[-1]["InspStatus"] == "TASK_Exposed", "the current status is retained again"
        finally:
            late.close()


def test_a_full_disk_refuses_start_and_trigger(
    small_panel: None, data_dir: Path, broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil as shutil_mod

    real = shutil_mod.disk_usage
    with _client(data_dir, broker) as (c, h):
        sop = _ready(c, h)
        full = real(data_dir)._replace(free=10 * 2**20)  # 10 MiB left
        monkeypatch.setattr("dros.acquisition.service.shutil.disk_usage", lambda _p: full)
        r = c.post(f"{API}/trigger", headers=h)
        assert r.status_code == 507 and r.json()["code"] == "0x060001", r.text
        r = c.post(f"{API}/start", headers=h, json={"instance_uid": sop})
        assert r.status_code == 507
        count = c.app.state.db.read_sync(lambda conn: conn.execute("SELECT count(*) FROM exposure").fetchone()[0])
        assert count == 0, "nothing was exposed"
        monkeypatch.setattr("dros.acquisition.service.shutil.disk_usage", real)
        assert c.post(f"{API}/start", headers=h, json={"instance_uid": sop}).status_code == 200
