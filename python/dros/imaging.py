"""The imaging chain: raw detector frame → diagnostic DX image, window, EI/DI, collimation.

This module is the Python face of the Rust imaging chain and DX encoder. Outside it, `dros._core`
is imported only for what is not imaging: UIDs (`generate_uid`, `validate_uid`), the DX
metadata type and build facts. Every heavy call runs in Rust with the GIL released; a Rust panic comes
back as `dros._core.CorePanicError` (a `RuntimeError`), never as an abort.

    from dros import imaging
    r = imaging.process(raw, preset="default", target_ei=250.0)   # raw: 2-D numpy uint16
    r.image, r.window_center, r.window_width, r.field_mask, r.collimation
    r.exposure_index, r.target_exposure_index, r.deviation_index, r.timings
    imaging.write_dicom(path, r, metadata, transfer_syntax="explicit")   # or "rle"
    imaging.write_thumbnail(path, r, size=512)

Stages and their keys in ``r.timings``: ``prepare`` (dead-line repair, ln(raw) at half
resolution), ``collimator_rect``, ``collimator_circle``, ``foreground``, ``enhance``, ``apply``,
``auto_wwwl``, ``exposure_index``.

Output image: 12 bits stored (0‥4095), MONOCHROME2, attenuating anatomy bright, outside the
field 0. Default window for frames without usable anatomy (constant or all-zero frames):
centre 2048, width 4096. EI (IEC 62494-1) = 100 × K_CAL[µGy], with K_CAL from the detector's
calibration (`DetectorCalibration`: raw = offset_dn + dn_per_ugy · K_CAL; default 1000 DN per µGy,
offset 0 — the phantom's demo detector); DI = 10·log10(EI/EI_T), ``None`` when EI is 0.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from dros import _core
from dros._core import (
    Collimation,
    CoreIOError,
    CorePanicError,
    CoreValueError,
    Phantom,
    ProcessResult,
)

if TYPE_CHECKING:
    from dros.dx_metadata import DxMetadata

__all__ = [
    "OUTPUT_BITS",
    "Collimation",
    "CoreIOError",
    "CorePanicError",
    "CoreValueError",
    "DetectorCalibration",
    "Phantom",
    "ProcessResult",
    "detect_collimation",
    "phantom",
    "presets",
    "process",
    "read_raw",
    "write_dicom",
    "write_raw",
    "write_raw_dicom",
    "write_thumbnail",
]

#: Bits used by the processed image (values 0‥4095).
OUTPUT_BITS = 12
#: File types `read_raw` understands.
RAW_SUFFIXES = (".npy", ".tif", ".tiff", ".raw")


@dataclass(frozen=True, slots=True)
class DetectorCalibration:
    """A detector's linear response for the exposure index (IEC 62494-1):
    ``raw = offset_dn + dn_per_ugy · K_CAL`` with K_CAL the air kerma in µGy under RQA5."""

    dn_per_ugy: float = 1000.0
    offset_dn: float = 0.0

    def __post_init__(self) -> None:
        for name in ("dn_per_ugy", "offset_dn"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        if not 0 < self.dn_per_ugy <= 1e6:
            raise ValueError(f"dn_per_ugy must be a positive number up to 1e6, got {self.dn_per_ugy}")
        if not 0 <= self.offset_dn <= 65535:
            raise ValueError(f"offset_dn must be within 0..65535, got {self.offset_dn}")


def _check_raw(raw: Any) -> npt.NDArray[np.uint16]:
    """Type and shape rules before crossing into Rust (Rust checks the size limits again)."""
    if not isinstance(raw, np.ndarray):
        raise TypeError(f"raw must be a numpy.ndarray of dtype uint16, got {type(raw).__name__}")
    if raw.dtype != np.dtype(np.uint16) or not raw.dtype.isnative:
        raise TypeError(f"raw must have dtype uint16 (native byte order), got {raw.dtype.str}")
    if raw.ndim != 2:
        raise ValueError(f"raw must be 2-D (rows, columns), got {raw.ndim} dimensions, shape {raw.shape}")
    if raw.size == 0:
        raise ValueError(f"raw frame is empty, shape {raw.shape}")
    return raw


def process(
    raw: npt.NDArray[np.uint16],
    preset: str = "default",
    target_ei: float = 250.0,
    soft_border_px: float | None = None,
    calibration: DetectorCalibration | None = None,
) -> ProcessResult:
    """Run the whole chain on a raw frame.

    `preset` is the view's `img_proc_id` (see `presets()`); `target_ei` the view's `TargetEXI`.
    Read-only and non-contiguous arrays are accepted (a non-contiguous one is copied once).
    TypeError for a non-array or a dtype other than uint16; ValueError for a non-2-D, empty,
    smaller than 64 px or larger than 16384 px (per side) frame, an unknown preset or a
    non-positive target EI. `soft_border_px` (0–512, default: the preset's, 0 = hard shutter) fades
    the image to black over that many pixels inside the field edge. `calibration` is the detector's
    (default: the demo detector's 1000 DN per µGy); it changes the EI/DI, not the image.
    """
    _check_raw(raw)
    if isinstance(target_ei, bool) or not isinstance(target_ei, (int, float)):
        raise TypeError(f"target_ei must be a number, got {type(target_ei).__name__}")
    if soft_border_px is not None and (
        isinstance(soft_border_px, bool) or not isinstance(soft_border_px, (int, float))
    ):
        raise TypeError(f"soft_border_px must be a number, got {type(soft_border_px).__name__}")
    if calibration is not None and not isinstance(calibration, DetectorCalibration):
        raise TypeError(f"calibration must be a DetectorCalibration, got {type(calibration).__name__}")
    cal = calibration or DetectorCalibration()
    return _core.process(
        raw,
        preset,
        float(target_ei),
        None if soft_border_px is None else float(soft_border_px),
        float(cal.dn_per_ugy),
        float(cal.offset_dn),
    )


def detect_collimation(raw: npt.NDArray[np.uint16]) -> Collimation:
    """Collimation detection alone: the same object as ``process(raw).collimation``."""
    _check_raw(raw)
    return _core.detect_collimation(raw)


def pool_thread_ids() -> list[int]:
    """OS thread ids of the chain's worker pool (rayon's; started if it was not)."""
    return list(_core.imaging_pool_thread_ids())


def presets() -> list[str]:
    """Names of the enhancement presets (`img_proc_id` values)."""
    return list(_core.presets())


def phantom(
    kind: str = "rect",
    width: int = 3072,
    height: int = 3072,
    seed: int = 0,
    dose_scale: float | None = None,
    *,
    defects: bool = True,
    markers: bool = True,
    physics: str = "classic",
) -> Phantom:
    """A seeded synthetic raw frame with ground truth (`.raw`, `.field_mask`, `.anatomy_mask`, ...).

    ``physics="wide"`` draws the wider per-frame physics (penumbra, blade transmission, scatter,
    rotation to ±45°, tight collimation with thick anatomy, two or three fields on 30 % of rectangle
    frames); ``.scene`` holds the scene as numbers (``scene["field"]["kind"] == "multiple"`` on a
    frame with several fields, whose ``.collimation`` is then ``none``, its mask their union)."""
    return _core.phantom(width, height, kind, seed, dose_scale, defects, markers, physics)


def _metadata_from_result(r: ProcessResult, metadata: DxMetadata) -> DxMetadata:
    if metadata.presentation_intent != "FOR PRESENTATION":
        raise ValueError("a processed image is For Presentation; use write_raw_dicom() for a For Processing file")
    return metadata.replace(
        window_center=float(r.window_center),
        window_width=float(r.window_width),
        exposure_index=float(r.exposure_index),
        target_exposure_index=float(r.target_exposure_index),
        deviation_index=None if r.deviation_index is None else float(r.deviation_index),
        bits_stored=OUTPUT_BITS,
    )


def write_dicom(
    path: str | os.PathLike[str],
    r: ProcessResult,
    metadata: DxMetadata,
    transfer_syntax: str = "explicit",
) -> None:
    """Write the processed image as a DX For Presentation Part-10 file.

    The VOI window, EI, target EI and DI come from `r` (they replace those in `metadata`);
    `transfer_syntax` is "explicit" (Explicit VR Little Endian) or "rle" (RLE Lossless).
    """
    md = _metadata_from_result(r, metadata)
    _core.write_dicom(os.fspath(path), r.image, md, transfer_syntax)


def write_raw_dicom(
    path: str | os.PathLike[str],
    raw: npt.NDArray[np.uint16],
    metadata: DxMetadata,
    transfer_syntax: str = "explicit",
    r: ProcessResult | None = None,
) -> None:
    """Write the raw frame as a DX For Processing file (no window; EI/DI from `r` if given)."""
    _check_raw(raw)
    changes: dict[str, Any] = {
        "presentation_intent": "FOR PROCESSING",
        "window_center": None,
        "window_width": None,
        "bits_stored": 16,
    }
    if r is not None:
        changes.update(
            exposure_index=float(r.exposure_index),
            target_exposure_index=float(r.target_exposure_index),
            deviation_index=None if r.deviation_index is None else float(r.deviation_index),
        )
    _core.write_dicom(os.fspath(path), raw, metadata.replace(**changes), transfer_syntax)


def write_thumbnail(path: str | os.PathLike[str], r: ProcessResult, size: int = 512) -> None:
    """WebP of the windowed image, longest side `size` px (area-averaged, never enlarged)."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"size must be a positive int, got {size!r}")
    _core.write_thumbnail(os.fspath(path), r.image, float(r.window_center), float(r.window_width), size)


def read_raw(
    path: str | os.PathLike[str],
    shape: tuple[int, int] | None = None,
) -> npt.NDArray[np.uint16]:
    """Read a raw frame from ``.npy``, 16-bit grayscale ``.tif``/``.tiff``, or headerless ``.raw``.

    ``.raw`` files are little-endian uint16 in row order and need `shape` (rows, columns).
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".npy":
        arr = np.load(p, allow_pickle=False)
        if arr.dtype.kind != "u" or arr.dtype.itemsize != 2:
            raise ValueError(f"{p}: expected uint16 data, found {arr.dtype}")
        return _check_raw(np.asarray(arr, dtype=np.uint16))
    if suffix in (".tif", ".tiff"):
        from PIL import Image

        with Image.open(p) as im:
            if im.mode not in ("I;16", "I;16L", "I;16B", "I;16N"):
                raise ValueError(f"{p}: expected a 16-bit grayscale TIFF, found mode {im.mode}")
            arr = np.asarray(im)
        return _check_raw(np.ascontiguousarray(arr, dtype=np.uint16))
    if suffix == ".raw":
        if shape is None:
            raise ValueError(f"{p}: a .raw file needs shape=(rows, columns)")
        rows, cols = shape
        data = np.fromfile(p, dtype="<u2")
        if data.size != rows * cols:
            raise ValueError(f"{p}: holds {data.size} uint16 values, shape {rows}x{cols} needs {rows * cols}")
        return _check_raw(data.astype(np.uint16, copy=False).reshape(rows, cols))
    raise ValueError(f"{p}: unknown raw format {suffix!r}; expected one of {', '.join(RAW_SUFFIXES)}")


def write_raw(path: str | os.PathLike[str], raw: npt.NDArray[np.uint16]) -> None:
    """Write a raw frame as ``.npy``, 16-bit ``.tif``/``.tiff`` or little-endian ``.raw``."""
    _check_raw(raw)
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".npy":
        np.save(p, raw, allow_pickle=False)
    elif suffix in (".tif", ".tiff"):
        from PIL import Image

        Image.fromarray(np.ascontiguousarray(raw)).save(p, format="TIFF")
    elif suffix == ".raw":
        np.ascontiguousarray(raw).astype("<u2").tofile(p)
    else:
        raise ValueError(f"{p}: unknown raw format {suffix!r}; expected one of {', '.join(RAW_SUFFIXES)}")
