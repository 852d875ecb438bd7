"""SIGKILL of `dros serve` while reports and portraits are being saved: after a restart every saved
version is complete (its PDF, its Encapsulated PDF instance, its row), the latest report opens, and
no file under a final name is half-written."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time

import httpx
import pydicom

from tests.conftest import PASSWORD, group_members, start_server, stop_server
from tests.documents.test_report import SEED_HUMAN
from tests.documents.tools import pdf_text, photo, png_b64, squash
from tests.studies import HUMAN, body


def test_killed_while_saving_documents(tmp_path, template_data_dir):
    data = tmp_path / "data"
    shutil.copytree(template_data_dir, data)
    server = start_server(data)
    portrait = png_b64(photo(600, 400))
    sent: list[int] = []
    try:
        with server.client() as c:
            token = c.post("/dr/api/v1/pub/login", json={"username": "admin", "password": PASSWORD}).json()["data"][
                "token"
            ]
            h = {"Authorization": f"Bearer {token}", "Language": "zh_CN"}
            study = c.post("/dr/api/v1/auth/study", headers=h, json=body(HUMAN)).json()["data"]
        sid = study["study_id"]

        def hammer() -> None:
            with httpx.Client(base_url=server.base_url, timeout=10) as client:
                n = 0
                while True:
                    n += 1
                    try:
                        client.post(
                            f"/dr/api/v1/auth/study/{sid}/report",
                            headers=h,
                            json={**SEED_HUMAN, "impression": f"第{n}版"},
                        )
                        client.post(
                            "/dr/api/v1/auth/study/portrait", headers=h, json={"instance_uid": sid, "data": portrait}
                        )
                    except httpx.HTTPError:
                        return
                    sent.append(n)

        worker = threading.Thread(target=hammer)
        worker.start()
        deadline = time.monotonic() + 30
        while len(sent) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.13)  # land somewhere inside a save
        os.killpg(server.proc.pid, signal.SIGKILL)
        server.proc.wait(timeout=10)
        worker.join(timeout=20)
        assert not group_members(server.proc.pid)
        assert len(sent) >= 3
    finally:
        if server.proc.poll() is None:
            stop_server(server)

    server = start_server(data)
    try:
        with server.client() as c:
            token = c.post("/dr/api/v1/pub/login", json={"username": "admin", "password": PASSWORD}).json()["data"][
                "token"
            ]
            h = {"Authorization": f"Bearer {token}"}
            after = c.get(f"/dr/api/v1/auth/study/{sid}", headers=h).json()["data"]
            latest = c.get(f"/dr/api/v1/auth/study/{sid}/report", headers=h)
        folder = data / "studies" / sid
        rows = [i for s in after["series"] for i in s["images"] if i["image_type"] in ("report", "portrait")]
        assert len([r for r in rows if r["image_type"] == "report"]) >= len(sent)
        for row in rows:  # every committed row has its complete files
            ds = pydicom.dcmread(folder / row["image_file"])
            assert ds.SOPInstanceUID == row["sop_instance_uid"]
            assert (folder / row["thumbnail_file"]).is_file()
            if row["image_type"] == "report":
                pdf = bytes(ds.EncapsulatedDocument)[: ds.EncapsulatedDocumentLength]
                assert pdf.rstrip().endswith(b"%%EOF") and (folder / f"{ds.SOPInstanceUID}.pdf").read_bytes() == pdf
        assert after["portrait_file"] in {r["image_file"] for r in rows if r["image_type"] == "portrait"}
        assert latest.status_code == 200
        number = max(int(r["comment"].rsplit(" ", 1)[1]) for r in rows if r["image_type"] == "report")
        assert squash(f"第{number}版") in squash(pdf_text(latest.content, tmp_path))
        for path in folder.iterdir():  # nothing half-written under a final name
            if path.suffix == ".dcm":
                pydicom.dcmread(path)
            elif path.suffix == ".pdf":
                assert path.read_bytes().rstrip().endswith(b"%%EOF")
    finally:
        stop_server(server)
