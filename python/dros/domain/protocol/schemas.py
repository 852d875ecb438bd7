"""Wire shapes of the protocol catalog (API reference §8), field names exactly as the reference spells them."""

from __future__ import annotations

import enum

import msgspec

TYPE_PREFIX = "type.googleapis.com/dr.protocol."
Number = int | float


class ProcedureType(enum.StrEnum):
    NORMAL = "NORMAL"
    EMERGENCY = "EMERGENCY"


class PatientSize(enum.StrEnum):
    Large = "Large"
    Medium = "Medium"
    Paediatric = "Paediatric"
    Small = "Small"


# ---- patient type / body part: plain objects (no @type) ----
class PatientType(msgspec.Struct):
    id: str
    patient_type_id: str
    patient_type_name: str
    patient_type_local: str
    patient_type_description: str
    sort: int
    is_enabled: bool
    product: str
    is_pre_install: bool


class PatientTypeList(msgspec.Struct):
    patient_type_list: list[PatientType]


class BodyPart(msgspec.Struct):
    id: str
    body_part_id: str
    body_part_name: str
    body_part_local: str
    body_part_description: str
    patient_type: str
    category: str
    sort: int
    is_enabled: bool
    product: str
    is_pre_install: bool


class BodyPartList(msgspec.Struct):
    body_part_list: list[BodyPart]


# ---- procedures ----
class Procedure(msgspec.Struct):
    id: str
    procedure_id: str
    procedure_code: str
    procedure_name: str
    procedure_name_local: str
    procedure_other_name: str
    procedure_description: str
    procedure_description_local: str
    patient_type: str
    body_part_id: str
    procedure_type: str
    fast_search: bool
    protocol_laterality: str
    procedure_category: str
    modality: str
    sort: int
    is_enabled: bool
    product: str
    is_pre_install: bool


class ProcedureList(msgspec.Struct):
    type_: str = msgspec.field(default=TYPE_PREFIX + "ProcedureList", name="@type")
    count: int = 0
    procedures: list[Procedure] = msgspec.field(default_factory=list)


# ---- views ----
class ViewConfigDX(msgspec.Struct):
    CollimatorCenter: str
    CollimatorFilter: str
    CollimatorNoChange: bool
    CollimatorSize: str
    CollimatorSizeLength: str
    CollimatorSizeWidth: str
    ImageHorizontalFlip: str
    ImageLaterality: str
    ImageRotate: str
    LabelPosition: str
    LabelStyle: str
    PatientOrientationColumn: str
    PatientOrientationRow: str
    RatioFactorLength: int
    RatioFactorSize: int
    RatioFactorThickness: int
    RatioFactorWeight: int
    StandPos: str
    TargetEXI: int
    ViewID: str


class ViewConfig(msgspec.Struct):
    DX: ViewConfigDX


class View(msgspec.Struct, omit_defaults=True, kw_only=True):
    """A view; as a list item it has no @type, as the `view/{id}` reply it carries dr.protocol.View."""

    type_: str | msgspec.UnsetType = msgspec.field(default=msgspec.UNSET, name="@type")
    internal_id: str
    view_id: str
    view_name: str
    view_name_local: str
    view_other_name: str
    view_description: str
    view_position: str
    application: str
    anatomic_region: str
    patient_type: str
    body_part_id: str
    view_icon_name: str
    view_big_icon_name: str
    view_coach_name: str
    modality: str
    work_station_id: int
    apr_id: str
    img_proc_id: str
    config_object: ViewConfig
    sort: int
    is_enabled: bool
    product: str
    is_pre_install: bool


class ViewList(msgspec.Struct):
    type_: str = msgspec.field(default=TYPE_PREFIX + "ViewList", name="@type")
    count: int = 0
    views: list[View] = msgspec.field(default_factory=list)


# ---- APR ----
class ExposureCommon(msgspec.Struct):
    AECDensity: int
    AECField: str
    AECFilm: int
    Dose: int
    ExposureMode: int
    Focus: int
    TOD: int
    TubeLoad: int
    kV: Number
    mA: Number
    mAs: Number
    ms: Number


class ExposureConfig(msgspec.Struct):
    Common: ExposureCommon


class AprExposure(msgspec.Struct):
    work_station_id: int
    patient_size: str
    config_object: ExposureConfig


class AprReply(msgspec.Struct, kw_only=True):
    type_: str = msgspec.field(default=TYPE_PREFIX + "AprReply", name="@type")
    apr_id: str
    apr_name: str
    apr_description: str
    patient_type: str
    body_part_id: str
    view_position: str
    category: str
    modality: str
    exposures: list[AprExposure]
    sort: int
    is_enabled: bool
    product: str
    is_pre_install: bool


class DeviceCommon(msgspec.Struct):
    APRNumber: str
    DetectorAngle: Number
    FpdAcquisitionMode: str
    FrameRate: Number
    GridSpeed: Number
    GridType: int
    PositionNumber: str
    SID: Number
    Thickness: Number
    TubeAngle: Number


class DeviceConfig(msgspec.Struct):
    Common: DeviceCommon


class AprDevice(msgspec.Struct, kw_only=True):
    type_: str = msgspec.field(default=TYPE_PREFIX + "AprDevice", name="@type")
    work_station_id: int
    config_object: DeviceConfig


class DeviceParams(msgspec.Struct):
    SID: Number
    GridType: int
    GridSpeed: Number
    DetectorAngle: Number
    TubeAngle: Number
    TubeHeight: Number
    APRNumber: str
    PositionNumber: str
    Thickness: Number
    FrameRate: Number
    LongTimeExp: int


class ExposureParams(msgspec.Struct):
    kV: Number
    mA: Number
    ms: Number
    mAs: Number
    ExposureMode: int
    Focus: int
    AECFilm: int
    AECField: str
    AECDensity: int
    Dose: int
    TubeLoad: int
    TOD: int
    CompressionThickness: Number


class TechParam(msgspec.Struct, kw_only=True):
    type_: str = msgspec.field(default=TYPE_PREFIX + "TechParam", name="@type")
    dp: DeviceParams
    ep: ExposureParams


class ThicknessApr(msgspec.Struct, kw_only=True):
    type_: str = msgspec.field(default=TYPE_PREFIX + "ThicknessApr", name="@type")
    thickness: int
    kV: Number
    mA: Number
    ms: Number
    mAs: Number


class AprUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Body of POST protocol/apr/{id}. The reference's fields, plus `reset` (this implementation's addition):
    `"reset": true` drops the user's edit and restores the factory values — of one entry when
    work_station_id and patient_size are given, of every entry of the APR when both are omitted."""

    work_station_id: int | None = None
    patient_size: str | None = None
    kV: float | None = None
    mA: float | None = None
    ms: float | None = None
    mAs: float | None = None
    reset: bool = False
