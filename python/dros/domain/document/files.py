"""File contents of study documents: a Part-10 file in memory, and removal of written files when
the database commit after them fails (writes themselves go through `dros.durable`)."""

from __future__ import annotations

import io
from pathlib import Path

import pydicom


def dataset_bytes(ds: pydicom.FileDataset | pydicom.Dataset) -> bytes:
    """A Part-10 file (preamble, file meta, data set) in memory, ready for `durable_write_bytes`."""
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def remove_all(paths: list[Path]) -> None:
    for p in paths:
        p.unlink(missing_ok=True)
