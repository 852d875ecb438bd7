"""Worklist entries (in the shape of the register-study request), the register body and the
procedure-code mapping."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from dros.domain.study.schemas import LO, PN, SH, UI, PatientSize, Sex, StudyType, ViewRef

CODE = Annotated[str, msgspec.Meta(max_length=64)]
WORKLIST_LIST = "type.googleapis.com/dr.worklist.WorklistList"


class Code(msgspec.Struct, kw_only=True):
    code_value: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    coding_scheme: Annotated[str, msgspec.Meta(max_length=64)] = ""
    code_meaning: Annotated[str, msgspec.Meta(max_length=64)] = ""


class ScheduledStep(msgspec.Struct, kw_only=True):
    step_id: SH = ""
    description: LO = ""
    start: Annotated[str, msgspec.Meta(max_length=32)] = ""  # ISO date-time of the step, local to the RIS
    modality: SH = "DX"
    station_aet: SH = ""
    station_name: SH = ""
    location: SH = ""
    performing_physician: PN = ""
    protocol_codes: Annotated[list[Code], msgspec.Meta(max_length=32)] = msgspec.field(default_factory=list)


class WorklistEntry(msgspec.Struct, kw_only=True):
    """One scheduled procedure step. Patient fields carry the register-study names."""

    patient_id: LO
    patient_name: PN
    patient_sex: Sex = ""
    patient_dob: str | None = None  # YYYY-MM-DD
    patient_age: Annotated[str, msgspec.Meta(max_length=4)] = ""
    accession_number: SH = ""
    ref_physician: PN = ""
    study_instance_uid: UI
    requested_procedure_id: SH = ""
    requested_procedure_description: LO = ""
    requested_procedure_codes: Annotated[list[Code], msgspec.Meta(max_length=32)] = msgspec.field(default_factory=list)
    priority: SH = ""
    admission_id: LO = ""
    specific_character_set: Annotated[str, msgspec.Meta(max_length=64)] = ""
    scheduled_step: ScheduledStep = msgspec.field(default_factory=ScheduledStep)
    # catalog procedures the mapping table gives for the requested procedure codes ([] = choose views by hand)
    procedure_ids: list[str] = msgspec.field(default_factory=list)


class WorklistList(msgspec.Struct, kw_only=True):
    type_: str = msgspec.field(default=WORKLIST_LIST, name="@type")
    total: int
    page: int
    page_size: int
    node: str
    entries: list[WorklistEntry]


class WorklistRegister(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`entry` as GET auth/worklist returned it; what the RIS does not know is added here."""

    entry: WorklistEntry
    patient_type: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "Human"
    study_type: StudyType = "Normal"
    patient_size: PatientSize = "Medium"
    # the views to acquire; absent = the views of the mapped procedures (required without a mapping)
    views: Annotated[list[ViewRef], msgspec.Meta(min_length=1, max_length=100)] | None = None


class Mapping(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    code_value: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    coding_scheme: CODE = ""
    code_meaning: CODE = ""
    # [] deletes the mapping
    procedure_ids: Annotated[
        list[Annotated[str, msgspec.Meta(min_length=1, max_length=64)]], msgspec.Meta(max_length=32)
    ]


class MappingList(msgspec.Struct, kw_only=True):
    mappings: list[Mapping]


LeaveReason = Literal[
    "patient_refused",  # codes of CID 9300: dros.dicomnet.mpps.DISCONTINUATION_CODES
    "patient_condition",
    "equipment_failure",
    "incorrect_procedure",
    "incorrect_worklist_entry",
    "other",
]


class Discontinue(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    study_id: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    reason: LeaveReason = "other"
