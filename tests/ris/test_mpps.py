"""MPPS against a pynetdicom SCP recording N-CREATE/N-SET. On the simulated console (real acquisition,
real devices' simulators, mosquitto): register from the worklist, expose — the SCP gets IN PROGRESS
with the first exposure, queued in the exposure's own transaction — leave Completed — COMPLETED with
series, images and the dose the acquisition recorded — and the PACS gets dciodvfy-clean images under
the RIS's Study Instance UID and accession, with the order in their Request Attributes Sequence. A
RIS that is down gets the messages later, in order, after a restart; a discontinued study carries
its reason; a SIGKILL right after the exposure's commit still delivers the N-CREATE once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pydicom
import pytest
from litestar.testing import TestClient

from dros import imaging
from dros.acquisition import dicom_meta
from dros.acquisition import repo as acq_repo
from dros.app import create_app
from tests.acquisition.conftest import acq_settings, device_builder
from tests.acquisition.test_loop import dciodvfy_errors
from tests.conftest import REPO, login
from tests.mqtt_peers import Broker, broker
from tests.pacs.dx_files import processed
from tests.pacs.helpers import API, add_node
from tests.pacs.peers import StoreScp
from tests.ris.helpers import TODAY, entries, wait_for, worklist_node
from tests.ris.peers import MppsScp, Order, Wlmscpfs
from tests.studies import images_of, register

__all__ = ["broker"]

TASK = f"{API}/task/inspection"
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
STUDY_UID = "1.2.826.0.1.3680043.8.498.201"
RIS = {
    "worklist_timeout_s": 3.0,
    "mpps_timeout_s": 2.0,
    "mpps_retry_base_s": 0.2,
    "mpps_retry_cap_s": 0.5,
    "mpps_poll_s": 0.1,
}


def console_settings(data_dir: Path, broker: Broker) -> Any:
    """The simulated console (instant device simulators, mosquitto) with the RIS test timings."""
    return acq_settings(
        data_dir, broker, dicom={"ae_title": "DROS", "scp_port": 0},
        pacs={"timeout_s": 3.0, "retry_base_s": 0.2, "retry_cap_s": 1.0, "poll_s": 0.1, "reply_wait_s": 5.0}, ris=RIS,
    )  # fmt: skip


@pytest.fixture
def small_panel(monkeypatch: pytest.MonkeyPatch) -> None:
    from dros.simulators.detector_frames import PanelResponse

    monkeypatch.setattr("dros.lifespan.build_devices", device_builder(PanelResponse(width=512, height=512)))


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
    wlm.add("o1", Order("ACC-MPPS", "P-MPPS", NAME, STUDY_UID, TODAY))
    entry = entries(client, h)[0]
    body = {
        "entry": entry,
        "views": views or [{"view_id": "View_DX_T_A_CH_PA_00"}, {"view_id": "View_DX_T_A_CH_LAT_00"}],
    }
    r = client.post(f"{API}/worklist/register", headers=h, json=body)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def _status(c: TestClient, h: dict[str, str]) -> dict[str, Any]:
    return dict(c.get(f"{TASK}/status", headers=h).json()["data"])


def _expose_on_console(c: TestClient, h: dict[str, str], sop: str) -> None:
    """Select the image, wait until ready, trigger, wait for the committed image (the acquisition's own path)."""
    r = c.post(f"{TASK}/start", headers=h, json={"instance_uid": sop})
    assert r.status_code == 200, r.text
    wait_for(lambda: _status(c, h)["all_ready"], timeout=30, what="ready to expose")
    assert c.post(f"{TASK}/trigger", headers=h).status_code == 200

    def exposed() -> bool:
        row = c.app.state.db.read_sync(
            lambda conn: conn.execute("SELECT expose_status FROM image WHERE sop_instance_uid = ?", [sop]).fetchone()
        )
        return bool(row and row[0] == "Exposed")

    wait_for(exposed, timeout=30, what="image exposed")


def _dose_rows(app: Any, sops: list[str]) -> list[tuple[float, float, float, float, float]]:
    """(kV, mA, ms, mAs, EI) the acquisition recorded for each image."""
    return [
        app.state.db.read_sync(
            lambda c, sop=sop: c.execute(
                "SELECT delivered_kv, delivered_ma, delivered_ms, delivered_mas, exposure_index FROM image "
                "WHERE sop_instance_uid = ?",
                [sop],
            ).fetchone()
        )
        for sop in sops
    ]


def _expose_stand_in(app, settings, study, img, kv: float, mas: float, ei: float) -> None:
    """For the delivery tests only: the acquisition's own DX metadata (dicom_meta.build from the
    image's slot) written for the slot, then the row as the acquisition commits it, with the dose,
    and the acquisition's exposure hooks in that same transaction (as `AcquisitionService` calls them)."""
    sop = img["sop_instance_uid"]
    slot = app.state.db.read_sync(lambda c: acq_repo.slot(c, sop))
    meta = dicom_meta.build(
        slot, settings, instance_number=1, acquired_at=datetime.now(UTC), kv=kv, ma=mas * 10.0, ms=100.0, mas=mas,
        detector_id="TEST",
    )  # fmt: skip
    live = settings.data_path / "studies" / study["study_id"]
    live.mkdir(parents=True, exist_ok=True)
    imaging.write_dicom(live / f"{sop}.dcm", processed(64, 7), meta, "explicit")
    assert dciodvfy_errors(str(live / f"{sop}.dcm")) == []

    def commit(c: Any) -> None:
        c.execute(
            "UPDATE image SET expose_status = 'Exposed', storage_status = 'Saved', image_file = ?, "
            "judged_status = 'Accept', expose_time = now(), acquisition_time = now(), delivered_kv = ?, "
            "delivered_ma = ?, delivered_ms = ?, delivered_mas = ?, exposure_index = ?, deviation_index = 0.5 "
            "WHERE sop_instance_uid = ?",
            [f"{sop}.dcm", kv, mas * 10.0, 100.0, mas, ei, sop],
        )
        app.state.acquisition.hooks.image_exposed(c, study["study_id"], datetime.now(UTC))

    app.state.db.write_sync(commit)


def test_register_expose_complete_reaches_mpps_and_pacs(
    data_dir: Path, broker: Broker, small_panel: None, peers: Any
) -> None:
    wlm, scp, store = peers
    with TestClient(create_app(console_settings(data_dir, broker)), base_url="http://127.0.0.1", timeout=30) as c:
        h = {"Authorization": f"Bearer {login(c, 'admin')}", "Product": "DROS", "Language": "en_US"}
        worklist_node(c, h, "ris", wlm.port, wlm.aet)
        add_node(c, h, "mpps", scp.port, aet=scp.aet, roles=["mpps"])
        add_node(c, h, "pacs", store.port, aet="STORESCP", default=True)
        wait_for(lambda: _status(c, h)["gen_ready"] and _status(c, h)["fpd_ready"], timeout=30, what="devices")
        study = _register(c, h, wlm)
        sops = [i["sop_instance_uid"] for i in images_of(study)]
        assert scp.messages() == []  # nothing before the first exposure

        _expose_on_console(c, h, sops[0])
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
        assert (item.StudyInstanceUID, item.AccessionNumber) == (STUDY_UID, "ACC-MPPS")
        assert (item.RequestedProcedureID, item.ScheduledProcedureStepID) == ("RP1", "SPS1")
        assert ds.ProcedureCodeSequence[0].CodeValue == "RPC-CHEST"

        _expose_on_console(c, h, sops[1])
        for sop in sops:
            r = c.post(f"{TASK}/judge", headers=h, json={"instance_uid": sop, "accept": True})
            assert r.status_code == 200, r.text
        r = c.post(f"{TASK}/leave", headers=h, json={"study_id": study["study_id"], "study_status": "Completed"})
        assert r.status_code == 200, r.text
        sets = wait_for(lambda: [m for m in scp.messages() if m[0] == "N-SET"], what="N-SET")
        _, set_uid, ds = sets[0]
        # the second exposure opened no second step
        assert set_uid == uid and [m[0] for m in scp.messages()] == ["N-CREATE", "N-SET"]
        for kw in N_SET_FINAL_REQUIRED:
            assert kw in ds, kw
        assert ds.PerformedProcedureStepStatus == "COMPLETED"
        refs = []
        for series in ds.PerformedSeriesSequence:
            for kw in SERIES_ITEM_REQUIRED:
                assert kw in series, kw
            refs += [r.ReferencedSOPInstanceUID for r in series.ReferencedImageSequence]
        assert refs == sops
        # the dose the acquisition recorded, per image
        recorded = _dose_rows(c.app, sops)
        assert all(kv > 0 and ma > 0 and ms > 0 and mas > 0 and ei > 0 for kv, ma, ms, mas, ei in recorded)
        doses = ds.ExposureDoseSequence
        assert [float(d.KVP) for d in doses] == pytest.approx([r[0] for r in recorded], rel=1e-5)
        assert [float(d.XRayTubeCurrentInuA) for d in doses] == pytest.approx([r[1] * 1000 for r in recorded], rel=1e-5)
        assert [int(d.ExposureTime) for d in doses] == [round(r[2]) for r in recorded]  # IS: whole ms
        assert ds.TotalNumberOfExposures == 2
        for sop, (_, _, ms, mas, ei) in zip(sops, recorded, strict=True):
            assert f"{sop}: kVp" in ds.CommentsOnRadiationDose
            assert f"mAs {mas:.4g}, ms {ms:.4g}, EI {ei:.4g}" in ds.CommentsOnRadiationDose

        # the PACS has the images under the RIS's order, each one a valid DX
        files = wait_for(
            lambda: store.files() if len(store.files()) == 2 else None, timeout=30, what="two images at the PACS"
        )
        for f in files:
            got_ds = pydicom.dcmread(f)
            assert (got_ds.StudyInstanceUID, got_ds.AccessionNumber) == (STUDY_UID, "ACC-MPPS")
            assert dciodvfy_errors(str(f)) == [], f
            # IHE SWF: the order in the Request Attributes Sequence
            [ras] = got_ds.RequestAttributesSequence
            assert (ras.RequestedProcedureID, ras.ScheduledProcedureStepID) == ("RP1", "SPS1")
            assert (ras.AccessionNumber, ras.RequestedProcedureDescription) == ("ACC-MPPS", "Chest PA")
            code = ras.RequestedProcedureCodeSequence[0]
            assert (code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning) == ("RPC-CHEST", "LOCAL", "Chest PA")
            assert ras.ScheduledProcedureStepDescription == "Chest PA step"

        # The SCP records a message before it answers; the outbox marks it SENT only once that
        # answer is back, so the last one may still be on its way when the images have arrived.
        def outbox() -> list[tuple[str, str]]:
            return list(
                c.app.state.db.read_sync(
                    lambda conn: conn.execute("SELECT kind, state FROM mpps_message ORDER BY seq").fetchall()
                )
            )

        wait_for(lambda: all(state == "SENT" for _, state in outbox()), timeout=10, what="the outbox to be sent")
        assert outbox() == [("N-CREATE", "SENT"), ("N-SET", "SENT")]


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
        _expose_stand_in(app, settings, study, img, 70.0, 5.0, 300.0)
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


def test_sigkill_right_after_the_exposure_commit_still_delivers_the_n_create_once(
    data_dir: Path, broker: Broker, small_panel: None, tmp_path: Path
) -> None:
    scp = MppsScp()
    try:
        with TestClient(create_app(console_settings(data_dir, broker)), base_url="http://127.0.0.1") as c:
            h = {"Authorization": f"Bearer {login(c, 'admin')}", "Product": "DROS", "Language": "en_US"}
            add_node(c, h, "mpps", scp.port, aet=scp.aet, roles=["mpps"])
            study = register(c, h)
        sop = images_of(study)[0]["sop_instance_uid"]
        env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.ris.mpps_crash_child", str(data_dir), str(broker.port), sop],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            out, _ = child.communicate(timeout=120)
        finally:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        assert child.returncode == -signal.SIGKILL, out.decode(errors="replace")[-3000:]
        assert scp.messages() == []  # killed before the worker could send anything

        with TestClient(create_app(console_settings(data_dir, broker)), base_url="http://127.0.0.1") as c:
            wait_for(lambda: scp.messages(), what="the N-CREATE after the restart")
            time.sleep(1.0)  # ten delivery rounds: a second copy would have arrived by now
            rows = c.app.state.db.read_sync(
                lambda conn: conn.execute(
                    "SELECT m.kind, m.state, i.expose_status FROM mpps_message m JOIN image i USING (study_id) "
                    "WHERE i.sop_instance_uid = ?",
                    [sop],
                ).fetchall()
            )
        assert [m[0] for m in scp.messages()] == ["N-CREATE"]
        assert scp.messages()[0][2].PerformedProcedureStepStatus == "IN PROGRESS"
        assert rows == [("N-CREATE", "SENT", "Exposed")]
    finally:
        scp.stop()
