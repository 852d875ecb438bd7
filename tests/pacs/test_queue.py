"""The send queue with DCMTK storescp: a PACS that is down while work waits, aborted transfers,
timeouts, giving up after the cap, retry, one task per image and node, listing and deleting."""

from __future__ import annotations

import time

from tests.pacs.dx_files import attach
from tests.pacs.helpers import API, add_node, queue, wait_tasks
from tests.pacs.peers import SilentPeer
from tests.ports import free_port
from tests.studies import images_of, register


def _study(client, app, h, settings, n: int = 2) -> tuple[dict, list[dict]]:
    study = register(client, h)
    imgs = images_of(study)[:n]
    for img in imgs:
        attach(app.state.db, settings.data_path, study, img)
    return study, imgs


def test_pacs_down_while_queued_then_delivered_when_back(client, app, auth_headers, settings, storescp) -> None:
    h = auth_headers()
    port = free_port()
    add_node(client, h, "archive", port)
    study, imgs = _study(client, app, h, settings)
    r = client.post(
        f"{API}/scp/study_store", headers=h, json={"instance_uid": study["study_instance_uid"], "pacs_name": "archive"}
    )
    data = r.json()["data"]
    assert data["ok"] is False and data["status"] == ["PENDING", "PENDING"], data
    assert "connection refused" in data["output"]
    waiting = queue(client, h)
    assert {t["status"] for t in waiting} == {"PENDING"}
    assert all(t["error"].startswith("refused: connection refused") and t["next_attempt_time"] for t in waiting)
    scp = storescp(port=port)  # the PACS comes back
    done = wait_tasks(client, h, lambda ts: all(t["status"] == "COMPLETED" for t in ts))
    assert all(t["retry_count"] >= 1 and t["error"] == "" for t in done)
    assert sorted(p.name.split(".", 1)[1] for p in scp.files()) == sorted(i["sop_instance_uid"] for i in imgs)


def test_abort_during_transfer_then_retry_of_the_failed_task(client, app, auth_headers, settings, storescp) -> None:
    h = auth_headers()
    aborting = storescp("--abort-during")
    add_node(client, h, "archive", aborting.port)
    _, imgs = _study(client, app, h, settings, n=1)
    body = {"sop_instance_uid": imgs[0]["sop_instance_uid"], "pacs_name": "archive"}
    data = client.post(f"{API}/scp/store", headers=h, json=body).json()["data"]
    assert data["ok"] is False and "aborted" in data["output"], data
    # retried with backoff until the cap (6 attempts), then FAILED with the reason
    [failed] = wait_tasks(client, h, lambda ts: ts[0]["status"] == "FAILED")
    assert failed["error"].startswith("aborted: ") and "gave up after 6 attempts" in failed["error"]
    assert failed["retry_count"] == 5
    port = aborting.port
    aborting.stop()
    good = storescp(port=port)
    r = client.post(f"{API}/scp/store_reply", headers=h, json={"instance_uid": failed["task_id"]})
    assert r.status_code == 200 and r.json()["data"]["ok"] is True, r.text
    [task] = queue(client, h)
    assert (task["task_id"], task["status"], task["retry_count"]) == (failed["task_id"], "COMPLETED", 0)
    assert len(good.files()) == 1


def test_store_to_a_silent_peer_times_out(client, app, auth_headers, settings) -> None:
    h = auth_headers()
    peer = SilentPeer()
    try:
        add_node(client, h, "silent", peer.port)
        _, imgs = _study(client, app, h, settings, n=1)
        t0 = time.monotonic()
        data = client.post(
            f"{API}/scp/store", headers=h, json={"sop_instance_uid": imgs[0]["sop_instance_uid"], "pacs_name": "silent"}
        ).json()["data"]
        assert time.monotonic() - t0 < 3.0 + 4.0  # pacs.timeout_s + slack
        # read while the peer is still silent (closing it would make the next attempt an abort)
        error = queue(client, h)[0]["error"]
    finally:
        peer.close()
    assert data["ok"] is False
    assert error.startswith("timeout: "), error


def test_same_image_and_node_is_one_task(client, app, auth_headers, settings, storescp) -> None:
    h = auth_headers()
    scp = storescp()
    add_node(client, h, "archive", scp.port)
    add_node(client, h, "backup", scp.port)
    study, imgs = _study(client, app, h, settings, n=1)
    body = {"sop_instance_uid": imgs[0]["sop_instance_uid"], "pacs_name": "archive"}
    first = client.post(f"{API}/scp/store", headers=h, json=body).json()["data"]
    again = client.post(f"{API}/scp/store", headers=h, json=body).json()["data"]
    study_wide = client.post(
        f"{API}/scp/study_store", headers=h, json={"instance_uid": study["study_id"], "pacs_name": "ARCHIVE"}
    ).json()["data"]
    assert first["task_ids"] == again["task_ids"] == study_wide["task_ids"]
    other = client.post(f"{API}/scp/store", headers=h, json={**body, "pacs_name": "backup"}).json()["data"]
    assert other["task_ids"] != first["task_ids"]
    assert sorted(t["destination"] for t in queue(client, h)) == ["archive", "backup"]


def test_listing_by_time_range_and_deleting(client, app, auth_headers, settings) -> None:
    h = auth_headers()
    add_node(client, h, "paused", 104, enabled=False)
    from datetime import UTC, datetime, timedelta

    from dros.domain.pacs import repo

    study, imgs = _study(client, app, h, settings, n=3)
    db = app.state.db
    base = datetime(2025, 10, 11, 9, 0, tzinfo=UTC)
    node = db.read_sync(lambda c: repo.node_by_name(c, "paused"))
    for i, img in enumerate(imgs):
        db.write_sync(
            lambda c, img=img, i=i: repo.enqueue(
                c, [img["sop_instance_uid"]], node, repo.MANUAL, base + timedelta(hours=i)
            )
        )
    everything = queue(client, h)
    assert [t["start_time"] for t in everything] == [
        "2025-10-11T11:00:00.000000Z",
        "2025-10-11T10:00:00.000000Z",
        "2025-10-11T09:00:00.000000Z",
    ]
    entry = everything[0]
    assert set(entry) >= {"task_id", "patient_name", "patient_id", "priority", "status", "destination", "start_time"}
    assert (entry["priority"], entry["status"], entry["patient_id"]) == ("Medium", "PENDING", study["patient_id"])
    assert entry["task_id"][14] == "7"  # UUID version 7, like the reference's task ids
    # the reference's own example: a day in UTC+8, both ends inclusive
    window = queue(client, h, start_time="2025-10-11T17:30:00.000+08:00", end_time="2025-10-11T18:00:00.000+08:00")
    assert [t["start_time"] for t in window] == ["2025-10-11T10:00:00.000000Z"]
    assert len(queue(client, h, start_time="2025-10-11T10:00:00Z")) == 2
    assert len(queue(client, h, end_time="2025-10-11T10:00:00Z")) == 2
    bad = client.get(f"{API}/scp/store", headers=h, params={"start_time": "yesterday"})
    assert bad.status_code == 400 and "start_time" in bad.json()["description"]
    bad = client.get(
        f"{API}/scp/store", headers=h, params={"start_time": "2025-10-12T00:00:00Z", "end_time": "2025-10-11T00:00:00Z"}
    )
    assert bad.status_code == 400 and "end_time" in bad.json()["description"]

    # DELETE scp/task {"task_ids": [...]}: all or nothing
    ids = [t["task_id"] for t in everything]
    r = client.request("DELETE", f"{API}/scp/task", headers=h, json={"task_ids": [ids[0], "no-such-task"]})
    assert r.status_code == 404 and r.json()["data"]["failed"] == ["no-such-task"]
    assert len(queue(client, h)) == 3
    assert client.request("DELETE", f"{API}/scp/task", headers=h, json={"task_ids": []}).status_code == 400
    assert client.request("DELETE", f"{API}/scp/task", headers=h, json={"task_ids": ids[:2]}).json()["data"] == {}
    assert [t["task_id"] for t in queue(client, h)] == ids[2:]
    assert client.post(f"{API}/scp/store_reply", headers=h, json={"instance_uid": "no-such-task"}).status_code == 404


def test_associations_per_node_are_configurable(client, app, auth_headers, settings, storescp) -> None:
    h = auth_headers()
    scp = storescp("--fork")  # one process per association: parallel associations are possible
    # verbose: each association's log names its own local port, so the logs differ
    add_node(client, h, "single", scp.port, associations=1, verbose=True)
    add_node(client, h, "parallel", scp.port, associations=3, verbose=True)
    study, _ = _study(client, app, h, settings, n=3)
    one = client.post(
        f"{API}/scp/study_store", headers=h, json={"instance_uid": study["study_id"], "pacs_name": "single"}
    )
    out = one.json()["data"]["output"]
    assert one.json()["data"]["ok"] is True
    assert out.count("I: Requesting Association") == 1 and "Sending Store Request (MsgID 3" in out
    three = client.post(
        f"{API}/scp/study_store", headers=h, json={"instance_uid": study["study_id"], "pacs_name": "parallel"}
    )
    out = three.json()["data"]["output"]
    assert three.json()["data"]["ok"] is True
    assert out.count("I: Requesting Association") == 3 and "MsgID 2" not in out
