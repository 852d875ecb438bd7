"""Catalog rows → the reference's reply objects, localisation of the `*_local` names, APR edit rules."""

from __future__ import annotations

from typing import Any

import msgspec

from dros.catalog_data import KV_RANGE, MA_RANGE, MAS_RANGE, MS_RANGE, SIZES, WORK_STATIONS, mas_consistent
from dros.domain.protocol import schemas as s
from dros.errors import invalid_param
from dros.i18n import current_language
from dros.settings import Locale

# config_object values the catalog does not vary: the reference example's values
COLLIMATOR_CENTER, COLLIMATOR_FILTER, STAND_POS = "1", "0", "43"
FPD_ACQUISITION_MODE = "101"
AEC_FILM, AEC_DENSITY, EXPOSURE_MODE = 1, 0, 0  # manual mode: the APR's kV/mA/ms apply


def num(x: float) -> int | float:
    """55.0 → 55, as the reference writes whole numbers."""
    return int(x) if float(x).is_integer() else float(x)


def local(zh: str, en: str) -> str:
    return zh if current_language() == Locale.zh_CN else en


def patient_type(r: dict[str, Any]) -> s.PatientType:
    return s.PatientType(
        id=str(r["id"]),
        patient_type_id=r["patient_type_id"],
        patient_type_name=r["name_en"],
        patient_type_local=local(r["name_zh"], r["name_en"]),
        patient_type_description=local(r["description_zh"], r["description_en"]),
        sort=r["sort"],
        is_enabled=r["is_enabled"],
        product=r["product"],
        is_pre_install=r["is_pre_install"],
    )


def body_part(r: dict[str, Any]) -> s.BodyPart:
    return s.BodyPart(
        id=str(r["id"]),
        body_part_id=r["body_part_id"],
        body_part_name=r["name_zh"],
        body_part_local=local(r["name_zh"], r["name_en"]),
        body_part_description=r["name_en"],
        patient_type=r["patient_type"],
        category=r["category"],
        sort=r["sort"],
        is_enabled=r["is_enabled"],
        product=r["product"],
        is_pre_install=r["is_pre_install"],
    )


def procedure(r: dict[str, Any]) -> s.Procedure:
    name_local = local(r["name_zh"], r["name_en"])
    return s.Procedure(
        id=str(r["id"]),
        procedure_id=r["procedure_id"],
        procedure_code=r["procedure_id"],
        procedure_name=r["name_zh"],
        procedure_name_local=name_local,
        procedure_other_name=r["name_en"],
        procedure_description=r["name_zh"],
        procedure_description_local=name_local,
        patient_type=r["patient_type"],
        body_part_id=r["body_part_id"],
        procedure_type=r["procedure_type"],
        fast_search=r["fast_search"],
        protocol_laterality=r["protocol_laterality"],
        procedure_category=r["procedure_category"],
        modality=r["modality"],
        sort=r["sort"],
        is_enabled=r["is_enabled"],
        product=r["product"],
        is_pre_install=r["is_pre_install"],
    )


def view(r: dict[str, Any], typed: bool = False) -> s.View:
    dx = s.ViewConfigDX(
        CollimatorCenter=COLLIMATOR_CENTER,
        CollimatorFilter=COLLIMATOR_FILTER,
        CollimatorNoChange=False,
        CollimatorSize=r["collimator_size"],
        CollimatorSizeLength=r["collimator_length"],
        CollimatorSizeWidth=r["collimator_width"],
        ImageHorizontalFlip=r["image_horizontal_flip"],
        ImageLaterality=r["image_laterality"],
        ImageRotate=r["image_rotate"],
        LabelPosition=r["label_position"],
        LabelStyle="",
        PatientOrientationColumn=r["orientation_column"],
        PatientOrientationRow=r["orientation_row"],
        RatioFactorLength=0,
        RatioFactorSize=0,
        RatioFactorThickness=0,
        RatioFactorWeight=0,
        StandPos=STAND_POS,
        TargetEXI=r["target_exi"],
        ViewID=r["view_id"],
    )
    name_local = local(r["name_zh"], r["name_en"])
    return s.View(
        type_=s.TYPE_PREFIX + "View" if typed else msgspec.UNSET,
        internal_id=r["view_id"],
        view_id=r["view_id"],
        view_name=r["name_zh"],
        view_name_local=name_local,
        view_other_name=r["name_en"],
        view_description=name_local,
        view_position=r["view_position"],
        application=r["application"],
        anatomic_region=r["anatomic_region"],
        patient_type=r["patient_type"],
        body_part_id=r["body_part_id"],
        view_icon_name=r["view_icon_name"],
        view_big_icon_name=r["view_big_icon_name"],
        view_coach_name=r["view_coach_name"],
        modality=r["modality"],
        work_station_id=r["work_station_id"],
        apr_id=r["apr_id"],
        img_proc_id=r["img_proc_id"],
        config_object=s.ViewConfig(DX=dx),
        sort=r["sort"],
        is_enabled=r["is_enabled"],
        product=r["product"],
        is_pre_install=r["is_pre_install"],
    )


def exposure(e: dict[str, Any]) -> s.AprExposure:
    return s.AprExposure(
        work_station_id=e["work_station_id"],
        patient_size=e["patient_size"],
        config_object=s.ExposureConfig(
            Common=s.ExposureCommon(
                AECDensity=AEC_DENSITY,
                AECField=e["aec_field"],
                AECFilm=AEC_FILM,
                Dose=0,
                ExposureMode=EXPOSURE_MODE,
                Focus=e["focus"],
                TOD=0,
                TubeLoad=0,
                kV=num(e["kv"]),
                mA=num(e["ma"]),
                mAs=num(e["mas"]),
                ms=num(e["ms"]),
            )
        ),
    )


def apr(a: dict[str, Any], exposures: list[dict[str, Any]]) -> s.AprReply:
    return s.AprReply(
        apr_id=a["apr_id"],
        apr_name=a["apr_name"],
        apr_description=local(a["description_zh"], a["description_en"]),
        patient_type=a["patient_type"],
        body_part_id=a["body_part_id"],
        view_position=a["view_position"],
        category=a["category"],
        modality=a["modality"],
        exposures=[exposure(e) for e in exposures],
        sort=a["sort"],
        is_enabled=a["is_enabled"],
        product=a["product"],
        is_pre_install=a["is_pre_install"],
    )


def device(d: dict[str, Any]) -> s.AprDevice:
    return s.AprDevice(
        work_station_id=d["work_station_id"],
        config_object=s.DeviceConfig(
            Common=s.DeviceCommon(
                APRNumber=d["apr_number"],
                DetectorAngle=num(d["detector_angle"]),
                FpdAcquisitionMode=FPD_ACQUISITION_MODE,
                FrameRate=0,
                GridSpeed=0,
                GridType=d["grid_type"],
                PositionNumber=d["position_number"],
                SID=num(d["sid"]),
                Thickness=num(d["thickness"]),
                TubeAngle=num(d["tube_angle"]),
            )
        ),
    )


def tech(d: dict[str, Any], e: dict[str, Any]) -> s.TechParam:
    """Device parameters of the work station with the size's own thickness and grid, and the size's exposure."""
    return s.TechParam(
        dp=s.DeviceParams(
            SID=num(d["sid"]),
            GridType=e["grid_type"],
            GridSpeed=0,
            DetectorAngle=num(d["detector_angle"]),
            TubeAngle=num(d["tube_angle"]),
            TubeHeight=0,
            APRNumber=d["apr_number"],
            PositionNumber=d["position_number"],
            Thickness=num(e["thickness"]),
            FrameRate=0,
            LongTimeExp=0,
        ),
        ep=s.ExposureParams(
            kV=num(e["kv"]),
            mA=num(e["ma"]),
            ms=num(e["ms"]),
            mAs=num(e["mas"]),
            ExposureMode=EXPOSURE_MODE,
            Focus=e["focus"],
            AECFilm=AEC_FILM,
            AECField=e["aec_field"],
            AECDensity=AEC_DENSITY,
            Dose=0,
            TubeLoad=0,
            TOD=0,
            CompressionThickness=0,
        ),
    )


def thickness(r: dict[str, Any]) -> s.ThicknessApr:
    return s.ThicknessApr(
        thickness=r["thickness"], kV=num(r["kv"]), mA=num(r["ma"]), ms=num(r["ms"]), mAs=num(r["mas"])
    )


# ---- APR edit validation ----
LIMITS = {"kV": KV_RANGE, "mA": MA_RANGE, "ms": MS_RANGE, "mAs": MAS_RANGE}
UNITS = {"kV": "kV", "mA": "mA", "ms": "ms", "mAs": "mAs"}


def check_work_station(value: int | None, required: bool) -> None:
    if value is None:
        if required:
            raise invalid_param(
                "work_station_id", "is required (0 = table, 1 = wall stand)", "必填（0 = 卧位，1 = 立位）"
            )
        return
    if value not in WORK_STATIONS:
        raise invalid_param(
            "work_station_id",
            f"must be 0 (table) or 1 (wall stand), got {value}",
            f"只能为 0（卧位）或 1（立位），当前为 {value}",
        )


def check_patient_size(value: str | None, required: bool) -> None:
    if value is None:
        if required:
            raise invalid_param(
                "patient_size", f"is required, one of {', '.join(SIZES)}", f"必填，可选 {', '.join(SIZES)}"
            )
        return
    if value not in SIZES:
        raise invalid_param(
            "patient_size",
            f"must be one of {', '.join(SIZES)}, got {value!r}",
            f"只能为 {', '.join(SIZES)} 之一，当前为 {value!r}",
        )


def check_update(body: s.AprUpdate) -> None:
    """Raise the error envelope naming the first bad field of an APR edit."""
    if body.reset:
        if (body.work_station_id is None) != (body.patient_size is None):
            missing = "patient_size" if body.patient_size is None else "work_station_id"
            raise invalid_param(
                missing,
                "give both work_station_id and patient_size to reset one entry, or neither to reset the whole APR",
                "重置单项需同时提供 work_station_id 和 patient_size，都不提供则重置整个 APR",
            )
        check_work_station(body.work_station_id, required=False)
        check_patient_size(body.patient_size, required=False)
        return
    check_work_station(body.work_station_id, required=True)
    check_patient_size(body.patient_size, required=True)
    for name, (lo, hi) in LIMITS.items():
        value = getattr(body, name)
        if value is None:
            raise invalid_param(name, "is required", "必填")
        if not lo <= value <= hi:
            raise invalid_param(
                name,
                f"{value:g} is outside the generator range {lo:g}–{hi:g} {UNITS[name]}",
                f"{value:g} 超出高压发生器范围 {lo:g}–{hi:g} {UNITS[name]}",
            )
    assert body.mA is not None and body.ms is not None and body.mAs is not None
    if not mas_consistent(body.mA, body.ms, body.mAs):
        product = body.mA * body.ms / 1000
        raise invalid_param(
            "mAs",
            f"{body.mAs:g} does not match mA × ms / 1000 = {product:g} (2 % tolerance)",
            f"{body.mAs:g} 与 mA × ms / 1000 = {product:g} 不符（允许 2% 误差）",
        )
