"""Encapsulated PDF (PS3.3 A.45.1) of a report: the PDF travels with the study to the PACS as its
own series (Modality DOC), each saved version one instance of that series."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydicom import Dataset

from dros.domain.document.dicom_common import (
    Equipment,
    StudyIdentity,
    add_equipment,
    add_patient_and_study,
    base_dataset,
)

ENCAPSULATED_PDF_STORAGE = "1.2.840.10008.5.1.4.1.1.104.1"


@dataclass(frozen=True)
class PdfInstance:
    sop_instance_uid: str
    series_instance_uid: str
    series_number: int
    instance_number: int
    title: str  # DocumentTitle, in the report's language
    series_description: str


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def encapsulated_pdf(
    pdf: bytes,
    study: StudyIdentity,
    equipment: Equipment,
    inst: PdfInstance,
    now: datetime,
    sources: Sequence[tuple[str, str]] = (),
) -> Dataset:
    """`sources`: (SOP Class UID, SOP Instance UID) of the images shown on the page — the document is
    derived from them, which makes Source Instance Sequence required (Type 1C)."""
    ds = base_dataset(ENCAPSULATED_PDF_STORAGE, inst.sop_instance_uid, now)
    add_patient_and_study(ds, study)
    # Encapsulated Document Series
    ds.Modality = "DOC"
    ds.SeriesInstanceUID = inst.series_instance_uid
    ds.SeriesNumber = inst.series_number
    ds.SeriesDescription = inst.series_description[:64]
    add_equipment(ds, equipment)
    # SC Equipment: the PDF was typeset on this workstation
    ds.ConversionType = "WSD"
    # Encapsulated Document
    ds.InstanceNumber = inst.instance_number
    ds.ContentDate = now.strftime("%Y%m%d")
    ds.ContentTime = now.strftime("%H%M%S")
    ds.AcquisitionDateTime = now.strftime("%Y%m%d%H%M%S")
    ds.BurnedInAnnotation = "YES"  # the page names the patient
    ds.RecognizableVisualFeatures = "NO"
    ds.DocumentTitle = inst.title[:1024]
    # LOINC 18748-4 "Diagnostic imaging study" — the report document type PACS viewers list
    ds.ConceptNameCodeSequence = [_code("18748-4", "LN", "Diagnostic imaging study")]
    if sources:
        items = []
        for sop_class, sop_instance in sources:
            item = Dataset()
            item.ReferencedSOPClassUID = sop_class
            item.ReferencedSOPInstanceUID = sop_instance
            items.append(item)
        ds.SourceInstanceSequence = items
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    # OB values are even-length: pad with a NUL, the true length goes alongside
    ds.EncapsulatedDocument = pdf + (b"\x00" if len(pdf) % 2 else b"")
    ds.EncapsulatedDocumentLength = len(pdf)
    return ds
