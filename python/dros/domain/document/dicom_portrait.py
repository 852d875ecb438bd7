"""The patient portrait as a VL Photographic Image (PS3.3 A.32.4, Modality XC).

Decision: VL Photographic, not Secondary Capture. The portrait is a photograph of the patient
taken by a camera at the console — exactly what VL Photographic ("external-camera photography")
describes; Secondary Capture is for images converted from another source (screens, film).
VL Photographic stores 8 bits per sample, RGB or MONOCHROME2, uncompressed here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
from pydicom import Dataset

from dros.domain.document.dicom_common import (
    Equipment,
    StudyIdentity,
    add_equipment,
    add_patient_and_study,
    base_dataset,
)

VL_PHOTOGRAPHIC_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.77.1.4"


@dataclass(frozen=True)
class PortraitInstance:
    sop_instance_uid: str
    series_instance_uid: str
    series_number: int
    instance_number: int
    series_description: str


def vl_photographic(
    pixels: npt.NDArray[np.uint8], study: StudyIdentity, equipment: Equipment, inst: PortraitInstance, now: datetime
) -> Dataset:
    ds = base_dataset(VL_PHOTOGRAPHIC_IMAGE_STORAGE, inst.sop_instance_uid, now)
    add_patient_and_study(ds, study)
    # General Series
    ds.Modality = "XC"
    ds.SeriesInstanceUID = inst.series_instance_uid
    ds.SeriesNumber = inst.series_number
    ds.SeriesDescription = inst.series_description[:64]
    # Type 2C: whether the imaged part is paired is unknown for a portrait — present and empty
    # (absent is an error for dciodvfy, empty only a warning)
    ds.Laterality = ""
    add_equipment(ds, equipment)
    # General Image / VL Image
    ds.InstanceNumber = inst.instance_number
    ds.PatientOrientation = ""
    ds.ContentDate = now.strftime("%Y%m%d")
    ds.ContentTime = now.strftime("%H%M%S")
    ds.AcquisitionDateTime = now.strftime("%Y%m%d%H%M%S")
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"
    ds.AcquisitionContextSequence = []
    # Image Pixel
    colour = pixels.ndim == 3
    ds.Rows, ds.Columns = int(pixels.shape[0]), int(pixels.shape[1])
    ds.SamplesPerPixel = 3 if colour else 1
    ds.PhotometricInterpretation = "RGB" if colour else "MONOCHROME2"
    if colour:
        ds.PlanarConfiguration = 0  # R G B per pixel, as the PNG stores them
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    data = np.ascontiguousarray(pixels, dtype=np.uint8).tobytes()
    ds.PixelData = data + (b"\x00" if len(data) % 2 else b"")
    ds["PixelData"].VR = "OB"
    return ds
