"""C-STORE through the queue to DCMTK storescp: arrival byte-identical for both stored transfer
syntaxes (sent as stored, converted only when the peer takes none of them), and failures."""

from __future__ import annotations

import pydicom

from tests.imaging.test_dicom_dx import dciodvfy
from tests.pacs.dx_files import attach
from tests.pacs.helpers import API, add_node, queue
from tests.studies import images_of, register


def _arrived(scp, sop: str) -> pydicom.Dataset:
    found = [p for p in scp.files() if sop in p.name]
    assert len(found) == 1, scp.files()
    return pydicom.dcmread(found[0])


def test_explicit_le_arrives_byte_identical(client, app, auth_headers, settings, storescp) -> None:
    h = auth_headers()
    scp = storescp()
    add_node(client, h, "archive", scp.port)
    study = register(client, h)
    img = images_of(study)[0]
    path = attach(app.state.db, settings.data_path, study, img)
    r = client.post(
        f"{API}/scp/store", headers=h, json={"sop_instance_uid": img["sop_instance_uid"], "pacs_name": "archive"}
    )
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["ok"] is True, data
    assert "I: Received Store Response (Success)" in data["output"]
    assert data["output"].endswith("I: Releasing Association\n")
    got = _arrived(scp, img["sop_instance_uid"])
    ours = pydicom.dcmread(path)
    assert got.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
    assert got.PixelData == ours.PixelData
    [task] = queue(client, h)
    assert task["status"] == "COMPLETED" and task["destination"] == "archive"
    assert task["transfer_syntax"] == "Explicit VR Little Endian"


def test_rle_sent_as_stored_when_accepted(client, app, auth_headers, settings, storescp) -> None:
    h = auth_headers()
    scp = storescp("+xa")  # accepts every syntax DCMTK knows, prefers compressed ones
    add_node(client, h, "archive", scp.port)
    study = register(client, h)
    img = images_of(study)[0]
    path = attach(app.state.db, settings.data_path, study, img, syntax="rle")
    data = client.post(
        f"{API}/scp/store", headers=h, json={"sop_instance_uid": img["sop_instance_uid"], "pacs_name": "archive"}
    ).json()["data"]
    assert data["ok"] is True, data
    got = _arrived(scp, img["sop_instance_uid"])
    ours = pydicom.dcmread(path)
    assert got.file_meta.TransferSyntaxUID == pydicom.uid.RLELossless
    assert got.PixelData == ours.PixelData  # the very fragments we encoded


def test_rle_converted_only_when_peer_takes_uncompressed_only(client, app, auth_headers, settings, storescp) -> None:
    h = auth_headers()
    scp = storescp()  # default: uncompressed syntaxes only
    add_node(client, h, "archive", scp.port)
    study = register(client, h)
    img = images_of(study)[0]
    path = attach(app.state.db, settings.data_path, study, img, syntax="rle")
    data = client.post(
        f"{API}/scp/store", headers=h, json={"sop_instance_uid": img["sop_instance_uid"], "pacs_name": "archive"}
    ).json()["data"]
    assert data["ok"] is True, data
    got = _arrived(scp, img["sop_instance_uid"])
    ours = pydicom.dcmread(path)
    assert got.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
    assert got.PixelData == ours.pixel_array.tobytes()
    assert got.SOPInstanceUID == ours.SOPInstanceUID
    assert queue(client, h)[0]["transfer_syntax"] == "Explicit VR Little Endian"
    # the re-encoded object is still a valid DX image
    errors, _ = dciodvfy(next(p for p in scp.files() if img["sop_instance_uid"] in p.name))
    assert errors == []
