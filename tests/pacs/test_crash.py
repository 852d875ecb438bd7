"""SIGKILL of `dros serve` in the middle of a send: after the restart the interrupted tasks are sent
again, and the PACS ends with each image exactly once."""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime

from litestar.testing import TestClient

from dros.app import create_app
from dros.domain.pacs import repo
from dros.settings import Settings
from tests.conftest import login, start_server, stop_server
from tests.pacs.dx_files import attach
from tests.pacs.helpers import API, add_node
from tests.studies import images_of, register

N_IMAGES = 4
SERVER_ENV = {
    "DROS_DICOM_SCP_PORT": "0",
    "DROS_PACS_RETRY_BASE_S": "0.2",
    "DROS_PACS_POLL_S": "0.1",
    "DROS_PACS_TIMEOUT_S": "10",
}


def _prepare(data_dir, orthanc) -> tuple[list[str], dict]:
    """A study of DX images queued for a disabled Orthanc node, written while no worker runs."""
    settings = Settings.load(
        environ={},
        overrides={
            "data_dir": str(data_dir),
            "log_level": "WARNING",
            "dicom": {"scp_port": 0},
            "pacs": {"worker": False},
        },
    )
    with TestClient(create_app(settings)) as c:
        h = {"Authorization": f"Bearer {login(c, 'admin')}"}
        node = add_node(c, h, "orthanc", orthanc.dicom_port, aet=orthanc.aet, associations=1, enabled=False)
        study = register(c, h)
        c.post(
            f"{API}/image",
            headers=h,
            json={
                "study_id": study["study_id"],
                "views": [{"view_id": "View_DX_T_A_CH_PA_00", "procedure_id": ""}] * (N_IMAGES - 3),
            },
        )
        study = c.get(f"{API}/study/{study['study_id']}", headers=h).json()["data"]
        imgs = images_of(study)
        assert len(imgs) == N_IMAGES
        for img in imgs:
            attach(c.app.state.db, settings.data_path, study, img, size=2048)
        db = c.app.state.db
        db.write_sync(
            lambda conn: repo.enqueue(
                conn,
                [i["sop_instance_uid"] for i in imgs],
                repo.get_node(conn, node["id"]),
                repo.MANUAL,
                datetime.now(UTC),
            )
        )
    return [i["sop_instance_uid"] for i in imgs], node


def test_sigkill_during_send_delivers_each_image_exactly_once(tmp_path, orthanc) -> None:
    orthanc.clear()
    data_dir = tmp_path / "data"
    sops, node = _prepare(data_dir, orthanc)
    server = start_server(data_dir, extra_env=SERVER_ENV)
    sending: list[str] = []
    try:
        with server.client() as http:
            h = {"Authorization": f"Bearer {login(http, 'admin')}"}
            # enabling the node wakes the worker: the send starts now, while we watch
            body = {k: node[k] for k in ("name", "type", "address", "port", "aet", "aec", "is_default")}
            assert (
                http.put(f"{API}/manage/pacs/{node['id']}", headers=h, json={**body, "is_enabled": True}).status_code
                == 200
            )
            deadline = time.monotonic() + 30
            while not sending and time.monotonic() < deadline:
                tasks = http.get(f"{API}/scp/store", headers=h).json()["data"]
                sending = [t["task_id"] for t in tasks if t["status"] == "SENDING"]
            assert sending, "no send started"
            os.killpg(server.proc.pid, signal.SIGKILL)
            server.proc.wait(10)
    finally:
        stop_server(server)

    server = start_server(data_dir, extra_env=SERVER_ENV)
    try:
        with server.client() as http:
            h = {"Authorization": f"Bearer {login(http, 'admin')}"}
            deadline = time.monotonic() + 90
            while True:
                tasks = http.get(f"{API}/scp/store", headers=h).json()["data"]
                if all(t["status"] == "COMPLETED" for t in tasks) or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
    finally:
        stop_server(server)
    assert len(tasks) == N_IMAGES and {t["status"] for t in tasks} == {"COMPLETED"}, tasks
    by_id = {t["task_id"]: t for t in tasks}
    # a task caught in SENDING was sent again after the restart
    assert all(by_id[t]["retry_count"] >= 1 for t in sending)
    uids = orthanc.sop_uids()
    assert sorted(uids) == sorted(sops) and len(uids) == len(set(uids)) == N_IMAGES
