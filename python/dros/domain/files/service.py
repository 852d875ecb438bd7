"""Finding, reading and rendering the files the §6 endpoints serve. Disk work runs in threads."""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dros.domain.files import repo
from dros.domain.files.ranges import Unsatisfiable, etag_of, parse_range
from dros.durable import durable_write
from dros.errors import DrosError, ErrorCode
from dros.store.db import Database

# The names the service itself gives files: a UID (digits and dots) or a seed-style id, one suffix.
_NAME = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,127}$")

MEDIA_TYPES = {".dcm": "application/dicom", ".webp": "image/webp", ".png": "image/png"}


def not_found(field: str, name: str) -> DrosError:
    return DrosError(ErrorCode.NOT_FOUND, field=field, en=f"no such file: {name}", zh=f"文件不存在：{name}")


def check_name(field: str, name: str, suffix: str) -> str:
    """Refuse traversal and names the service never produces (404, the same answer as a missing file:
    a probe learns nothing about the layout)."""
    if not _NAME.match(name) or ".." in name or not name.endswith(suffix) or len(name) == len(suffix):
        raise not_found(field, name)
    return name


@dataclass(frozen=True, slots=True)
class FilePart:
    body: bytes
    size: int  # of the whole file
    etag: str
    media_type: str
    byte_range: tuple[int, int] | None  # (first, last) when a part was asked for
    not_modified: bool = False


def _inside(base: Path, name: str, field: str) -> Path:
    path = base / name
    if path.resolve().parent != base.resolve():
        raise not_found(field, name)  # a symlink leading out of the folder
    return path


def read_part(path: Path, range_header: str | None, etag_match: str | None) -> FilePart:
    """The file (or the asked byte range of it); FileNotFoundError, `Unsatisfiable`."""
    from dros.domain.files.ranges import none_match

    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        etag = etag_of(st)
        media = MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
        if none_match(etag_match, etag):
            return FilePart(b"", st.st_size, etag, media, None, not_modified=True)
        part = parse_range(range_header, st.st_size)
        if part is None:
            return FilePart(fh.read(), st.st_size, etag, media, None)
        first, last = part
        fh.seek(first)
        return FilePart(fh.read(last - first + 1), st.st_size, etag, media, part)


class FileService:
    def __init__(self, db: Database, data_dir: Path) -> None:
        self.db = db
        self.studies = data_dir / "studies"
        self.bin = data_dir / "recycle_bin"
        self.captures = data_dir / "cache" / "capture"

    def _folder(self, study_id: str, in_bin: bool) -> Path:
        return (self.bin if in_bin else self.studies) / study_id

    async def dcm_path(self, name: str) -> Path:
        check_name("dcmfilename", name, ".dcm")
        owner = await self.db.read(lambda c: repo.owner_of_dcm(c, name))
        if owner is None:
            raise not_found("dcmfilename", name)
        return _inside(self._folder(*owner), name, "dcmfilename")

    async def thumbnail_path(self, name: str) -> Path:
        check_name("filename", name, ".webp")
        owner = await self.db.read(lambda c: repo.owner_of_thumbnail(c, name))
        if owner is None:
            raise not_found("filename", name)
        return _inside(self._folder(*owner), name, "filename")

    async def capture_path(self, name: str) -> Path:
        """`<sop>.png`: the image as displayed (its DICOM window applied), full size, 8 bits; rendered
        from the DICOM file on first request and kept under <data_dir>/cache/capture/ until the DICOM
        file changes."""
        check_name("filename", name, ".png")
        sop = name[: -len(".png")]
        found = await self.db.read(lambda c: repo.image_of_capture(c, sop))
        if found is None:
            raise not_found("filename", name)
        study_id, in_bin, dcm_name = found
        dcm = _inside(self._folder(study_id, in_bin), dcm_name, "filename")
        target = self.captures / name
        await asyncio.to_thread(_render_capture, dcm, target)
        return target

    async def read(self, path: Path, field: str, range_header: str | None, if_none_match: str | None) -> FilePart:
        try:
            return await asyncio.to_thread(read_part, path, range_header, if_none_match)
        except FileNotFoundError:
            raise not_found(field, path.name) from None
        except Unsatisfiable:
            raise


def _render_capture(dcm: Path, target: Path) -> None:
    try:
        dcm_mtime = dcm.stat().st_mtime_ns
    except FileNotFoundError:
        raise FileNotFoundError(dcm.name) from None
    try:
        if target.stat().st_mtime_ns >= dcm_mtime:
            return
    except FileNotFoundError:
        pass
    import pydicom
    from PIL import Image

    ds = pydicom.dcmread(dcm)
    pixels = ds.pixel_array.astype(np.float32)
    bits = int(getattr(ds, "BitsStored", 16))
    center = _first(getattr(ds, "WindowCenter", None), (2**bits) / 2)
    width = max(_first(getattr(ds, "WindowWidth", None), float(2**bits)), 1.0)
    # DICOM linear VOI function (PS3.3 C.11.2.1.2.1)
    out = np.clip(((pixels - (center - 0.5)) / (width - 1) + 0.5) * 255.0, 0, 255).astype(np.uint8)
    if getattr(ds, "PhotometricInterpretation", "MONOCHROME2") == "MONOCHROME1":
        out = 255 - out
    durable_write(target, lambda tmp: Image.fromarray(out).save(tmp, format="PNG", compress_level=1))


def _first(value: object, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, str | int | float):
        return float(value)
    return float(next(iter(value)))  # type: ignore[call-overload]  # a multi-valued DS
