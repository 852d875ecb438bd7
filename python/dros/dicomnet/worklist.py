"""Modality Worklist C-FIND SCU (PS3.4 K.6, IHE RAD-5 "Query Modality Worklist") through pynetdicom:
the query identifier with its matching and return keys, and the answers as plain values. Blocking;
callers run it on a thread."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydicom.charset import convert_encodings, decode_element
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.valuerep import PersonName
from pynetdicom import _config, build_context
from pynetdicom.sop_class import ModalityWorklistInformationFind  # type: ignore[attr-defined]

from dros.dicomnet import scu
from dros.dicomnet.log import DcmtkLog

# pynetdicom would format every answer's identifier for its log: the bulk of a 500-entry query's time
_config.LOG_RESPONSE_IDENTIFIERS = False

# C-FIND statuses (PS3.4 C.4.1.1.4): pending with or without optional keys, success, cancel
_PENDING = (0xFF00, 0xFF01)
_MAX_ENTRIES = 10000  # a runaway RIS answer stops here (the rest is cancelled)


@dataclass(frozen=True)
class Query:
    date: str  # YYYYMMDD or a DICOM date range (YYYYMMDD-YYYYMMDD)
    station_aet: str  # "" = any station
    modality: str = "DX"
    patient_name: str = ""  # DICOM wildcard matching (* and ?)
    patient_id: str = ""
    accession_number: str = ""


@dataclass
class FindResult:
    outcome: scu.Outcome
    entries: list[Dataset] = field(default_factory=list)
    output: str = ""
    truncated: bool = False


_TEXT_VRS = ("PN", "LO", "SH", "LT", "ST", "UT", "UC")


def redecode(ds: Dataset, charset: str) -> None:
    """Text of an answer without Specific Character Set was read as ISO 8859-1 (the default), which
    maps every byte to one character: back to the bytes and decoded in `charset`."""
    encodings = convert_encodings(charset)
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value:
                redecode(item, charset)
            continue
        if elem.VR not in _TEXT_VRS or not elem.value:
            continue
        value: Any = elem.value
        if isinstance(value, PersonName):
            raw = value.original_string
        elif isinstance(value, str):
            raw = value.encode("latin-1")
        elif isinstance(value, MultiValue):
            raw = b"\\".join(
                v.original_string if isinstance(v, PersonName) else str(v).encode("latin-1") for v in value
            )
        else:
            continue
        if raw.isascii():
            continue
        elem.value = raw
        decode_element(elem, encodings)


def _needs_utf8(*values: str) -> bool:
    return any(not v.isascii() for v in values)


def identifier(q: Query) -> Dataset:
    """Matching keys carry values; return keys are present and empty (PS3.4 K.6.1.2.2): patient,
    visit, imaging service request, requested procedure and scheduled procedure step attributes."""
    ds = Dataset()
    if _needs_utf8(q.patient_name, q.patient_id, q.accession_number):
        ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = q.patient_name
    ds.PatientID = q.patient_id
    ds.IssuerOfPatientID = ""
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.PatientAge = ""
    ds.PatientWeight = None
    ds.PatientSize = None
    ds.OtherPatientIDs = ""
    ds.PregnancyStatus = None
    ds.AdmissionID = ""
    ds.AccessionNumber = q.accession_number
    ds.ReferringPhysicianName = ""
    ds.StudyInstanceUID = ""
    ds.RequestedProcedureID = ""
    ds.RequestedProcedureDescription = ""
    ds.RequestedProcedureCodeSequence = Sequence()
    ds.RequestedProcedurePriority = ""
    ds.ReferencedStudySequence = Sequence()
    sps = Dataset()
    sps.ScheduledStationAETitle = q.station_aet
    sps.ScheduledProcedureStepStartDate = q.date
    sps.ScheduledProcedureStepStartTime = ""
    sps.Modality = q.modality
    sps.ScheduledPerformingPhysicianName = ""
    sps.ScheduledProcedureStepDescription = ""
    sps.ScheduledStationName = ""
    sps.ScheduledProcedureStepLocation = ""
    sps.ScheduledProtocolCodeSequence = Sequence()
    sps.ScheduledProcedureStepID = ""
    ds.ScheduledProcedureStepSequence = Sequence([sps])
    return ds


def find(peer: scu.Peer, q: Query, timeout: float, fallback_charset: str = "ISO_IR 192") -> FindResult:
    """One association, one C-FIND; every pending answer is an entry. A failure status or a broken
    association is a failed outcome with the reason in plain words (no partial lists). An answer
    without Specific Character Set (many providers leave it out unless configured to keep it) is read
    in `fallback_charset`."""
    log = DcmtkLog()
    assoc, outcome = scu.associate(peer, [build_context(ModalityWorklistInformationFind)], log, timeout)
    if assoc is None:
        return FindResult(outcome, output=log.text())
    result = FindResult(scu.Outcome(True))
    try:
        log.info("Sending Find Request (MsgID 1, Modality Worklist)")
        final: int | None = None
        for status, ds in assoc.send_c_find(identifier(q), ModalityWorklistInformationFind, msg_id=1):
            if "Status" not in status:
                break
            code = int(status.Status)
            if code in _PENDING and ds is not None:
                if len(result.entries) >= _MAX_ENTRIES:
                    result.truncated = True
                    continue
                if "SpecificCharacterSet" not in ds and fallback_charset:
                    redecode(ds, fallback_charset)
                    ds.SpecificCharacterSet = fallback_charset
                result.entries.append(ds)
                continue
            final = code
        if assoc.is_aborted:
            result.outcome = scu.Outcome(False, scu.Failure.ABORTED, "the worklist provider aborted the association")
        elif final is None:
            result.outcome = scu.Outcome(False, scu.Failure.TIMEOUT, f"no C-FIND response within {timeout:g} s")
        elif final not in (0x0000, 0xFE00):
            result.outcome = scu.Outcome(
                False, scu.Failure.FAILED, f"the worklist provider answered the query with status 0x{final:04X}"
            )
        log.info(f"Received Final Find Response ({len(result.entries)} entries)")
    finally:
        if assoc.is_established:
            assoc.release()
    if not result.outcome.ok:
        result.entries = []
    result.output = log.text()
    return result


# -- answers as plain values -------------------------------------------------------------------------
_KEYWORDS = (
    "SpecificCharacterSet", "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "PatientAge",
    "AccessionNumber", "ReferringPhysicianName", "StudyInstanceUID", "RequestedProcedureID",
    "RequestedProcedureDescription", "RequestedProcedureCodeSequence", "RequestedProcedurePriority", "AdmissionID",
    "ScheduledProcedureStepSequence", "ScheduledProcedureStepID", "ScheduledProcedureStepDescription",
    "ScheduledProcedureStepStartDate", "ScheduledProcedureStepStartTime", "Modality", "ScheduledStationAETitle",
    "ScheduledStationName", "ScheduledProcedureStepLocation", "ScheduledPerformingPhysicianName",
    "ScheduledProtocolCodeSequence", "CodeValue", "CodingSchemeDesignator", "CodeMeaning",
)  # fmt: skip
_BY_TAG = {int(tag_for_keyword(kw) or 0): kw for kw in _KEYWORDS}
_TEXT_TAGS = {
    tag for tag, kw in _BY_TAG.items() if dictionary_VR(tag) in ("PN", "LO", "SH", "CS", "UI", "DA", "TM", "AE", "AS")
}
_CODECS = {"ISO_IR 192": "utf-8", "GB18030": "gb18030", "ISO_IR 100": "latin-1", "ISO_IR 6": "latin-1", "GBK": "gbk"}

Values = dict[str, Any]


def values(ds: Dataset | None) -> Values:
    """The answer's attributes of interest by keyword, in one pass (keyword look-ups through pydicom
    cost more than the whole C-FIND for 500 entries)."""
    out: Values = {}
    if ds is None:
        return out
    codec = _codec(ds)
    for elem in ds.elements():
        tag = int(elem.tag)
        kw = _BY_TAG.get(tag)
        if kw is None:
            continue
        if isinstance(elem, RawDataElement):
            raw = elem.value
            if codec and tag in _TEXT_TAGS and (raw is None or isinstance(raw, bytes)):
                # text of a single-byte or UTF-8/GB18030 character set: decoded here, without pydicom's
                # per-element conversion (most of the time of a 500-entry answer)
                out[kw] = raw.decode(codec, "replace").strip(" \x00") if raw else ""
                continue
            out[kw] = ds[elem.tag].value
        else:
            out[kw] = elem.value
    return out


def _codec(ds: Dataset) -> str:
    """Python codec of the dataset's one character set ("" = let pydicom decode: ISO 2022 extensions)."""
    value: Any = ds.get("SpecificCharacterSet")
    cs = "" if value is None else value
    if isinstance(cs, MultiValue | list):
        return "" if len(cs) > 1 else (_CODECS.get(str(cs[0]), "") if cs else "latin-1")
    return _CODECS.get(str(cs), "") if cs else "latin-1"


def text(v: Values, keyword: str) -> str:
    """The attribute's value as text ("" when absent or empty); person names keep all component groups."""
    value: Any = v.get(keyword)
    if value is None:
        return ""
    if isinstance(value, list | tuple | MultiValue):  # multi-valued
        return "\\".join(str(x) for x in value)
    return str(value).strip()


def codes(v: Values, keyword: str) -> list[dict[str, str]]:
    """A code sequence as [{code_value, coding_scheme, code_meaning}]."""
    out = []
    for item in v.get(keyword) or []:
        iv = values(item)
        out.append(
            {
                "code_value": text(iv, "CodeValue"),
                "coding_scheme": text(iv, "CodingSchemeDesignator"),
                "code_meaning": text(iv, "CodeMeaning"),
            }
        )
    return out


def first_step(v: Values) -> Values:
    seq = v.get("ScheduledProcedureStepSequence")
    return values(seq[0]) if seq else {}
