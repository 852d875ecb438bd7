"""Atomic file writes inside a study folder: temporary name → fsync → rename → fsync of the
folder. A crash or error at any point leaves either no file or the whole file under its name."""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

import pydicom


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Makes the rename itself durable (the directory entry), not only the file's bytes."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def dataset_bytes(ds: pydicom.FileDataset | pydicom.Dataset) -> bytes:
    """A Part-10 file (preamble, file meta, data set) in memory, ready for `atomic_write`."""
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def remove_all(paths: list[Path]) -> None:
    for p in paths:
        p.unlink(missing_ok=True)
