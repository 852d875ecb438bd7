"""Modules every document object of a study shares: Patient, General Study, General Equipment and
the SOP Common / file meta, filled from the study row so the object files under the same study
at the PACS as the X-ray images (same Study Instance UID, patient identity, accession number)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pydicom import Dataset
from pydicom.dataset import FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian

from dros import __version__

# PatientSex (0010,0040) allows M, F, O only; the veterinary neutered forms carry the neutering
# in PatientSexNeutered instead.
_SEX = {"M": ("M", ""), "F": ("F", ""), "O": ("O", ""), "CM": ("M", "ALTERED"), "SF": ("F", "ALTERED")}


@dataclass(frozen=True)
class StudyIdentity:
    """The study row's values a DICOM object of the study repeats."""

    study_id: str
    study_instance_uid: str
    product: str
    patient_id: str
    patient_name: str
    patient_sex: str
    patient_age: str
    birth_epoch: float | None
    accession_number: str
    ref_physician: str
    start_epoch: float
    study_description: str
    patient_type: str
    owner_name: str
    variety: str
    sex_neutered: str
    study_lock: str

    @property
    def veterinary(self) -> bool:
        return self.product == "VETDROS"

    @property
    def start_local(self) -> datetime:
        return datetime.fromtimestamp(self.start_epoch).astimezone()


@dataclass(frozen=True)
class Equipment:
    institution_name: str
    station_name: str


def file_meta(sop_class_uid: str, sop_instance_uid: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class_uid)
    meta.MediaStorageSOPInstanceUID = UID(sop_instance_uid)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = "DROS"
    return meta


def base_dataset(sop_class_uid: str, sop_instance_uid: str, now: datetime) -> Dataset:
    ds = Dataset()
    ds.file_meta = file_meta(sop_class_uid, sop_instance_uid)
    ds.SpecificCharacterSet = "ISO_IR 192"  # UTF-8: Chinese names and texts as they were typed
    ds.SOPClassUID = sop_class_uid
    ds.SOPInstanceUID = sop_instance_uid
    ds.InstanceCreationDate = now.strftime("%Y%m%d")
    ds.InstanceCreationTime = now.strftime("%H%M%S")
    ds.TimezoneOffsetFromUTC = now.strftime("%z")
    return ds


def add_patient_and_study(ds: Dataset, study: StudyIdentity) -> None:
    ds.PatientName = study.patient_name
    ds.PatientID = study.patient_id
    ds.PatientBirthDate = (
        datetime.fromtimestamp(study.birth_epoch, UTC).strftime("%Y%m%d") if study.birth_epoch is not None else ""
    )
    sex, neutered = _SEX.get(study.patient_sex, ("", ""))
    ds.PatientSex = sex
    if study.patient_age:
        ds.PatientAge = study.patient_age
    if study.veterinary:
        # a species makes these Type 2C attributes required; unknown ones are written empty
        ds.PatientSpeciesDescription = study.patient_type
        ds.PatientBreedDescription = study.variety
        ds.PatientBreedCodeSequence = []
        ds.BreedRegistrationSequence = []
        ds.ResponsiblePerson = study.owner_name
        if study.owner_name:
            ds.ResponsiblePersonRole = "OWNER"
        ds.ResponsibleOrganization = ""
        ds.PatientSexNeutered = study.sex_neutered if study.sex_neutered in ("ALTERED", "UNALTERED") else neutered
    start = study.start_local
    ds.StudyInstanceUID = study.study_instance_uid
    ds.StudyDate = start.strftime("%Y%m%d")
    ds.StudyTime = start.strftime("%H%M%S")
    ds.StudyID = study.study_id[:16]
    ds.AccessionNumber = study.accession_number[:16]
    ds.ReferringPhysicianName = study.ref_physician
    if study.study_description:
        ds.StudyDescription = study.study_description[:64]


def add_equipment(ds: Dataset, equipment: Equipment) -> None:
    ds.Manufacturer = "DROS"
    if equipment.institution_name:
        ds.InstitutionName = equipment.institution_name[:64]
    if equipment.station_name:
        ds.StationName = equipment.station_name[:16]
    ds.SoftwareVersions = f"DROS {__version__}"[:64]
