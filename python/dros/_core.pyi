"""Stubs of the Rust extension `dros._core` (rust_core/). Edited with every exported signature."""

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
