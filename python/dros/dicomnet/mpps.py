"""Modality Performed Procedure Step SCU (PS3.4 F.7, IHE RAD-6/RAD-7): the N-CREATE and N-SET data
sets built from what DROS knows of a study, and sending one of them. Blocking; callers run it on a
thread."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pynetdicom import build_context
from pynetdicom.sop_class import ModalityPerformedProcedureStep  # type: ignore[attr-defined]

from dros.dicomnet import scu
from dros.dicomnet.log import DcmtkLog

IN_PROGRESS, COMPLETED, DISCONTINUED = "IN PROGRESS", "COMPLETED", "DISCONTINUED"
DX_FOR_PRESENTATION = "1.2.840.10008.5.1.4.1.1.1.1"

# CID 9300 "Procedure Discontinuation Reasons" (DCM), keyed by the reason a client gives
DISCONTINUATION_CODES = {
    "patient_refused": ("110505", "Patient refused to continue procedure"),
    "patient_condition": ("110515", "Patient condition prevented continuing"),
    "equipment_failure": ("110501", "Equipment failure"),
    "incorrect_procedure": ("110502", "Incorrect procedure ordered"),
    "incorrect_worklist_entry": ("110514", "Incorrect worklist entry selected"),
    "other": ("110513", "Discontinued for unspecified reason"),
}


@dataclass(frozen=True)
class Station:
    ae_title: str
    station_name: str
    institution_name: str


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def _codes(items: list[dict[str, str]]) -> Sequence:
    return Sequence([_code(c["code_value"], c.get("coding_scheme", ""), c.get("code_meaning", "")) for c in items])


def _da_tm(dt: str) -> tuple[str, str]:
    """'YYYY-MM-DD HH:MM:SS…' (as DuckDB formats) → DICOM DA, TM."""
    return dt[:10].replace("-", ""), dt[11:19].replace(":", "")


def scheduled_step_item(study: dict[str, Any], order: dict[str, Any] | None) -> Dataset:
    """Scheduled Step Attributes Sequence item: the worklist order (or, for an unscheduled study, the
    study's own UID and accession with the scheduled keys empty, IHE RAD TF-2 4.6.4.1.2.4)."""
    item = Dataset()
    item.StudyInstanceUID = study["study_instance_uid"]
    item.ReferencedStudySequence = Sequence()
    item.AccessionNumber = study["accession_number"]
    step = (order or {}).get("scheduled_step") or {}
    item.RequestedProcedureID = (order or {}).get("requested_procedure_id", "")
    item.RequestedProcedureDescription = (order or {}).get("requested_procedure_description", "")
    item.ScheduledProcedureStepID = step.get("step_id", "")
    item.ScheduledProcedureStepDescription = step.get("description", "")
    item.ScheduledProtocolCodeSequence = _codes(step.get("protocol_codes", []))
    return item


def n_create(study: dict[str, Any], order: dict[str, Any] | None, station: Station, pps_id: str, start: str) -> Dataset:
    """The N-CREATE attributes (PS3.4 Table F.7.2-1, required ones and IHE's R+): status IN PROGRESS,
    the performed series still empty."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.ScheduledStepAttributesSequence = Sequence([scheduled_step_item(study, order)])
    ds.PatientName = study["patient_name"]
    ds.PatientID = study["patient_id"]
    ds.IssuerOfPatientID = ""
    ds.PatientBirthDate = study["patient_dob"] or ""
    ds.PatientSex = study["patient_sex"]
    ds.ReferencedPatientSequence = Sequence()
    ds.PerformedProcedureStepID = pps_id
    ds.PerformedStationAETitle = station.ae_title
    ds.PerformedStationName = station.station_name
    ds.PerformedLocation = station.institution_name
    ds.PerformedProcedureStepStartDate, ds.PerformedProcedureStepStartTime = _da_tm(start)
    ds.PerformedProcedureStepStatus = IN_PROGRESS
    ds.PerformedProcedureStepDescription = (order or {}).get("requested_procedure_description", "") or study.get(
        "study_description", ""
    )
    ds.PerformedProcedureTypeDescription = ""
    ds.ProcedureCodeSequence = _codes((order or {}).get("requested_procedure_codes", []))
    ds.PerformedProcedureStepEndDate = ""
    ds.PerformedProcedureStepEndTime = ""
    ds.Modality = "DX"
    ds.StudyID = study["study_id"][-16:]
    ds.PerformedProtocolCodeSequence = Sequence()
    ds.PerformedSeriesSequence = Sequence()
    return ds


def n_set(
    status: str,
    end: str,
    series: list[dict[str, Any]],
    station: Station,
    operator: str,
    reason: str = "",
) -> Dataset:
    """The N-SET that ends the step (PS3.4 Table F.7.2-1 "Final State" requirements): status, end,
    the performed series with their images, and the dose of every exposure (Exposure Dose Sequence:
    kV, µA, ms per image; mAs and EI — which the sequence has no attributes for — in Comments on
    Radiation Dose, one line per image)."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PerformedProcedureStepStatus = status
    ds.PerformedProcedureStepEndDate, ds.PerformedProcedureStepEndTime = _da_tm(end)
    ds.PerformedProtocolCodeSequence = Sequence(
        [
            _code(s["procedure_id"], "99DROS", s["protocol_name"] or s["procedure_id"])
            for s in series
            if s["procedure_id"]
        ]
    )
    performed: list[Dataset] = []
    doses: list[Dataset] = []
    comments: list[str] = []
    for s in series:
        item = Dataset()
        item.PerformingPhysicianName = ""
        item.OperatorsName = operator
        item.ProtocolName = s["protocol_name"] or s["body_part"]
        item.SeriesInstanceUID = s["series_instance_uid"]
        item.SeriesDescription = s["protocol_name"] or s["body_part"]
        item.RetrieveAETitle = ""
        refs = []
        for img in s["images"]:
            ref = Dataset()
            ref.ReferencedSOPClassUID = DX_FOR_PRESENTATION
            ref.ReferencedSOPInstanceUID = img["sop_instance_uid"]
            refs.append(ref)
            dose = Dataset()
            dose.RadiationMode = "CONTINUOUS"
            if img["kv"] is not None:
                dose.KVP = _ds(img["kv"])
            if img["ma"] is not None:
                dose.XRayTubeCurrentInuA = _ds(img["ma"] * 1000.0)
            if img["ms"] is not None:  # IS: whole ms (the exact value is in the comments line)
                dose.ExposureTime = str(round(img["ms"]))
            dose.FilterType = ""
            dose.FilterMaterial = ""
            doses.append(dose)
            comments.append(
                f"{img['sop_instance_uid']}: kVp {_num(img['kv'])}, mAs {_num(img['mas'])}, "
                f"ms {_num(img['ms'])}, EI {_num(img['ei'])}, DI {_num(img['di'])}"
            )
        item.ReferencedImageSequence = Sequence(refs)
        item.ReferencedNonImageCompositeSOPInstanceSequence = Sequence()
        performed.append(item)
    ds.PerformedSeriesSequence = Sequence(performed)
    ds.ExposureDoseSequence = Sequence(doses)
    ds.TotalNumberOfExposures = len(doses)
    ds.CommentsOnRadiationDose = "\n".join(comments)[:10240]
    if status == DISCONTINUED:
        value, meaning = DISCONTINUATION_CODES.get(reason, DISCONTINUATION_CODES["other"])
        ds.PerformedProcedureStepDiscontinuationReasonCodeSequence = Sequence([_code(value, "DCM", meaning)])
    return ds


def _ds(value: float) -> str:
    """A DS value (≤ 16 characters)."""
    return f"{value:.6g}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


# -- sending ---------------------------------------------------------------------------------------
# N-CREATE/N-SET statuses a resend cannot fix (PS3.4 F.7.2.1.2 / F.7.2.2.2, PS3.7 C): the peer
# refused the content; 0x0111 (duplicate instance) on N-CREATE means it has the step already.
_DUPLICATE = 0x0111
_PERMANENT = (0x0105, 0x0106, 0x0110, 0x0112, 0x0116, 0x0117, 0x0118, 0x0120, 0x0121, 0x0122, 0x0124)


@dataclass
class Delivery:
    ok: bool
    permanent: bool = False
    reason: str = ""


def send(peer: scu.Peer, kind: str, mpps_uid: str, ds: Dataset, timeout: float) -> Delivery:
    log = DcmtkLog()
    assoc, outcome = scu.associate(peer, [build_context(ModalityPerformedProcedureStep)], log, timeout)
    if assoc is None:
        return Delivery(False, reason=outcome.reason)
    try:
        if kind == "N-CREATE":
            status, _ = assoc.send_n_create(ds, ModalityPerformedProcedureStep, mpps_uid, msg_id=1)
        else:
            status, _ = assoc.send_n_set(ds, ModalityPerformedProcedureStep, mpps_uid, msg_id=1)
        if "Status" not in status:
            return Delivery(False, reason=f"no {kind} response within {timeout:g} s (or the peer aborted)")
        code = int(status.Status)
        if code == 0x0000 or 0xB000 <= code <= 0xBFFF or (kind == "N-CREATE" and code == _DUPLICATE):
            return Delivery(True)
        comment = f" ({status.ErrorComment})" if "ErrorComment" in status else ""
        return Delivery(
            False, permanent=code in _PERMANENT, reason=f"the peer answered {kind} with status 0x{code:04X}{comment}"
        )
    finally:
        if assoc.is_established:
            assoc.release()
