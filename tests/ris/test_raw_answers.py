"""The byte-level reader of C-FIND answers gives what pydicom's reader gives for the same bytes:
implicit and explicit VR, sequences of defined and undefined length, UTF-8 and GB18030 text; a
truncated answer is refused, not half-read."""

from __future__ import annotations

from io import BytesIO

import pytest
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pynetdicom.dsutils import decode

from dros.dicomnet import raw_answers
from dros.dicomnet import worklist as mwl
from tests.ris.peers import Order


def _answer(charset: str, name: str) -> Dataset:
    ds = mwl.identifier_of(mwl.Query(date="20261205", station_aet="DROS"))
    ds.SpecificCharacterSet = charset
    ds.PatientName = name
    ds.PatientID = "P-1"
    ds.AccessionNumber = "ACC-1"
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.8.498.7"
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = "RPC-CHEST", "LOCAL", "胸部 PA"
    ds.RequestedProcedureCodeSequence = [code]
    sps = ds.ScheduledProcedureStepSequence[0]
    sps.ScheduledProcedureStepID = "SPS1"
    sps.ScheduledPerformingPhysicianName = "Zhao^Min=赵^敏"
    return ds


def _encode(ds: Dataset, implicit: bool, undefined: bool) -> bytes:
    buf = DicomBytesIO()
    buf.is_implicit_VR, buf.is_little_endian = implicit, True
    for elem in ds.iterall():
        if elem.VR == "SQ":
            elem.is_undefined_length = undefined
    write_dataset(buf, ds)
    return buf.getvalue()


@pytest.mark.parametrize(
    "charset,name", [("ISO_IR 192", "Wang^XiaoDong=王^小东"), ("GB18030", "Wang^XiaoDong=王^小东")]
)
@pytest.mark.parametrize("implicit", [True, False])
@pytest.mark.parametrize("undefined", [True, False])
def test_raw_reader_agrees_with_pydicom(charset: str, name: str, implicit: bool, undefined: bool) -> None:
    raw = _encode(_answer(charset, name), implicit, undefined)
    ours = mwl.answer_values(raw, implicit, "")
    theirs = mwl.values(decode(BytesIO(raw), implicit, True, False))
    assert mwl.text(ours, "PatientName") == name
    assert mwl.codes(ours, "RequestedProcedureCodeSequence") == mwl.codes(theirs, "RequestedProcedureCodeSequence")
    assert mwl.codes(ours, "RequestedProcedureCodeSequence")[0]["code_meaning"] == "胸部 PA"
    for kw in ("PatientName", "PatientID", "AccessionNumber", "StudyInstanceUID", "SpecificCharacterSet"):
        assert mwl.text(ours, kw) == mwl.text(theirs, kw), kw
    ours_sps, theirs_sps = mwl.first_step(ours), mwl.first_step(theirs)
    for kw in ("ScheduledProcedureStepID", "ScheduledPerformingPhysicianName", "Modality", "ScheduledStationAETitle"):
        assert mwl.text(ours_sps, kw) == mwl.text(theirs_sps, kw), kw
    assert mwl.text(ours_sps, "ScheduledPerformingPhysicianName") == "Zhao^Min=赵^敏"


def test_answer_without_charset_is_read_in_the_fallback() -> None:
    raw = _encode(_answer("GB18030", "Li^Lei=李^雷"), False, True)
    # the GB18030 bytes without their (0008,0005) element, the data set's first
    assert raw[:6] == b"\x08\x00\x05\x00CS"
    raw = raw[8 + int.from_bytes(raw[6:8], "little") :]
    assert mwl.text(mwl.answer_values(raw, False, "GB18030"), "PatientName") == "Li^Lei=李^雷"
    assert mwl.text(mwl.answer_values(raw, False, "GB18030"), "SpecificCharacterSet") == "GB18030"


def test_truncated_answer_is_refused() -> None:
    raw = _encode(_answer("ISO_IR 192", Order("A", "P", "N", "1.2", "20261205").patient_name), False, False)
    with pytest.raises(raw_answers.MalformedAnswer):
        raw_answers.parse(raw[:-5], False, frozenset())
