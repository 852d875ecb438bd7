"""GET auth/worklist against Orthanc's ModalityWorklists plugin (Debian's orthanc package), serving
worklist files made with dump2dcm: Chinese names in ISO_IR 192 and GB18030, only our station's DX
orders of the day."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ris.helpers import TODAY, entries, worklist_node
from tests.ris.peers import Order, orthanc_worklists, write_worklist_file


@pytest.fixture
def orthanc(tmp_path: Path) -> Iterator[tuple[object, Path]]:
    peer, db = orthanc_worklists(tmp_path)
    try:
        yield peer, db
    finally:
        peer.stop()


def test_orthanc_worklist_with_chinese_names(client, auth_headers, orthanc) -> None:
    peer, db = orthanc
    write_worklist_file(db, "u8", Order("ACC-OU", "P-OU", "Wang^XiaoDong=王^小东", "1.2.3.4.501", TODAY, time="070000"))
    write_worklist_file(db, "gb", Order("ACC-OG", "P-OG", "Li^Na=李^娜", "1.2.3.4.502", TODAY, charset="GB18030"))
    write_worklist_file(db, "ct", Order("ACC-OC", "P-OC", "X^Y", "1.2.3.4.503", TODAY, modality="CT"))
    h = auth_headers()
    worklist_node(client, h, "orthanc", peer.dicom_port, peer.aet)  # type: ignore[attr-defined]
    got = entries(client, h)
    assert [(e["accession_number"], e["patient_name"], e["study_instance_uid"]) for e in got] == [
        ("ACC-OU", "Wang^XiaoDong=王^小东", "1.2.3.4.501"),
        ("ACC-OG", "Li^Na=李^娜", "1.2.3.4.502"),
    ]
    assert got[0]["scheduled_step"]["step_id"] == "SPS1"
    assert [e["accession_number"] for e in entries(client, h, patient_id="P-OG")] == ["ACC-OG"]
