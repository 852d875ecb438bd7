"""Shared study fixtures' data: registration bodies from the pre-installed catalog, and a stand-in
for the acquisition step that writes a real DX file for an image slot."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

HUMAN = {
    "accession_number": "ACC0012345",
    "patient_id": "P-0001",
    "patient_name": "Zhang^San",
    "patient_english_name": "Zhang San",
    "patient_size": "Medium",
    "patient_type": "Human",
    "study_type": "Normal",
    "modality": "DX",
    "patient_dob": "1980-05-01T00:00:00Z",
    "patient_sex": "M",
    "pregnancy_status": "0004",
    "ref_physician": "Dr. Li",
    "operator_id": "OP987",
    "weight": 70,
    "thickness": 22,
    "length": 175,
    "comment": "knee pain",
    "views": [
        {"view_id": "View_DX_T_A_SK_AP_00", "procedure_id": "P0-0002"},
        {"view_id": "View_DX_T_A_SK_LAT_00", "procedure_id": "P0-0002"},
        {"view_id": "View_DX_T_A_CH_PA_00", "procedure_id": ""},
    ],
}

DOG = {
    "accession_number": "VET-7",
    "patient_id": "PET007",
    "patient_name": "Buddy",
    "patient_size": "Large",
    "patient_type": "Dog",
    "study_type": "Emergency",
    "patient_dob": "2021-03-02",
    "patient_sex": "M",
    "sex_neutered": "ALTERED",
    "owner_name": "主人孙某",
    "chip_number": "CHIP123456789",
    "variety": "Golden Retriever",
    "is_anaesthesia": "true",
    "is_sedation": False,
    "views": [
        {"view_id": "View_DX_DOG_TH_LAT_00", "procedure_id": "PV-0001"},
        {"view_id": "View_DX_DOG_TH_VD_00", "procedure_id": "PV-0001"},
    ],
}


def body(base: dict, **changes) -> dict:
    b = copy.deepcopy(base)
    for k, v in changes.items():
        if v is None:
            b.pop(k, None)
        else:
            b[k] = v
    return b


def register(client, headers, base: dict = HUMAN, **changes) -> dict:
    r = client.post("/dr/api/v1/auth/study", headers=headers, json=body(base, **changes))
    assert r.status_code == 200, r.text
    return r.json()["data"]


def expose(app, study: dict, image: dict, size: int = 256) -> Path:
    """What acquisition will do for a slot: a real DX file and thumbnail on disk, the row Exposed."""
    from dros import _core
    from dros.dx_metadata import DxMetadata

    state = app.state
    live = state.study_service.files.live_dir(study["study_id"])
    live.mkdir(parents=True, exist_ok=True)
    sop = image["sop_instance_uid"]
    y, x = np.mgrid[0:size, 0:size]
    pixels = ((x * 37 + y * 11) % 4096).astype(np.uint16)
    meta = DxMetadata(
        sop_instance_uid=sop,
        study_instance_uid=study["study_instance_uid"],
        series_instance_uid=image["series_instance_uid"],
        patient_id=study["patient_id"],
        patient_name=study["patient_name"],
        study_id=study["study_id"],
        bits_stored=12,
        window_center=2048.0,
        window_width=4096.0,
    )
    _core.write_dicom(str(live / f"{sop}.dcm"), pixels, meta, "explicit")
    _core.write_thumbnail(str(live / f"{sop}.webp"), pixels, 2048.0, 4096.0, 64)
    state.db.write_sync(
        lambda c: c.execute(
            "UPDATE image SET expose_status = 'Exposed', storage_status = 'Saved', image_file = ?, thumbnail_file = ?, "
            "expose_time = now() WHERE sop_instance_uid = ?",
            [f"{sop}.dcm", f"{sop}.webp", sop],
        )
    )
    return live / f"{sop}.dcm"


def images_of(study: dict) -> list[dict]:
    return [img for s in study["series"] for img in s["images"]]
