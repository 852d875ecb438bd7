"""Stubs of the Rust extension `dros._core` (rust_core/). Edited with every exported signature."""

from typing import final

__version__: str
build_profile: str
rustc_version: str
git_commit: str
build_time: str

class CoreValueError(ValueError):
    """Input rejected by the DROS core."""

class CoreIOError(OSError):
    """File-system failure inside the DROS core."""

class CorePanicError(RuntimeError):
    """An internal error (Rust panic) caught at the boundary."""

def generate_uid(root: str = "2.25") -> str:
    """A fresh DICOM UID under `root` (default `2.25`: UUID-derived, PS3.5 §B.2)."""

def validate_uid(value: str) -> None:
    """Raise CoreValueError naming the broken PS3.5 §9 rule."""

# --- DICOM encoding and thumbnails (rust_core/src/py/dicom.rs) ---------------------------------
import os as _os

import numpy as _np
import numpy.typing as _npt

from dros.dx_metadata import DxMetadata as _DxMetadata

DX_IMPLEMENTATION_CLASS_UID: str
DX_IMPLEMENTATION_VERSION_NAME: str

def write_dicom(
    path: str | _os.PathLike[str],
    image: _npt.NDArray[_np.uint16],
    metadata: _DxMetadata,
    transfer_syntax: str = "explicit",
) -> None:
    """Write a DX Part-10 file: SOP class For Presentation or For Processing by
    `metadata.presentation_intent`; transfer_syntax "explicit" (Explicit VR Little Endian) or
    "rle" (RLE Lossless). TypeError for a non-uint16 array, ValueError (CoreValueError) for a
    non-2-D or empty image or metadata that breaks a DICOM rule."""

def encode_rle(image: _npt.NDArray[_np.uint16]) -> bytes:
    """The RLE Lossless frame (PS3.5 Annex G) of a 2-D uint16 image."""

def write_thumbnail(
    path: str | _os.PathLike[str],
    image: _npt.NDArray[_np.uint16],
    window_center: float,
    window_width: float,
    size: int = 512,
) -> None:
    """Lossless WebP of the image windowed with the DICOM linear VOI function, area-averaged so
    the longest side is `size` (never enlarged)."""

# --- imaging chain (rust_core/src/py/imaging.rs, rust_core/src/py/phantom.rs) ---
from typing import Any as _Any

@final
class Collimation:
    """Collimation found by the detector (or a phantom's ground truth). x = column, y = row."""

    kind: str
    geometry: dict[str, _Any]
    corners: list[tuple[float, float]]
    angle_deg: float | None
    center: tuple[float, float] | None
    radius: float | None
    confidence: float
    mask: _npt.NDArray[_np.bool_]

@final
class ProcessResult:
    """Output of `process`."""

    image: _npt.NDArray[_np.uint16]
    window_center: float
    window_width: float
    field_mask: _npt.NDArray[_np.bool_]
    foreground_mask: _npt.NDArray[_np.bool_]
    collimation: Collimation
    exposure_index: float
    target_exposure_index: float
    deviation_index: float | None
    timings: dict[str, float]
    preset: str

@final
class Phantom:
    """A synthetic raw frame with its ground truth."""

    raw: _npt.NDArray[_np.uint16]
    collimation: Collimation
    field_mask: _npt.NDArray[_np.bool_]
    direct_mask: _npt.NDArray[_np.bool_]
    anatomy_mask: _npt.NDArray[_np.bool_]
    marker_mask: _npt.NDArray[_np.bool_]
    dose_scale: float
    seed: int
    scene: dict[str, _Any]

def process(
    raw: _npt.NDArray[_np.uint16],
    preset: str = "default",
    target_ei: float = 250.0,
    soft_border_px: float | None = None,
    dn_per_ugy: float | None = None,
    offset_dn: float | None = None,
) -> ProcessResult:
    """The whole imaging chain (GIL released). TypeError/ValueError for bad frames."""

def detect_collimation(raw: _npt.NDArray[_np.uint16]) -> Collimation:
    """Collimation detection alone."""

def presets() -> list[str]:
    """Names of the enhancement presets."""

def phantom(
    width: int,
    height: int,
    kind: str = "rect",
    seed: int = 0,
    dose_scale: float | None = None,
    defects: bool = True,
    markers: bool = True,
    physics: str = "classic",
) -> Phantom:
    """Seeded synthetic raw frame with ground truth."""

def imaging_pool_thread_ids() -> list[int]:
    """OS thread ids of rayon's global pool (started if it was not), each named `dros-imaging`."""

def kill_when_parent_gone(parent_pid: int, grace_s: float, poll_s: float) -> None:
    """Start a native thread that SIGKILLs this process `grace_s` after its parent stops being
    `parent_pid`; ValueError for a grace or poll that is not a positive number of seconds."""

def _force_panic() -> None:
    """Panics inside the detached section; raises CorePanicError (boundary test)."""
