"""MPPS against a pynetdicom SCP recording N-CREATE/N-SET: register from the worklist, expose, leave
Completed — the SCP gets IN PROGRESS then COMPLETED with series, images and dose, and the PACS gets
images under the RIS's Study Instance UID and accession. A RIS that is down gets the messages later,
in order, after a restart; a discontinued study carries its reason."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pydicom
import pytest
from litestar.testing import TestClient

from dros import imaging
from dros.acquisition import dicom_meta
from dros.acquisition import repo as acq_repo
from dros.app import create_app
from tests.conftest import login
from tests.pacs.dx_files import processed
from tests.pacs.helpers import API, add_node
from tests.pacs.peers import StoreScp
from tests.ris.helpers import TODAY, entries, wait_for, worklist_node
from tests.ris.peers import MppsScp, Order, Wlmscpfs

# PS3.4 Table F.7.2-1: attributes the N-CREATE must carry (Type 1 and 2 for the SCU)
N_CREATE_REQUIRED = (
    "SpecificCharacterSet", "ScheduledStepAttributesSequence", "PatientName", "PatientID", "PatientBirthDate",
    "PatientSex", "ReferencedPatientSequence", "PerformedProcedureStepID", "PerformedStationAETitle",
    "PerformedStationName", "PerformedLocation", "PerformedProcedureStepStartDate", "PerformedProcedureStepStartTime",
    "PerformedProcedureStepStatus", "PerformedProcedureStepDescription", "PerformedProcedureTypeDescription",
    "ProcedureCodeSequence", "PerformedProcedureStepEndDate", "PerformedProcedureStepEndTime", "Modality", "StudyID",
    "PerformedProtocolCodeSequence", "PerformedSeriesSequence",
)  # fmt: skip
SCHEDULED_ITEM_REQUIRED = (
    "StudyInstanceUID", "ReferencedStudySequence", "AccessionNumber", "RequestedProcedureID",
    "RequestedProcedureDescription", "ScheduledProcedureStepID", "ScheduledProcedureStepDescription",
    "ScheduledProtocolCodeSequence",
)  # fmt: skip
# required in the N-SET that completes the step (F.7.2-1 "Final State")
N_SET_FINAL_REQUIRED = (
    "PerformedProcedureStepStatus", "PerformedProcedureStepEndDate", "PerformedProcedureStepEndTime",
    "PerformedSeriesSequence", "PerformedProtocolCodeSequence",
)  # fmt: skip
SERIES_ITEM_REQUIRED = (
    "PerformingPhysicianName", "ProtocolName", "OperatorsName", "SeriesInstanceUID", "SeriesDescription",
    "RetrieveAETitle", "ReferencedImageSequence", "ReferencedNonImageCompositeSOPInstanceSequence",
)  # fmt: skip
NAME = "Wang^XiaoDong=王^小东"


@pytest.fixture
def peers(tmp_path: Path):
    wlm = Wlmscpfs(tmp_path / "wl")
    scp = MppsScp()
    store = StoreScp(tmp_path / "pacs", aet="STORESCP")
    try:
        yield wlm, scp, store
    finally:
        wlm.stop()
        scp.stop()
        store.stop()


def _register(client, h, wlm, views=None) -> dict:
    wlm.add("o1", Order("ACC-MPPS", "P-MPPS", NAME, "1.2.826.0.1.3680043.8.498.201", TODAY))
    entry = entries(client, h)[0]
    body = {
        "entry": entry,
        "views": views or [{"view_id": "View_DX_T_A_CH_PA_00"}, {"view_id": "View_DX_T_A_CH_LAT_00"}],
    }
    r = client.post(f"{API}/worklist/register", headers=h, json=body)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def _expose(app, settings, study, img, kv: float, mas: float, ei: float) -> None:
    """The acquisition's own DX metadata (dicom_meta.build from the image's slot) written for the slot,
    then the row as the acquisition commits it, with the dose."""
    sop = img["sop_instance_uid"]
    slot = app.state.db.read_sync(lambda c: acq_repo.slot(c, sop))
    meta = dicom_meta.build(
        slot, settings, instance_number=1, acquired_at=datetime.now(UTC), kv=kv, ma=mas * 10.0, ms=100.0, mas=mas,
        detector_id="TEST",
    )  # fmt: skip
    live = settings.data_path / "studies" / study["study_id"]
    live.mkdir(parents=True, exist_ok=True)
    imaging.write_dicom(live / f"{sop}.dcm", processed(64, 7), meta, "explicit")
    app.state.db.write_sync(
        lambda c: c.execute(
            "UPDATE image SET expose_status = 'Exposed', storage_status = 'Saved', image_file = ?, "
            "judged_status = 'Accept', expose_time = now(), acquisition_time = now(), delivered_kv = ?, "
            "delivered_ma = ?, delivered_ms = ?, delivered_mas = ?, exposure_index = ?, deviation_index = 0.5 "
            "WHERE sop_instance_uid = ?",
            [f"{sop}.dcm", kv, mas * 10.0, 100.0, mas, ei, sop],
        )
    )


def test_register_expose_complete_reaches_mpps_and_pacs(client, app, settings, auth_headers, peers) -> None:
    wlm, scp, store = peers
    h = auth_headers()
    worklist_node(client, h, "ris", wlm.port, wlm.aet)
    add_node(client, h, "mpps", scp.port, aet=scp.aet, roles=["mpps"])
    add_node(client, h, "pacs", store.port, aet="STORESCP", default=True)
    study = _register(client, h, wlm)
    imgs = [i for s in study["series"] for i in s["images"]]
    assert scp.messages() == []  # nothing before the first exposure
    _expose(app, settings, study, imgs[0], 80.0, 10.0, 400.0)
    create = wait_for(lambda: [m for m in scp.messages() if m[0] == "N-CREATE"], what="N-CREATE")
    _, uid, ds = create[0]
    for kw in N_CREATE_REQUIRED:
        assert kw in ds, kw
    assert ds.PerformedProcedureStepStatus == "IN PROGRESS"
    assert str(ds.PatientName) == NAME and ds.PatientID == "P-MPPS" and ds.Modality == "DX"
    assert ds.PerformedStationAETitle == "DROS"
    item = ds.ScheduledStepAttributesSequence[0]
    for kw in SCHEDULED_ITEM_REQUIRED:
        assert kw in item, kw
    assert (item.StudyInstanceUID, item.AccessionNumber) == ("1.2.826.0.1.3680043.8.498.201", "ACC-MPPS")
    assert (item.RequestedProcedureID, item.ScheduledProcedureStepID) == ("RP1", "SPS1")
    assert ds.ProcedureCodeSequence[0].CodeValue == "RPC-CHEST"
    _expose(app, settings, study, imgs[1], 90.0, 20.0, 600.0)
    r = client.post(
        f"{API}/task/inspection/leave", headers=h, json={"study_id": study["study_id"], "study_status": "Completed"}
    )
    assert r.status_code == 200, r.text
    sets = wait_for(lambda: [m for m in scp.messages() if m[0] == "N-SET"], what="N-SET")
    _, set_uid, ds = sets[0]
    assert set_uid == uid and [m[0] for m in scp.messages()] == ["N-CREATE", "N-SET"]
    for kw in N_SET_FINAL_REQUIRED:
        assert kw in ds, kw
    assert ds.PerformedProcedureStepStatus == "COMPLETED"
    refs = []
    for series in ds.PerformedSeriesSequence:
        for kw in SERIES_ITEM_REQUIRED:
            assert kw in series, kw
        refs += [r.ReferencedSOPInstanceUID for r in series.ReferencedImageSequence]
    assert refs == [i["sop_instance_uid"] for i in imgs]
    doses = ds.ExposureDoseSequence
    assert [(float(d.KVP), float(d.XRayTubeCurrentInuA), float(d.ExposureTime)) for d in doses] == [
        (80.0, 100000.0, 100.0),
        (90.0, 200000.0, 100.0),
    ]
    assert ds.TotalNumberOfExposures == 2
    assert "mAs 10, ms 100, EI 400" in ds.CommentsOnRadiationDose
    assert "mAs 20, ms 100, EI 600" in ds.CommentsOnRadiationDose
    # the PACS has the images under the RIS's order
    files = wait_for(lambda: store.files() if len(store.files()) == 2 else None, what="two images at the PACS")
    for f in files:
        got = pydicom.dcmread(f)
        assert (got.StudyInstanceUID, got.AccessionNumber) == ("1.2.826.0.1.3680043.8.498.201", "ACC-MPPS")


def test_ris_down_gets_messages_later_in_order_after_restart(settings, peers) -> None:
    wlm, scp, _ = peers
    scp.stop()  # the RIS is out
    app = create_app(settings)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        h = {"Authorization": f"Bearer {login(client, 'admin')}", "Product": "DROS", "Language": "en_US"}
        worklist_node(client, h, "ris", wlm.port, wlm.aet)
        add_node(client, h, "mpps", scp.port, aet=scp.aet, roles=["mpps"])
        study = _register(client, h, wlm, views=[{"view_id": "View_DX_T_A_CH_PA_00"}])
        img = study["series"][0]["images"][0]
        _expose(app, settings, study, img, 70.0, 5.0, 300.0)
        r = client.post(
            f"{API}/worklist/discontinue", headers=h, json={"study_id": study["study_id"], "reason": "patient_refused"}
        )
        assert r.status_code == 200, r.text

        def queued():
            rows = app.state.db.read_sync(
                lambda c: c.execute("SELECT kind, state, attempts FROM mpps_message ORDER BY seq").fetchall()
            )
            return rows if len(rows) == 2 and rows[0][2] >= 1 else None

        rows = wait_for(queued, what="both messages queued, the first tried")
        assert [(k, s) for k, s, _ in rows] == [("N-CREATE", "PENDING"), ("N-SET", "PENDING")]
    # restart with the RIS back: delivered in order
    scp.start()
    app = create_app(settings)
    with TestClient(app, base_url="http://127.0.0.1"):
        got = wait_for(lambda: scp.messages() if len(scp.messages()) == 2 else None, what="delivery after restart")
    assert [m[0] for m in got] == ["N-CREATE", "N-SET"]
    ds = got[1][2]
    assert ds.PerformedProcedureStepStatus == "DISCONTINUED"
    reason = ds.PerformedProcedureStepDiscontinuationReasonCodeSequence[0]
    assert (reason.CodeValue, reason.CodingSchemeDesignator) == ("110505", "DCM")
