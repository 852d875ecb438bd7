"""Request Attributes Sequence (0040,0275) in DX images of worklist studies, written by the Rust DX
writer: the Python and Rust item structs agree, the item built from a stored order is what the
order says (codes the DX cannot carry left out), the file passes dciodvfy, and an item without its
Type 1C IDs is refused with the field named."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pydicom
import pytest

from dros import imaging
from dros.acquisition.order_attributes import request_attributes
from dros.dx_metadata import DxMetadata, RequestAttributes
from tests.acquisition.test_loop import dciodvfy_errors
from tests.imaging.test_dx_metadata_drift import rust_fields
from tests.pacs.dx_files import processed

ORDER = {
    "patient_id": "P-1",
    "patient_name": "Wang^XiaoDong=王^小东",
    "accession_number": "ACC-7",
    "study_instance_uid": "1.2.826.0.1.3680043.8.498.77",
    "requested_procedure_id": "RP7",
    "requested_procedure_description": "胸部 PA",
    "requested_procedure_codes": [
        {"code_value": "RPC-CHEST", "coding_scheme": "LOCAL", "code_meaning": "Chest PA"},
    ],
    "scheduled_step": {
        "step_id": "SPS7",
        "description": "Chest PA step",
        "protocol_codes": [
            {"code_value": "X" * 20, "coding_scheme": "LOCAL", "code_meaning": "too long a code value for SH"},
            {"code_value": "PROT-1", "coding_scheme": "LOCAL", "code_meaning": "Chest two views"},
        ],
    },
}


def _meta(items: tuple[RequestAttributes, ...]) -> DxMetadata:
    return DxMetadata.new(
        uid_root="1.2.826.0.1.3680043.8.498",
        study_instance_uid=ORDER["study_instance_uid"],
        series_instance_uid="1.2.826.0.1.3680043.8.498.78",
        patient_id="P-1",
        patient_name=ORDER["patient_name"],
        accession_number="ACC-7",
        study_id="S7",
        request_attributes=items,
    )


def test_request_attributes_fields_match_the_rust_writer() -> None:
    assert [n for n, _ in rust_fields("RequestAttributes")] == [
        f.name for f in msgspec.structs.fields(RequestAttributes)
    ]


def test_item_from_the_stored_order() -> None:
    [item] = request_attributes(msgspec.json.encode(ORDER).decode())
    assert (item.requested_procedure_id, item.scheduled_procedure_step_id, item.accession_number) == (
        "RP7",
        "SPS7",
        "ACC-7",
    )
    assert item.requested_procedure_code is not None and item.requested_procedure_code.code_value == "RPC-CHEST"
    assert [c.code_value for c in item.scheduled_protocol_codes] == ["PROT-1"]  # the 20-character one left out
    assert request_attributes(None) == ()
    no_step = {**ORDER, "scheduled_step": {"step_id": ""}}
    assert request_attributes(msgspec.json.encode(no_step).decode()) == ()


def test_dx_with_request_attributes_passes_dciodvfy(tmp_path: Path) -> None:
    path = tmp_path / "ras.dcm"
    imaging.write_dicom(path, processed(64, 7), _meta(request_attributes(msgspec.json.encode(ORDER).decode())))
    assert dciodvfy_errors(str(path)) == []
    [ras] = pydicom.dcmread(path).RequestAttributesSequence
    assert (ras.RequestedProcedureID, ras.ScheduledProcedureStepID, ras.AccessionNumber) == ("RP7", "SPS7", "ACC-7")
    assert ras.RequestedProcedureDescription == "胸部 PA"
    assert ras.RequestedProcedureCodeSequence[0].CodeMeaning == "Chest PA"
    assert [c.CodeValue for c in ras.ScheduledProtocolCodeSequence] == ["PROT-1"]
    assert ras.ScheduledProcedureStepDescription == "Chest PA step"


def test_item_without_its_ids_is_refused(tmp_path: Path) -> None:
    bad = RequestAttributes(requested_procedure_id="RP7", scheduled_procedure_step_id="")
    with pytest.raises(ValueError, match="request_attributes"):
        imaging.write_dicom(tmp_path / "bad.dcm", processed(64, 7), _meta((bad,)))
    assert not (tmp_path / "bad.dcm").exists()
