"""Modality Worklist C-FIND SCU (PS3.4 K.6, IHE RAD-5 "Query Modality Worklist") through pynetdicom:
the query identifier with its matching and return keys, and the answers as plain values. Blocking;
callers run it on a thread."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from pydicom.charset import convert_encodings, decode_element
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.uid import UID
from pydicom.valuerep import PersonName
from pynetdicom import _config, build_context
from pynetdicom.association import Association
from pynetdicom.dimse_primitives import C_FIND
from pynetdicom.dsutils import decode
from pynetdicom.sop_class import ModalityWorklistInformationFind  # type: ignore[attr-defined]

from dros.dicomnet import raw_answers, scu
from dros.dicomnet.log import DcmtkLog

# pynetdicom would format every answer's identifier for its log: the bulk of a 500-entry query's time
_config.LOG_RESPONSE_IDENTIFIERS = False
# …and would log a line per answer at INFO (500 log records a query wherever INFO is on); DcmtkLog
# keeps the association's own account
logging.getLogger("pynetdicom.association").setLevel(logging.WARNING)

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


Values = dict[str, Any]


@dataclass
class FindResult:
    outcome: scu.Outcome
    entries: list[Values] = field(default_factory=list)
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


def identifier_of(q: Query) -> Dataset:
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
    """One association, one C-FIND; every pending answer is an entry (its attributes of interest as
    plain values, see `values`). A failure status or a broken association is a failed outcome with
    the reason in plain words (no partial lists). An answer without Specific Character Set (many
    providers leave it out unless configured to keep it) is read in `fallback_charset`."""
    log = DcmtkLog()
    assoc, outcome = scu.associate(peer, [build_context(ModalityWorklistInformationFind)], log, timeout)
    if assoc is None:
        return FindResult(outcome, output=log.text())
    result = FindResult(scu.Outcome(True))
    try:
        log.info("Sending Find Request (MsgID 1, Modality Worklist)")
        implicit = UID(assoc.accepted_contexts[0].transfer_syntax[0]).is_implicit_VR
        final: int | None = None
        for code, identifier in _responses(assoc, identifier_of(q)):
            if code in _PENDING and identifier is not None:
                if len(result.entries) >= _MAX_ENTRIES:
                    result.truncated = True
                    continue
                result.entries.append(answer_values(identifier, implicit, fallback_charset))
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
    except raw_answers.MalformedAnswer as exc:
        assoc.abort()
        result.outcome = scu.Outcome(False, scu.Failure.FAILED, f"the worklist provider sent a malformed answer: {exc}")
    finally:
        if assoc.is_established:
            assoc.release()
    if not result.outcome.ok:
        result.entries = []
    result.output = log.text()
    return result


def _responses(assoc: Association, ident: Dataset) -> Iterator[tuple[int, bytes | None]]:
    """(status, encoded identifier of a pending answer) of each C-FIND response. pynetdicom's own
    iterator decodes every identifier into a pydicom Dataset first (most of the time of a
    500-answer query); this loop is that iterator's, keeping the bytes: `send_c_find` has sent the
    request and paused the association's reactor, which is resumed when the answers end."""
    assoc.send_c_find(ident, ModalityWorklistInformationFind, msg_id=1)  # its iterator is not used
    try:
        while True:
            _, rsp = assoc.dimse.get_msg(block=True)
            if rsp is None:  # DIMSE timeout
                assoc.abort()
                return
            if not isinstance(rsp, C_FIND) or not rsp.is_valid_response or rsp.Status is None:
                assoc.abort()
                return
            code = int(rsp.Status)
            if code in _PENDING:
                buf = rsp.Identifier
                yield code, buf.getvalue() if isinstance(buf, BytesIO) else None
                continue
            yield code, None
            return
    finally:
        assoc._reactor_checkpoint.set()


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


_SEQUENCE_TAGS = frozenset(
    int(tag_for_keyword(kw) or 0)
    for kw in (
        "RequestedProcedureCodeSequence", "ReferencedStudySequence", "ScheduledProcedureStepSequence",
        "ScheduledProtocolCodeSequence", "ReferencedPatientSequence", "ProcedureCodeSequence",
    )
)  # fmt: skip
_CHARSET_TAG = 0x00080005


def answer_values(raw: bytes, implicit: bool, fallback_charset: str) -> Values:
    """An encoded answer's attributes of interest by keyword, sequences as lists of the same. Text in
    one of the single character sets of `_CODECS` is decoded here; an answer in ISO 2022 code
    extensions goes through pydicom. Without Specific Character Set the answer is read in
    `fallback_charset` (which it then reports as its character set)."""
    items = raw_answers.parse(raw, implicit, _SEQUENCE_TAGS)
    charset_raw = items.get(_CHARSET_TAG)
    if charset_raw is None:
        charset = fallback_charset
    else:
        charset = bytes(charset_raw).decode("ascii", "replace").strip(" \x00")
    codec = _CODECS.get(charset, "") if charset else "latin-1"
    if not codec or "\\" in charset:
        ds = decode(BytesIO(raw), implicit, True, False)
        if charset_raw is None and fallback_charset:
            redecode(ds, fallback_charset)
            ds.SpecificCharacterSet = fallback_charset
        return values(ds)
    out = _raw_values(items, codec)
    if charset_raw is None and fallback_charset:
        out["SpecificCharacterSet"] = fallback_charset
    return out


def _raw_values(items: raw_answers.RawItems, codec: str) -> Values:
    out: Values = {}
    for tag, value in items.items():
        kw = _BY_TAG.get(tag)
        if kw is None:
            continue
        if isinstance(value, list):
            out[kw] = [_raw_values(item, codec) for item in value]
        else:
            out[kw] = value.decode(codec, "replace").strip(" \x00")
    return out


def values(ds: Dataset | None, inherited: str | None = None) -> Values:
    """The attributes of interest of a pydicom data set (the ISO 2022 answers), sequences as lists of
    the same, in one pass (keyword look-ups through pydicom cost more than the whole C-FIND). A
    sequence item is in its data set's character set (`inherited`)."""
    out: Values = {}
    if ds is None:
        return out
    codec = _codec(ds) if inherited is None else inherited
    for elem in ds.elements():
        tag = int(elem.tag)
        kw = _BY_TAG.get(tag)
        if kw is None:
            continue
        if isinstance(elem, RawDataElement):
            raw = elem.value
            if codec and tag in _TEXT_TAGS and (raw is None or isinstance(raw, bytes)):
                out[kw] = raw.decode(codec, "replace").strip(" \x00") if raw else ""
                continue
            value = ds[elem.tag].value
        else:
            value = elem.value
        out[kw] = [values(item, codec) for item in value] if isinstance(value, Sequence) else value
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
    return [
        {
            "code_value": text(item, "CodeValue"),
            "coding_scheme": text(item, "CodingSchemeDesignator"),
            "code_meaning": text(item, "CodeMeaning"),
        }
        for item in v.get(keyword) or []
    ]


def first_step(v: Values) -> Values:
    seq = v.get("ScheduledProcedureStepSequence")
    return dict(seq[0]) if seq else {}
