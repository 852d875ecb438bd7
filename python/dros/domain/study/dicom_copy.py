"""Copy a DICOM file under new UIDs (image/save_as)."""

from __future__ import annotations

import os
from pathlib import Path

import pydicom


def copy_with_new_uids(src: Path, dst: Path, uids: dict[str, str]) -> None:
    """Rewrite the given UID attributes (and the file meta's copy of the SOP Instance UID) and
    write atomically: a crash never leaves a half-written file under the final name."""
    ds = pydicom.dcmread(src)
    for keyword, value in uids.items():
        setattr(ds, keyword, value)
    if "SOPInstanceUID" in uids:
        ds.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.UID(uids["SOPInstanceUID"])
    tmp = dst.with_name(dst.name + ".part")
    ds.save_as(tmp, enforce_file_format=True)
    os.replace(tmp, dst)
