"""Against Orthanc (one per module): arrival with identical pixel data for both stored syntaxes,
automatic sending of a completed study, storage commitment (success and an unknown instance)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pydicom
import pytest

from dros.dicomnet import scu
from dros.dicomnet.commitment import new_transaction_uid, request_commitment
from dros.dicomnet.log import DcmtkLog
from dros.domain.pacs import repo
from tests.pacs.conftest import OUR_AET
from tests.pacs.dx_files import attach
from tests.pacs.helpers import API, add_node, queue, wait_tasks
from tests.studies import images_of, register


@pytest.fixture(autouse=True)
def _empty_orthanc(orthanc):
    orthanc.clear()
    yield


@pytest.mark.parametrize("syntax", ["explicit", "rle"])
def test_arrives_in_orthanc_with_identical_pixel_data(client, app, auth_headers, settings, orthanc, syntax) -> None:
    h = auth_headers()
    add_node(client, h, "orthanc", orthanc.dicom_port, aet=orthanc.aet)
    study = register(client, h)
    img = images_of(study)[0]
    path = attach(app.state.db, settings.data_path, study, img, syntax=syntax)
    data = client.post(
        f"{API}/scp/store", headers=h, json={"sop_instance_uid": img["sop_instance_uid"], "pacs_name": "orthanc"}
    ).json()["data"]
    assert data["ok"] is True, data
    assert orthanc.sop_uids() == [img["sop_instance_uid"]]  # Orthanc's REST API lists it
    got = pydicom.dcmread(io.BytesIO(orthanc.file_of(img["sop_instance_uid"])))
    ours = pydicom.dcmread(path)
    # Orthanc accepts the context holding the stored syntax: nothing is converted
    assert got.file_meta.TransferSyntaxUID == ours.file_meta.TransferSyntaxUID
    assert got.PixelData == ours.PixelData


def test_completed_study_goes_to_the_default_node_by_itself(client, app, auth_headers, settings, orthanc) -> None:
    h = auth_headers()
    add_node(client, h, "orthanc", orthanc.dicom_port, aet=orthanc.aet, default=True)
    add_node(client, h, "other", 1, enabled=True)  # not default: nothing goes there
    study = register(client, h)
    imgs = images_of(study)
    attach(app.state.db, settings.data_path, study, imgs[0], judged="Accept")
    attach(app.state.db, settings.data_path, study, imgs[1], judged="Reject", syntax="rle")
    attach(app.state.db, settings.data_path, study, imgs[2], judged="Accept", syntax="rle")
    # what the acquisition step does inside the transaction that completes the study
    app.state.db.write_sync(lambda c: repo.enqueue_completed_study(c, study["study_id"]))
    wait_tasks(client, h, lambda ts: len(ts) == 2 and all(t["status"] == "COMPLETED" for t in ts))
    assert sorted(orthanc.sop_uids()) == sorted([imgs[0]["sop_instance_uid"], imgs[2]["sop_instance_uid"]])
    assert {t["destination"] for t in queue(client, h)} == {"orthanc"}
    got = client.get(f"{API}/study/{study['study_id']}", headers=h).json()["data"]
    status = {i["sop_instance_uid"]: i["send_status"] for s in got["series"] for i in s["images"]}
    assert status == {
        imgs[0]["sop_instance_uid"]: "Sent",
        imgs[1]["sop_instance_uid"]: "Unsent",
        imgs[2]["sop_instance_uid"]: "Sent",
    }


def test_storage_commitment_marks_committed_only_on_the_report(client, app, auth_headers, settings, orthanc) -> None:
    h = auth_headers()
    add_node(client, h, "orthanc", orthanc.dicom_port, aet=orthanc.aet, aec=OUR_AET, storage_commitment=True)
    study = register(client, h)
    imgs = images_of(study)[:2]
    for img in imgs:
        attach(app.state.db, settings.data_path, study, img)
    r = client.post(
        f"{API}/scp/study_store", headers=h, json={"instance_uid": study["study_id"], "pacs_name": "orthanc"}
    )
    assert r.json()["data"]["ok"] is True, r.text
    assert "Sending Storage Commitment Request (N-ACTION, " in r.json()["data"]["output"]
    tasks = wait_tasks(client, h, lambda ts: len(ts) == 2 and all(t["status"] == "COMMITTED" for t in ts))
    assert all(t["error"] == "" for t in tasks)
    got = client.get(f"{API}/study/{study['study_id']}", headers=h).json()["data"]
    assert {
        i["send_status"]
        for s in got["series"]
        for i in s["images"]
        if i["sop_instance_uid"] in {x["sop_instance_uid"] for x in imgs}
    } == {"Committed"}


def test_storage_commitment_failure_for_an_unknown_instance(client, app, auth_headers, settings, orthanc) -> None:
    """A commitment request naming an instance Orthanc does not hold comes back failed, and the
    task that waited for it becomes FAILED with the peer's reason."""
    h = auth_headers()
    add_node(client, h, "orthanc", orthanc.dicom_port, aet=orthanc.aet, aec=OUR_AET)
    study = register(client, h)
    img = images_of(study)[0]
    path = attach(app.state.db, settings.data_path, study, img)
    r = client.post(
        f"{API}/scp/store", headers=h, json={"sop_instance_uid": img["sop_instance_uid"], "pacs_name": "orthanc"}
    )
    assert r.json()["data"]["ok"] is True
    orthanc.clear()  # the PACS loses the image before it is asked to commit it
    [task] = queue(client, h)
    txn = new_transaction_uid("2.25")
    app.state.db.write_sync(lambda c: repo.set_commit_uid(c, [task["task_id"]], txn))
    info = scu.file_info(path)
    peer = scu.Peer("127.0.0.1", orthanc.dicom_port, orthanc.aet, OUR_AET)
    log = DcmtkLog()
    assoc, outcome = scu.associate(peer, scu.store_contexts([info], commitment=True), log, 5.0)
    assert assoc is not None, outcome
    try:
        assert request_commitment(assoc, [info], txn, log) == ""
    finally:
        assoc.release()
    [done] = wait_tasks(client, h, lambda ts: ts[0]["status"] == "FAILED")
    assert "storage commitment failed" in done["error"] and "0x0112 no such object instance" in done["error"]


def test_commitment_report_for_an_unknown_transaction_changes_nothing(client, app) -> None:
    changed = app.state.db.write_sync(lambda c: repo.apply_commitment(c, "2.25.1", ["1.2.3"], {}, datetime.now(UTC)))
    assert changed == 0
