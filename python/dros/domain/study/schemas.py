"""Study, Series and Image as the reference shows them (§11.0), and the request bodies."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

# Lengths per DICOM VR (PS3.5 §6.2): the values end up in DICOM attributes of these VRs.
SH = Annotated[str, msgspec.Meta(max_length=16)]
LO = Annotated[str, msgspec.Meta(max_length=64)]
PN = Annotated[str, msgspec.Meta(max_length=64 * 3 + 2)]  # three component groups; each ≤ 64, checked in service
LT = Annotated[str, msgspec.Meta(max_length=10240)]
CS = Annotated[str, msgspec.Meta(max_length=16)]
UI = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Int32 = Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]
# The seed declares the two flags as strings described as "bool" and answers with JSON booleans.
Flag = bool | Literal["true", "false", "True", "False", "1", "0", ""]

PatientSize = Literal["Small", "Medium", "Large", "Paediatric"]
Sex = Literal["M", "F", "O", "U", ""]
SexNeutered = Literal["ALTERED", "UNALTERED", ""]
PregnancyStatus = Literal["0001", "0002", "0003", "0004", ""]
StudyType = Literal["Normal", "Emergency"]
StudyStatus = Literal["Arrived", "InProgress", "Completed"]
LockValue = Literal["Locked", "Unlocked"]
STUDY_STATUSES: tuple[str, ...] = ("Arrived", "InProgress", "Completed")


class ViewRef(msgspec.Struct, forbid_unknown_fields=False):
    view_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    procedure_id: Annotated[str, msgspec.Meta(max_length=64)] = ""


Views = Annotated[list[ViewRef], msgspec.Meta(min_length=1, max_length=100)]


class PatientFields(msgspec.Struct, kw_only=True):
    """What registration and edit share (the reference's PUT body minus `patient_sex`)."""

    accession_number: SH
    patient_id: LO
    patient_name: PN
    patient_size: PatientSize
    patient_age: Annotated[str, msgspec.Meta(max_length=4)] = ""
    patient_dob: str | None = None
    patient_english_name: PN = ""
    patient_former_name: PN = ""
    owner_name: PN = ""
    chip_number: LO = ""
    variety: LO = ""
    is_anaesthesia: Flag = False
    is_sedation: Flag = False
    ref_physician: PN = ""
    operator_id: PN = ""
    weight: Int32 = 0
    thickness: Int32 = 0
    length: Int32 = 0
    comment: LT = ""


class StudyCreate(PatientFields, kw_only=True):
    patient_type: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    study_type: StudyType
    views: Views
    modality: Literal["DX"] = "DX"
    patient_sex: Sex = ""
    sex_neutered: SexNeutered = ""
    pregnancy_status: PregnancyStatus = ""


class StudyUpdate(PatientFields, kw_only=True):
    """PUT study/{id}: the reference's body; every field it lists is replaced (full update)."""

    patient_sex: Literal["M", "F", "O", "U"]


class LockChange(msgspec.Struct):
    lock: LockValue


class ImageAdd(msgspec.Struct):
    study_id: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    views: Views


class InstanceRef(msgspec.Struct):
    instance_uid: UI


class ImageSort(msgspec.Struct):
    study_id: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    sop_instance_uids: Annotated[list[UI], msgspec.Meta(min_length=1, max_length=1000)]


StudyIds = Annotated[
    list[Annotated[str, msgspec.Meta(min_length=1, max_length=32)]], msgspec.Meta(min_length=1, max_length=1000)
]


# ---- replies ------------------------------------------------------------------------------


class Image(msgspec.Struct):
    sop_instance_uid: str
    series_instance_uid: str
    study_instance_uid: str
    secondary_sop_uid: str
    study_id: str
    view_id: str
    view_description: str
    patient_type: str
    body_part_id: str
    anatomic_region: str
    image_type: str
    image_file_path: str
    image_file: str
    thumbnail_file: str
    acquisition_mode: str
    acquisition_context: dict[str, Any] | None
    img_proc_context: dict[str, Any] | None
    comment: str
    expose_status: str
    expose_time: str | None
    judged_status: str
    send_status: str
    export_status: str
    storage_status: str
    raw_exists: bool
    ticket: str
    sort: int
    product: str
    is_pre_install: bool
    create_time: str
    # only in create/copy replies, as the reference shows
    image_status: str | msgspec.UnsetType = msgspec.UNSET


class Series(msgspec.Struct):
    series_instance_uid: str
    study_instance_uid: str
    study_id: str
    procedure_id: str
    patient_type: str
    body_part: str
    performed_datetime: str | None
    performed_protocol_code_meaning: str
    performed_protocol_code_value: str
    sort: int
    product: str
    is_pre_install: bool
    create_time: str
    images: list[Image]


class Study(msgspec.Struct):
    type_: str = msgspec.field(default="type.googleapis.com/dr.study.Study", name="@type")
    study_instance_uid: str = ""
    study_id: str = ""
    public_study_id: str = ""
    specific_character_set: str = "ISO_IR 192"
    accession_number: str = ""
    ref_physician: str = ""
    patient_id: str = ""
    patient_name: str = ""
    patient_english_name: str = ""
    patient_former_name: str = ""
    patient_size: str = ""
    other_patient_ids: str = ""
    other_patient_names: str = ""
    patient_age: str = ""
    patient_dob: str | None = None
    patient_sex: str = ""
    sex_neutered: str = ""
    pregnancy_status: str = ""
    patient_state: str = ""
    admitting_time: str | None = None
    priority: str = ""
    reg_source: str = ""
    study_description: str = ""
    study_start_datetime: str = ""
    study_end_datetime: str | None = None
    scheduled_procedure_step_start_date: str | None = None
    performed_physician: str = ""
    study_lock: str = "Unlocked"
    folder_path: str = ""
    operator_name: str = ""
    modality: str = "DX"
    weight: int = 0
    thickness: int = 0
    length: int = 0
    patient_type: str = ""
    study_type: str = ""
    owner_name: str = ""
    chip_number: str = ""
    variety: str = ""
    is_anaesthesia: bool = False
    is_sedation: bool = False
    mwl: str = ""
    is_exported: bool = False
    is_edited: bool = False
    is_appended: bool = False
    department: str = ""
    mapped_status: bool = False
    qc_result: bool = False
    comment: str = ""
    study_status: str = "Arrived"
    portrait_status: str = ""
    portrait_file: str = ""
    sort: int = 0
    product: str = ""
    create_time: str = ""
    series: list[Series] = msgspec.field(default_factory=list)


class StudyList(msgspec.Struct):
    type_: str = msgspec.field(default="type.googleapis.com/dr.study.StudyList", name="@type")
    count: int = 0
    studies: list[Study] = msgspec.field(default_factory=list)


class Stat(msgspec.Struct):
    type_: str = msgspec.field(default="type.googleapis.com/dr.study.Stat", name="@type")
    total: int = 0
    exposed: int = 0


class CreateImageReply(msgspec.Struct):
    type_: str = msgspec.field(default="type.googleapis.com/dr.study.CreateImageReply", name="@type")
    series: list[Series] = msgspec.field(default_factory=list)


class DiskInfo(msgspec.Struct):
    total: int
    total_str: str
    free: int
    free_str: str
    recycle_bin: int
    recycle_bin_str: str


class QuarantineEntry(msgspec.Struct):
    """Files the start-up repair moved aside because no row refers to them (never deleted)."""

    quarantined_at: str
    original_path: str  # relative to the data directory
    quarantine_path: str  # relative to the data directory
    kind: str  # study_folder | image_file
    files: int
    bytes: int
    reason: str
