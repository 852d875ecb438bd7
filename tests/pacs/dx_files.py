"""Real DX test images for the send tests: a phantom through the image chain, written by our DX
encoder (Explicit VR LE or RLE Lossless), attached to a registered study's slot the way acquisition
and image/save_as attach files (file in the study folder, row Exposed/Saved, judged as asked)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dros import imaging
from dros.dx_metadata import DxMetadata
from dros.store.db import Database

_PROCESSED: dict[tuple[int, int], Any] = {}


def processed(size: int, seed: int = 7) -> Any:
    key = (size, seed)
    if key not in _PROCESSED:
        _PROCESSED[key] = imaging.process(imaging.phantom("rect", size, size, seed=seed).raw)
    return _PROCESSED[key]


def write_dx(
    path: Path,
    study: dict[str, Any],
    image: dict[str, Any],
    *,
    size: int = 256,
    syntax: str = "explicit",
    seed: int = 7,
) -> Path:
    meta = DxMetadata(
        sop_instance_uid=image["sop_instance_uid"],
        study_instance_uid=study["study_instance_uid"],
        series_instance_uid=image["series_instance_uid"],
        patient_id=study["patient_id"],
        patient_name=study["patient_name"],
        study_id=study["study_id"],
    )
    imaging.write_dicom(path, processed(size, seed), meta, syntax)
    return path


def attach(
    db: Database,
    data_dir: Path,
    study: dict[str, Any],
    image: dict[str, Any],
    *,
    judged: str = "Accept",
    size: int = 256,
    syntax: str = "explicit",
) -> Path:
    live = data_dir / "studies" / study["study_id"]
    live.mkdir(parents=True, exist_ok=True)
    sop = image["sop_instance_uid"]
    path = write_dx(live / f"{sop}.dcm", study, image, size=size, syntax=syntax)
    db.write_sync(
        lambda c: c.execute(
            "UPDATE image SET expose_status = 'Exposed', storage_status = 'Saved', image_file = ?, judged_status = ?, "
            "expose_time = now() WHERE sop_instance_uid = ?",
            [path.name, judged, sop],
        )
    )
    return path
