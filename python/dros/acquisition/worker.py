"""Disk and CPU work of one exposure, run in worker threads (never on the event loop): keep the raw
frame durably, process it with the Rust chain, write the DX file and the thumbnail.

Every file is written under a temporary name in the study folder, fsynced, renamed into place and the
folder fsynced, so a crash leaves either the old state or the complete file — never a half-written one
under a name a client can fetch.
"""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import numpy.typing as npt

from dros import imaging
from dros.direct_io import write_direct
from dros.durable import durable_write
from dros.dx_metadata import DxMetadata

#: Helpers that run beside the calling worker thread (checksum beside the raw write, thumbnail beside the
#: DICOM write): both sides release the GIL, so the two halves overlap.
_BESIDE = ThreadPoolExecutor(max_workers=2, thread_name_prefix="acq-io")


class RawFrameDamaged(RuntimeError):
    """The kept raw frame is missing, truncated or fails its checksum (`en`, `zh`: the reason)."""

    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.en = en
        self.zh = zh


def keep_raw(path: Path, pixels: npt.NDArray[np.uint16]) -> str:
    """The raw frame as little-endian uint16, row order (shape in the exposure row); returns its SHA-256."""
    data = np.ascontiguousarray(pixels, dtype="<u2")
    digest = _BESIDE.submit(lambda: hashlib.sha256(data.data.cast("B")).hexdigest())
    # straight from the detector's block-aligned buffer to the disk, past the page cache (dros.direct_io)
    durable_write(path, lambda tmp: write_direct(tmp, data))
    return digest.result()


def load_raw(path: Path, rows: int, cols: int, sha256: str) -> npt.NDArray[np.uint16]:
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise RawFrameDamaged(f"raw frame {path.name} is missing", f"原始图像 {path.name} 丢失") from None
    if len(blob) != rows * cols * 2:
        raise RawFrameDamaged(
            f"raw frame {path.name} has {len(blob)} bytes, expected {rows * cols * 2}",
            f"原始图像 {path.name} 有 {len(blob)} 字节，应为 {rows * cols * 2}",
        )
    if hashlib.sha256(blob).hexdigest() != sha256:
        raise RawFrameDamaged(f"raw frame {path.name} fails its checksum", f"原始图像 {path.name} 校验和不符")
    return np.frombuffer(blob, dtype="<u2").astype(np.uint16).reshape(rows, cols)


def process(
    raw: npt.NDArray[np.uint16], preset: str, target_ei: float, calibration: imaging.DetectorCalibration
) -> imaging.ProcessResult:
    return imaging.process(raw, preset=preset, target_ei=target_ei, calibration=calibration)


def write_outputs(
    folder: Path, sop: str, result: imaging.ProcessResult, metadata: DxMetadata, timings: dict[str, float]
) -> tuple[str, str]:
    """DX For Presentation (Explicit VR LE) and the 512 px WebP thumbnail; returns their file names."""
    dcm, webp = folder / f"{sop}.dcm", folder / f"{sop}.webp"
    t0 = time.perf_counter()

    def thumbnail() -> float:
        durable_write(webp, lambda tmp: imaging.write_thumbnail(tmp, result, size=512))
        return time.perf_counter()

    thumb_done = _BESIDE.submit(thumbnail)
    durable_write(dcm, lambda tmp: imaging.write_dicom(tmp, result, metadata, transfer_syntax="explicit"))
    t1 = time.perf_counter()
    t2 = thumb_done.result()
    timings["dicom_ms"] = (t1 - t0) * 1000  # DX write + fsync + rename
    timings["thumbnail_ms"] = (t2 - t0) * 1000  # beside it, from the same start
    timings["outputs_ms"] = (max(t1, t2) - t0) * 1000
    return dcm.name, webp.name


def remove_stale_tmp(folder: Path) -> int:
    """Temporary files a crash left in a study folder (never served: no row names them)."""
    removed = 0
    if folder.is_dir():
        for p in folder.glob(".*.tmp"):
            p.unlink(missing_ok=True)
            removed += 1
    return removed
