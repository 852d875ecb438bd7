"""Writing a study's document instances: files first (each atomically), then the rows in one
transaction that re-checks the study; on any failure the files written so far are removed.

Each write holds its study's lock (dros.domain.study.locks, shared with the study service's
deletes, restores and purges), from the check of the study to the commit: two saves never pick the
same series or instance number, and a study never moves or vanishes under a write."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from PIL import Image

from dros import _core
from dros.domain.document import repo
from dros.domain.document.dicom_common import Equipment, StudyIdentity
from dros.domain.document.files import remove_all
from dros.domain.study.locks import study_locks
from dros.durable import durable_write, durable_write_bytes
from dros.errors import DrosError, ErrorCode, not_found
from dros.settings import Settings
from dros.store.db import Conn, Database

T = TypeVar("T")

THUMBNAIL_SIZE = 512  # the longest side, as the views' thumbnails


def locked_error(study_id: str, field: str) -> DrosError:
    return DrosError(ErrorCode.LOCKED, field=field, en=f"study {study_id} is locked", zh=f"检查 {study_id} 已锁定")


def live_identity(conn: Conn, study_id: str, field: str, *, writable: bool) -> StudyIdentity:
    study = repo.study_identity(conn, study_id)
    if study is None:
        raise not_found(field, study_id)
    if writable and study.study_lock == "Locked":
        raise locked_error(study_id, field)
    return study


class DocumentStore:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.studies_dir = settings.data_path / "studies"
        self.locks = study_locks(db)

    @property
    def equipment(self) -> Equipment:
        return Equipment(self.settings.dicom.institution_name, self.settings.dicom.station_name)

    def new_uid(self) -> str:
        return _core.generate_uid(self.settings.dicom.uid_root)

    def study_dir(self, study_id: str) -> Path:
        if not study_id or study_id in (".", "..") or "/" in study_id or "\\" in study_id or "\x00" in study_id:
            raise ValueError(f"not a plain study id: {study_id!r}")
        return self.studies_dir / study_id

    async def store(self, files: list[tuple[Path, bytes | Callable[[Path], None]]], commit: Callable[[Conn], T]) -> T:
        """Writes `files` (bytes, or a writer called with a temporary path), then runs `commit` in
        one write transaction; removes every written file if anything fails."""
        written: list[Path] = []
        created_dirs = await asyncio.to_thread(lambda: [p.parent for p, _ in files if not p.parent.exists()])
        try:
            for path, content in files:
                if isinstance(content, bytes):
                    await asyncio.to_thread(durable_write_bytes, path, content)
                else:
                    await asyncio.to_thread(durable_write, path, content)
                written.append(path)
            return await self.db.write(commit)
        except BaseException:
            await asyncio.to_thread(remove_all, written)
            for d in created_dirs:
                try:
                    d.rmdir()  # only when still empty: a folder this request created for nothing
                except OSError:
                    pass
            raise


def grey_thumbnail_writer(pixels: npt.NDArray[np.uint16], center: float, width: float) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        _core.write_thumbnail(str(path), pixels, center, width, THUMBNAIL_SIZE)

    return write


def photo_thumbnail_writer(pixels: npt.NDArray[np.uint8]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        img = Image.fromarray(pixels)
        img.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.BOX)
        img.save(path, format="WEBP", lossless=True)

    return write
