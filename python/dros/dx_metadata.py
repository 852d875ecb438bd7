"""Metadata of a Digital X-Ray (DX) image: everything the DX IOD needs that is not pixels.

`DxMetadata` is read attribute by attribute by the Rust writer (`dros._core.write_dicom`), so
its field names are the DICOM keywords in snake_case and must stay in step with
`rust_core/src/dicom/dx.rs::DxMetadata`. Empty strings and ``None`` mean "unknown": Type 2
attributes are then written empty and Type 3 attributes left out. The Rust side checks every
value against its VR and the IOD rules and raises ``ValueError`` naming the field.

The three instance UIDs have no default on purpose: a silently generated Study Instance UID
splits one study into many at the PACS. Use `DxMetadata.new(...)` to generate the missing ones
explicitly (and stamp the dates), or pass the UIDs the worklist gave.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Literal

import msgspec

from dros import __version__, _core

__all__ = [
    "DEFAULT_IMAGER_PIXEL_SPACING",
    "VIEW_CODES",
    "Code",
    "DxMetadata",
    "PresentationIntent",
]

PresentationIntent = Literal["FOR PRESENTATION", "FOR PROCESSING"]

#: Pixel pitch (mm, row then column) of the simulated detector DROS ships with; a real detector
#: driver passes its own. 0.139 mm is the common pitch of CsI flat panels.
DEFAULT_IMAGER_PIXEL_SPACING: tuple[float, float] = (0.139, 0.139)


class Code(msgspec.Struct, frozen=True, kw_only=True):
    """One coded concept (Code Value, Coding Scheme Designator, Code Meaning)."""

    code_value: str
    code_meaning: str
    coding_scheme_designator: str = "SCT"


class RequestAttributes(msgspec.Struct, frozen=True, kw_only=True):
    """One Request Attributes Sequence item (IHE Scheduled Workflow): the worklist order. The two
    IDs are required; the rest may stay empty."""

    requested_procedure_id: str
    scheduled_procedure_step_id: str
    accession_number: str = ""
    requested_procedure_description: str = ""
    requested_procedure_code: Code | None = None
    scheduled_procedure_step_description: str = ""
    scheduled_protocol_codes: tuple[Code, ...] = ()


#: View Code Sequence items for the common View Position values (DICOM CID 4010 "DX View",
#: SNOMED CT codes as in the standard's concept tables).
VIEW_CODES: dict[str, Code] = {
    "AP": Code(code_value="399348003", code_meaning="antero-posterior"),
    "PA": Code(code_value="272479007", code_meaning="postero-anterior"),
    "LL": Code(code_value="399173006", code_meaning="left lateral"),
    "RL": Code(code_value="399198007", code_meaning="right lateral"),
    # Veterinary projections (CID 7484 "DX View for Animals"); dciodvfy expects these, not the
    # human terms above, once the patient has a species.
    "DV": Code(code_value="441672003", code_meaning="Dorso-ventral"),
    "VD": Code(code_value="442441009", code_meaning="Ventro-dorsal"),
}


class DxMetadata(msgspec.Struct, frozen=True, kw_only=True):
    """DX image metadata; see the module docstring. Dates are ``YYYYMMDD``, times ``HHMMSS``."""

    # SOP Common, General Image
    sop_instance_uid: str
    specific_character_set: str = "ISO_IR 192"
    instance_number: int | None = 1
    content_date: str = ""
    content_time: str = ""
    acquisition_datetime: str = ""
    image_type: tuple[str, ...] = ("ORIGINAL", "PRIMARY")
    image_comments: str = ""

    # Patient
    patient_name: str = ""
    patient_id: str = ""
    issuer_of_patient_id: str = ""
    patient_birth_date: str = ""
    patient_sex: Literal["M", "F", "O", ""] = ""
    patient_age: str = ""
    patient_weight: float | None = None  # kg
    patient_size: float | None = None  # m

    # Patient, non-human (VETDROS). A species makes the breed, responsible person/organisation
    # and neutering attributes part of the file (Type 2C), written empty when unknown.
    patient_species_description: str = ""
    patient_species_code: Code | None = None
    patient_breed_description: str = ""
    patient_breed_code: Code | None = None
    responsible_person: str = ""
    responsible_person_role: str = ""  # OWNER, VETERINARIAN, ... ; required with responsible_person
    responsible_organization: str = ""
    patient_sex_neutered: Literal["ALTERED", "UNALTERED", ""] = ""

    # General Study
    study_instance_uid: str
    study_date: str = ""
    study_time: str = ""
    study_id: str = ""
    accession_number: str = ""
    referring_physician_name: str = ""
    study_description: str = ""
    # General Series: the worklist order(s) the image was acquired for (Request Attributes Sequence)
    request_attributes: tuple[RequestAttributes, ...] = ()

    # General Series, DX Series, DX Anatomy Imaged, DX Positioning.
    # Series Laterality is not offered: the DX IOD forbids it next to Image Laterality (Type 1).
    series_instance_uid: str
    series_number: int | None = 1
    series_description: str = ""
    body_part_examined: str = ""
    view_position: str = ""
    view_code: Code | None = None
    positioner_type: str = ""
    image_laterality: Literal["R", "L", "U", "B"] = "U"
    # Direction of the rows, then of the columns: patient's left, then feet — the display
    # convention for frontal (AP/PA) projections.
    patient_orientation: tuple[str, str] = ("L", "F")
    anatomic_region: Code | None = None
    protocol_name: str = ""
    operators_name: str = ""

    # General Equipment
    manufacturer: str = ""
    institution_name: str = ""
    station_name: str = ""
    manufacturer_model_name: str = ""
    device_serial_number: str = ""
    software_versions: str = ""

    # DX Detector
    detector_type: Literal["DIRECT", "SCINTILLATOR", "STORAGE", "FILM", ""] = ""
    detector_id: str = ""
    detector_manufacturer_name: str = ""
    detector_manufacturer_model_name: str = ""
    imager_pixel_spacing: tuple[float, float] = DEFAULT_IMAGER_PIXEL_SPACING  # mm

    # X-Ray Generation / Acquisition Dose (physical units as named)
    kvp: float | None = None
    exposure_mas: float | None = None
    exposure_time_ms: float | None = None
    xray_tube_current_ma: float | None = None
    distance_source_to_detector: float | None = None  # mm
    distance_source_to_patient: float | None = None  # mm
    image_and_fluoroscopy_area_dose_product: float | None = None  # dGy·cm²

    # Filled by the processing chain. Without a window, a For Presentation file gets the
    # identity window over the stored range; For Processing files never carry one (IOD rule).
    window_center: float | None = None
    window_width: float | None = None
    voi_lut_function: Literal["LINEAR", "LINEAR_EXACT", "SIGMOID", ""] = ""
    exposure_index: float | None = None
    target_exposure_index: float | None = None
    deviation_index: float | None = None

    # Pixel description
    presentation_intent: PresentationIntent = "FOR PRESENTATION"
    bits_stored: int = 16
    photometric_interpretation: Literal["MONOCHROME2", "MONOCHROME1"] = "MONOCHROME2"
    pixel_intensity_relationship: Literal["LIN", "LOG"] = "LIN"
    pixel_intensity_relationship_sign: int = 1

    def __post_init__(self) -> None:
        # Fail at construction, where the caller still knows where the value came from.
        for field in ("sop_instance_uid", "study_instance_uid", "series_instance_uid"):
            value = getattr(self, field)
            if not isinstance(value, str):
                raise TypeError(f"{field} must be a str UID, got {type(value).__name__}")
            try:
                _core.validate_uid(value)
            except ValueError as exc:
                raise ValueError(f"{field}: {exc}") from None
        if self.presentation_intent not in ("FOR PRESENTATION", "FOR PROCESSING"):
            raise ValueError(
                f"presentation_intent must be 'FOR PRESENTATION' or 'FOR PROCESSING', got {self.presentation_intent!r}"
            )

    @classmethod
    def new(
        cls,
        *,
        uid_root: str = "2.25",
        now: _dt.datetime | None = None,
        **fields: Any,
    ) -> DxMetadata:
        """Metadata with the missing instance UIDs generated under `uid_root`.

        Also stamps the study and content date/time with `now` (local time) unless given, fills
        the View Code Sequence from `view_position` when it is one of `VIEW_CODES`, and names
        DROS in Software Versions.
        """
        for field in ("sop_instance_uid", "study_instance_uid", "series_instance_uid"):
            if not fields.get(field):
                fields[field] = _core.generate_uid(uid_root)
        now = now or _dt.datetime.now()
        date, time = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
        fields.setdefault("study_date", date)
        fields.setdefault("study_time", time)
        fields.setdefault("content_date", date)
        fields.setdefault("content_time", time)
        if fields.get("view_code") is None and fields.get("view_position") in VIEW_CODES:
            fields["view_code"] = VIEW_CODES[fields["view_position"]]
        fields.setdefault("software_versions", f"DROS {__version__}")
        return cls(**fields)

    def replace(self, **changes: Any) -> DxMetadata:
        """A copy with `changes` applied (e.g. the window and EI from the processing chain)."""
        return msgspec.structs.replace(self, **changes)
