"""A post-processed image as a derived instance of the original DX image (same study, series and
patient; new SOP Instance UID; ImageType DERIVED\\SECONDARY; DerivationDescription; Source Image
Sequence pointing at the original). The original file is only read, never changed."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
from pydicom import Dataset
from pydicom.uid import ExplicitVRLittleEndian

from dros.domain.document.dicom_common import file_meta

DX_FOR_PRESENTATION = "1.2.840.10008.5.1.4.1.1.1.1"

# Pixel-module attributes of the original that do not describe the new pixels
_DROP = (
    "PixelData",
    "LargestImagePixelValue",
    "SmallestImagePixelValue",
    "VOILUTSequence",
    "PixelPaddingValue",
    "PixelPaddingRangeLimit",
    "ImageComments",
    "LossyImageCompressionRatio",
    "LossyImageCompressionMethod",
    # the client's window replaces the original's VOI (its function and explanations included)
    "VOILUTFunction",
    "WindowCenterWidthExplanation",
)


@dataclass(frozen=True)
class DerivedInstance:
    sop_instance_uid: str
    instance_number: int
    window_center: int
    window_width: int


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def derived_dx(
    original: Dataset,
    pixels: npt.NDArray[np.uint8] | npt.NDArray[np.uint16],
    bits: int,
    inst: DerivedInstance,
    now: datetime,
) -> Dataset:
    ds = Dataset()
    for elem in original:
        if elem.keyword not in _DROP:
            ds.add(copy.deepcopy(elem))  # own elements: setting a value must not reach the original
    # a display-ready image with the client's window is For Presentation, whatever the original was
    ds.file_meta = file_meta(DX_FOR_PRESENTATION, inst.sop_instance_uid)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = DX_FOR_PRESENTATION
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.SOPInstanceUID = inst.sop_instance_uid
    ds.InstanceNumber = inst.instance_number
    ds.InstanceCreationDate = now.strftime("%Y%m%d")
    ds.InstanceCreationTime = now.strftime("%H%M%S")
    ds.ContentDate = now.strftime("%Y%m%d")
    ds.ContentTime = now.strftime("%H%M%S")
    ds.ImageType = ["DERIVED", "SECONDARY"]
    old_rows, old_cols = int(original.Rows), int(original.Columns)
    rows, cols = int(pixels.shape[0]), int(pixels.shape[1])
    description = (
        f"Post-processed on the console from {original.SOPInstanceUID}; "
        f"window centre {inst.window_center}, width {inst.window_width}"
    )
    if (rows, cols) != (old_rows, old_cols):
        # the PNG shows the whole original field at another size: spacing scales with it
        for keyword in ("ImagerPixelSpacing", "PixelSpacing"):
            if keyword in original:
                row_mm, col_mm = (float(v) for v in original[keyword].value)
                setattr(ds, keyword, [f"{row_mm * old_rows / rows:.6g}", f"{col_mm * old_cols / cols:.6g}"])
        description += f"; resampled from {old_cols}x{old_rows} to {cols}x{rows} pixels"
    ds.DerivationDescription = description[:1024]
    source = Dataset()
    source.ReferencedSOPClassUID = original.SOPClassUID
    source.ReferencedSOPInstanceUID = original.SOPInstanceUID
    source.PurposeOfReferenceCodeSequence = [_code("121322", "DCM", "Source image for image processing operation")]
    ds.SourceImageSequence = [source]
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PresentationLUTShape = "IDENTITY"
    ds.BitsAllocated = 16
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    ds.WindowCenter = str(inst.window_center)
    ds.WindowWidth = str(inst.window_width)
    ds.PixelData = np.ascontiguousarray(pixels, dtype="<u2").tobytes()
    ds["PixelData"].VR = "OW"
    return ds
