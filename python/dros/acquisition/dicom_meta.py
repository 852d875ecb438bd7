"""The DX metadata of one exposure: the study/series/view rows, the generator's delivered technique and
the detector, mapped onto `DxMetadata` (which the Rust writer checks against the DX IOD)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dros import imaging
from dros.acquisition.order_attributes import request_attributes
from dros.dx_metadata import VIEW_CODES, Code, DxMetadata
from dros.settings import Settings

#: Processing preset of a view, from its anatomic region (the catalog's img_proc_id names the view, not
#: a preset); veterinary regions use the vet presets.
_PRESET_BY_REGION = {
    "CHEST": "chest",
    "THORAX": "chest",
    "SKULL": "skull",
    "FACIAL BONES": "skull",
    "SPINE": "spine",
    "CSPINE": "spine",
    "TSPINE": "spine",
    "LSPINE": "spine",
    "ABDOMEN": "abdomen",
    "PELVIS": "pelvis",
    "UPPER LIMB": "extremity",
    "LOWER LIMB": "extremity",
}
_VET_PRESET = {"chest": "vet_thorax", "abdomen": "vet_abdomen", "extremity": "vet_extremity"}

#: Species codes (SNOMED CT) for the catalog's animal patient types.
_SPECIES: dict[str, Code] = {
    "Dog": Code(code_value="448771007", code_meaning="Canis lupus familiaris"),
    "Cat": Code(code_value="448169003", code_meaning="Felis catus"),
    "Horse": Code(code_value="388445009", code_meaning="Equus caballus"),
}


#: Body Part Examined (PS3.16 Annex L defined terms) and the Anatomic Region Sequence item (CID 4009,
#: SNOMED CT) of the catalog's anatomic regions; an unknown region leaves both empty (the IOD then allows
#: an empty sequence).
_ANATOMY: dict[str, tuple[str, Code]] = {
    "SKULL": ("SKULL", Code(code_value="89546000", code_meaning="Skull")),
    "FACIAL BONES": ("FACE", Code(code_value="91397008", code_meaning="Facial bones")),
    "CHEST": ("CHEST", Code(code_value="43799004", code_meaning="Chest")),
    "THORAX": ("CHEST", Code(code_value="43799004", code_meaning="Chest")),
    "ABDOMEN": ("ABDOMEN", Code(code_value="818981001", code_meaning="Abdomen")),
    "PELVIS": ("PELVIS", Code(code_value="816092008", code_meaning="Pelvis")),
    "SPINE": ("SPINE", Code(code_value="421060004", code_meaning="Spine")),
    "CSPINE": ("CSPINE", Code(code_value="122494005", code_meaning="Cervical spine")),
    "TSPINE": ("TSPINE", Code(code_value="122495006", code_meaning="Thoracic spine")),
    "LSPINE": ("LSPINE", Code(code_value="122496007", code_meaning="Lumbar spine")),
    "UPPER LIMB": ("UPR_LIMB", Code(code_value="53120007", code_meaning="Upper limb")),
    "LOWER LIMB": ("LWR_LIMB", Code(code_value="61685007", code_meaning="Lower limb")),
}


def preset_for(slot: dict[str, Any]) -> str:
    region = str(slot.get("anatomic_region") or "").upper()
    preset = _PRESET_BY_REGION.get(region, "default")
    if slot.get("product") == "VETDROS":
        preset = _VET_PRESET.get(preset, "vet_extremity" if preset == "extremity" else preset)
    return preset if preset in imaging.presets() else "default"


def _sex(value: str) -> tuple[str, str]:
    """(PatientSex, PatientSexNeutered) from the study's sex (M/F/O/U, vet CM/SF)."""
    if value in ("M", "F", "O"):
        return value, ""
    if value == "CM":
        return "M", "ALTERED"
    if value == "SF":
        return "F", "ALTERED"
    return "", ""


def build(
    slot: dict[str, Any],
    settings: Settings,
    *,
    instance_number: int,
    acquired_at: datetime,
    kv: float | None,
    ma: float | None,
    ms: float | None,
    mas: float | None,
    detector_id: str,
) -> DxMetadata:
    local = acquired_at.astimezone()
    sex, neutered = _sex(str(slot.get("patient_sex") or ""))
    position = str(slot.get("view_position") or "")
    laterality = str(slot.get("image_laterality") or "U")
    vet = slot.get("product") == "VETDROS"
    anatomy = _ANATOMY.get(str(slot.get("anatomic_region") or "").upper())
    fields: dict[str, Any] = {
        "sop_instance_uid": slot["sop_instance_uid"],
        "study_instance_uid": slot["study_instance_uid"],
        "series_instance_uid": slot["series_instance_uid"],
        "specific_character_set": slot.get("specific_character_set") or "ISO_IR 192",
        "instance_number": instance_number,
        "content_date": local.strftime("%Y%m%d"),
        "content_time": local.strftime("%H%M%S"),
        "acquisition_datetime": local.strftime("%Y%m%d%H%M%S.%f")[:21],
        "patient_name": slot.get("patient_name") or "",
        "patient_id": slot.get("patient_id") or "",
        "patient_birth_date": slot.get("patient_dob") or "",
        "patient_sex": sex,
        "patient_age": slot.get("patient_age") or "",
        "patient_weight": float(slot["weight"]) if slot.get("weight") else None,
        "patient_size": float(slot["length"]) / 100 if slot.get("length") else None,
        "study_date": slot.get("study_date") or local.strftime("%Y%m%d"),
        "study_time": slot.get("study_time") or local.strftime("%H%M%S"),
        "study_id": slot["study_id"],
        "accession_number": slot.get("accession_number") or "",
        "referring_physician_name": slot.get("ref_physician") or "",
        "study_description": slot.get("study_description") or "",
        "request_attributes": request_attributes(slot.get("worklist_entry")),
        "series_number": int(slot.get("series_sort") or 0) + 1,
        "series_description": slot.get("performed_protocol_code_meaning") or "",
        "body_part_examined": anatomy[0] if anatomy else "",
        "anatomic_region": anatomy[1] if anatomy else None,
        "view_position": position if position in VIEW_CODES else "",
        "image_laterality": laterality if laterality in ("R", "L", "U", "B") else "U",
        "protocol_name": (slot.get("view_description") or "")[:64],
        "operators_name": slot.get("operator_name") or "",
        "manufacturer": "DROS",
        "institution_name": settings.dicom.institution_name,
        "station_name": settings.dicom.station_name,
        "manufacturer_model_name": str(settings.product),
        "detector_type": "SCINTILLATOR",
        "detector_id": detector_id[:16],
        "kvp": kv,
        "exposure_time_ms": ms,
        "xray_tube_current_ma": ma,
        "exposure_mas": mas,
        "image_comments": "",
    }
    if vet:
        species = str(slot.get("patient_type") or "")
        fields["patient_species_description"] = species
        fields["patient_species_code"] = _SPECIES.get(species)
        fields["patient_breed_description"] = slot.get("variety") or ""
        if slot.get("owner_name"):
            fields["responsible_person"] = slot["owner_name"]
            fields["responsible_person_role"] = "OWNER"
        neutered = {"ALTERED": "ALTERED", "UNALTERED": "UNALTERED"}.get(str(slot.get("sex_neutered") or ""), neutered)
        fields["patient_sex_neutered"] = neutered
    return DxMetadata.new(uid_root=settings.dicom.uid_root, now=local.replace(tzinfo=None), **fields)
