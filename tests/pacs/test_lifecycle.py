"""The worker and our SCP start and stop with the app, quickly, even with a send hanging; the task
that was sending is sent again at the next start."""

from __future__ import annotations

import socket
import time

from litestar.testing import TestClient

from dros.app import create_app
from tests.conftest import login
from tests.pacs.dx_files import attach
from tests.pacs.helpers import API, add_node, queue
from tests.pacs.peers import SilentPeer
from tests.studies import images_of, register


def test_stop_is_quick_with_a_hanging_send_and_the_task_is_resent(settings, storescp) -> None:
    peer = SilentPeer()
    try:
        client = TestClient(create_app(settings))
        client.__enter__()
        try:
            h = {"Authorization": f"Bearer {login(client, 'admin')}"}
            # our SCP listens while the app runs
            with socket.create_connection(("127.0.0.1", settings.dicom.scp_port), timeout=2):
                pass
            node = add_node(client, h, "hanging", peer.port)
            study = register(client, h)
            img = images_of(study)[0]
            attach(client.app.state.db, settings.data_path, study, img)
            r = client.post(
                f"{API}/scp/study_store", headers=h, json={"instance_uid": study["study_id"], "pacs_name": "hanging"}
            )
            assert r.status_code == 200
            deadline = time.monotonic() + 10
            while queue(client, h)[0]["status"] != "SENDING" and time.monotonic() < deadline:
                time.sleep(0.05)
            assert queue(client, h)[0]["status"] == "SENDING"
        finally:
            t0 = time.monotonic()
            client.__exit__(None, None, None)
            stopped_in = time.monotonic() - t0
    finally:
        peer.close()
    assert stopped_in < 2.5, stopped_in
    # the port is free again
    with socket.socket() as s:
        s.bind(("127.0.0.1", settings.dicom.scp_port))

    scp = storescp()
    with TestClient(create_app(settings)) as client:
        h = {"Authorization": f"Bearer {login(client, 'admin')}"}
        r = client.put(
            f"{API}/manage/pacs/{node['id']}",
            headers=h,
            json={
                **{k: node[k] for k in ("name", "type", "address", "aet", "aec", "is_enabled", "is_default")},
                "port": scp.port,
            },
        )
        assert r.status_code == 200
        deadline = time.monotonic() + 20
        while queue(client, h)[0]["status"] != "COMPLETED" and time.monotonic() < deadline:
            time.sleep(0.1)
        [task] = queue(client, h)
    assert task["status"] == "COMPLETED" and task["retry_count"] >= 1
    assert len(scp.files()) == 1
