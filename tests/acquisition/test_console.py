"""The issue's "done means", as a console written from API.md would do it, against `dros serve` with its
embedded mosquitto: log in, register, start, trigger, watch the MQTT progress, download the DICOM and the
thumbnail, accept, complete — and the DX file passes dciodvfy."""

from __future__ import annotations

import time
from pathlib import Path

from tests.acquisition.test_loop import ORDER, Listener, dciodvfy_errors
from tests.conftest import start_server, stop_server
from tests.ports import free_port
from tests.studies import HUMAN

API = "/dr/api/v1/auth/task/inspection"


def test_console_session_against_dros_serve(tmp_path: Path) -> None:
    port, ws = free_port(), free_port()
    server = start_server(
        tmp_path / "data",
        extra_env={
            "DROS_MQTT_URL": f"mqtt://127.0.0.1:{port}",
            "DROS_MQTT_WS_PORT": str(ws),
            "DROS_DEVICE_SIMULATOR_PROFILE": "instant",
            "DROS_PACS_WORKER": "false",
        },
    )
    listener = None
    try:
        listener = Listener(port)  # the embedded broker came up with the service
        with server.client() as http:
            r = http.post("/dr/api/v1/pub/login", json={"username": "tech", "password": "123456"})
            h = {"Authorization": f"Bearer {r.json()['data']['token']}", "Product": "DROS", "Language": "en_US"}
            study = http.post("/dr/api/v1/auth/study", headers=h, json=HUMAN).json()["data"]
            sop = study["series"][0]["images"][0]["sop_instance_uid"]
            assert http.post(f"{API}/start", headers=h, json={"instance_uid": sop}).status_code == 200
            deadline = time.monotonic() + 30
            while not http.get(f"{API}/status", headers=h).json()["data"]["all_ready"]:
                assert time.monotonic() < deadline, "never ready"
                time.sleep(0.1)
            # the retained status on the embedded broker says the same, once it has crossed the broker
            assert listener.wait_retained_status("AllReady", True)["AllReady"] is True
            assert http.post(f"{API}/trigger", headers=h).status_code == 200
            end = listener.wait_end(sop, timeout=60)
            assert end["status"] == "TASK_Success", end
            assert [p["status"] for p in listener.progress(sop)] == ORDER
            dcm = http.get(f"/dr/api/v1/auth/f/dcm/{end['dcm']}", headers=h)
            assert dcm.status_code == 200 and dcm.headers["content-type"] == "application/dicom"
            thumb = http.get(f"/dr/api/v1/pub/thumbnail/{end['thumbnail']}", params={"token": h["Authorization"][7:]})
            assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"
            saved = tmp_path / "downloaded.dcm"
            saved.write_bytes(dcm.content)
            assert dciodvfy_errors(str(saved)) == []
            r = http.post(f"{API}/judge", headers=h, json={"instance_uid": sop, "accept": True})
            assert r.status_code == 200
            r = http.post(f"{API}/leave", headers=h, json={"study_id": study["study_id"], "study_status": "Completed"})
            assert r.status_code == 200
            detail = http.get(f"/dr/api/v1/auth/study/{study['study_id']}", headers=h).json()["data"]
            assert detail["study_status"] == "Completed"
            image = detail["series"][0]["images"][0]
            assert (image["expose_status"], image["judged_status"]) == ("Exposed", "Accept")
    finally:
        if listener is not None:
            listener.close()
        stop_server(server)
