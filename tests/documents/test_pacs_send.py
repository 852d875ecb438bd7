"""The study's documents travel to a real PACS peer (DCMTK storescp on loopback) through the send
queue like the X-ray images: report (Encapsulated PDF), portrait (VL Photographic) and the
post-processed derived DX each arrive with the data set as stored."""

from __future__ import annotations

import numpy as np
import pydicom

from tests.documents.test_report import SEED_HUMAN
from tests.documents.tools import photo, png_b64, png_bytes
from tests.pacs.helpers import API, add_node
from tests.pacs.peers import StoreScp
from tests.studies import expose, images_of, register


def test_report_portrait_and_derived_image_arrive_at_storescp(client, auth_headers, app, settings, tmp_path):
    h = auth_headers()
    scp = StoreScp(tmp_path / "received")
    try:
        add_node(client, h, "docs-archive", scp.port)
        study = register(client, h)
        image = images_of(study)[0]
        expose(app, study, image)
        sid = study["study_id"]
        report = client.post(f"{API}/study/{sid}/report", headers=h, json=SEED_HUMAN).json()["data"]["path"]
        portrait = client.post(f"{API}/study/portrait", headers=h, json={"instance_uid": sid, "data": png_b64(photo())})
        derived = client.post(
            f"{API}/image/post_proc",
            headers=h,
            data={"instance_uid": image["sop_instance_uid"], "window_center": "100", "window_wdith": "200"},
            files={"data": ("p.png", png_bytes(np.zeros((64, 64), np.uint8)), "image/png")},
        )
        folder = settings.data_path / "studies" / sid
        for name in (report, portrait.json()["data"]["path"], derived.json()["data"]["path"]):
            sop = name.removesuffix(".dcm")
            r = client.post(f"{API}/scp/store", headers=h, json={"sop_instance_uid": sop, "pacs_name": "docs-archive"})
            assert r.status_code == 200 and r.json()["data"]["ok"] is True, r.text
            [arrived] = [p for p in scp.files() if sop in p.name]
            got, ours = pydicom.dcmread(arrived), pydicom.dcmread(folder / name)
            assert got.SOPClassUID == ours.SOPClassUID and got.StudyInstanceUID == study["study_instance_uid"]
            assert [e for e in got if e.tag.group > 2] == [e for e in ours if e.tag.group > 2]
    finally:
        scp.stop()
