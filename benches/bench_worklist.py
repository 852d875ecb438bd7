"""Modality Worklist query: GET auth/worklist answering 500 entries, the C-FIND going over loopback
to DCMTK wlmscpfs and to Orthanc's ModalityWorklists plugin (entries parsed, mapped to catalog
procedures, sorted, one page of 500 in the envelope). Target: ≤ 300 ms (median), asserted with --benchmark-enable; the suite's single run
checks the count only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydicom
import pytest
from litestar.testing import TestClient
from tests.conftest import login
from tests.ris.helpers import TODAY
from tests.ris.peers import Order, Wlmscpfs, orthanc_worklists, write_worklist_file

from dros.app import create_app
from dros.settings import Settings

N_ENTRIES = 500
TARGET_S = 0.300
API = "/dr/api/v1/auth"


def _enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("benchmark_enable"))


def _orders(folder: Path, first: Path) -> None:
    """One file from dump2dcm, the rest are copies with their own patient, accession and UID."""
    template = pydicom.dcmread(first)
    for i in range(1, N_ENTRIES):
        template.AccessionNumber = f"ACC{i:05d}"
        template.PatientID = f"P{i:05d}"
        template.StudyInstanceUID = f"1.2.826.0.1.3680043.8.498.{1000 + i}"
        template.ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartTime = f"{8 + i // 100:02d}{i % 60:02d}00"
        template.save_as(folder / f"e{i:04d}.wl")


FIRST = Order("ACC00000", "P00000", "Wang^XiaoDong=王^小东", "1.2.826.0.1.3680043.8.498.1000", TODAY)


@pytest.fixture(params=["wlmscpfs", "orthanc"])
def wlm(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[int, str]]:
    """(port, AE title) of a worklist provider serving the 500 orders."""
    if request.param == "wlmscpfs":
        peer = Wlmscpfs(tmp_path / "wl")
        _orders(peer.dir, peer.add("e0000", FIRST))
        try:
            yield peer.port, peer.aet
        finally:
            peer.stop()
    else:
        orthanc, db = orthanc_worklists(tmp_path)
        try:
            _orders(db, write_worklist_file(db, "e0000", FIRST))
            yield orthanc.dicom_port, orthanc.aet
        finally:
            orthanc.stop()


@pytest.mark.benchmark(group="worklist")
def test_worklist_500_entries(
    benchmark: Any, wlm: tuple[int, str], tmp_path: Path, pytestconfig: pytest.Config
) -> None:
    settings = Settings.load(
        environ={},
        overrides={"data_dir": str(tmp_path / "data"), "log_level": "WARNING", "dicom": {"scp_port": 0}},
    )
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        h = {"Authorization": f"Bearer {login(client, 'admin')}", "Product": "DROS", "Language": "en_US"}
        node = {"name": "ris", "type": "PACS", "address": "127.0.0.1", "port": wlm[0], "aet": wlm[1]}
        node |= {"aec": "DROS", "is_enabled": True, "is_default": False, "params": {"roles": ["worklist"]}}
        assert client.post(f"{API}/manage/pacs", headers=h, json=node).status_code == 200
        mapping = {"code_value": "RPC-CHEST", "coding_scheme": "LOCAL", "procedure_ids": ["P0-0002"]}
        assert client.put(f"{API}/worklist/mapping", headers=h, json=mapping).status_code == 200

        def query() -> dict[str, Any]:
            r = client.get(f"{API}/worklist", headers=h, params={"page_size": N_ENTRIES})
            assert r.status_code == 200, r.text
            return dict(r.json()["data"])

        data = benchmark.pedantic(query, rounds=5 if _enabled(pytestconfig) else 1, warmup_rounds=1)
        assert data["total"] == N_ENTRIES and len(data["entries"]) == N_ENTRIES
        assert all(e["procedure_ids"] == ["P0-0002"] for e in data["entries"])
        if _enabled(pytestconfig):
            assert benchmark.stats.stats.median <= TARGET_S
