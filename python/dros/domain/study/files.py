"""Where image files live, how they move with their study, and the start-up repair.

    <data>/studies/<study_id>/<sop>.{dcm,webp,raw}   files of live studies
    <data>/recycle_bin/<study_id>/…                  files of studies in the recycle bin
    <data>/recycle_bin/views/<sop>.*                 files of deleted views of live studies

The database is the truth. Moves happen before the commit that records them, so a crash between
the two leaves files on the "wrong" side; `reconcile` puts them where the rows say, and removes
what no row refers to any more (the leftovers of a purge that crashed after its commit).
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from dros.store.db import Conn

log = logging.getLogger("dros.files")

FILE_SUFFIXES = (".dcm", ".webp", ".raw")


class StudyFiles:
    def __init__(self, data_dir: Path) -> None:
        self.studies = data_dir / "studies"
        self.bin = data_dir / "recycle_bin"
        self.deleted_views = self.bin / "views"
        for d in (self.studies, self.bin, self.deleted_views):
            d.mkdir(parents=True, exist_ok=True)

    # -- paths --------------------------------------------------------------------------------
    def live_dir(self, study_id: str) -> Path:
        return self.studies / _safe(study_id)

    def bin_dir(self, study_id: str) -> Path:
        return self.bin / _safe(study_id)

    def image_files(self, study_id: str, sop_uid: str, deleted_study: bool = False) -> list[Path]:
        base = self.bin_dir(study_id) if deleted_study else self.live_dir(study_id)
        return [p for p in (base / f"{_safe(sop_uid)}{s}" for s in FILE_SUFFIXES) if p.exists()]

    # -- moves (each a rename on one file system: atomic per directory) ------------------------
    def move_study_to_bin(self, study_id: str) -> None:
        _move(self.live_dir(study_id), self.bin_dir(study_id))

    def move_study_from_bin(self, study_id: str) -> None:
        _move(self.bin_dir(study_id), self.live_dir(study_id))

    def purge_study(self, study_id: str) -> None:
        shutil.rmtree(self.bin_dir(study_id), ignore_errors=True)

    def move_view_to_bin(self, study_id: str, sop_uid: str) -> None:
        for path in self.image_files(study_id, sop_uid):
            os.replace(path, self.deleted_views / path.name)

    def move_view_from_bin(self, study_id: str, sop_uid: str) -> None:
        target = self.live_dir(study_id)
        for suffix in FILE_SUFFIXES:
            src = self.deleted_views / f"{_safe(sop_uid)}{suffix}"
            if src.exists():
                target.mkdir(parents=True, exist_ok=True)
                os.replace(src, target / src.name)

    def purge_view(self, sop_uid: str) -> None:
        for suffix in FILE_SUFFIXES:
            (self.deleted_views / f"{_safe(sop_uid)}{suffix}").unlink(missing_ok=True)

    def bin_size(self) -> int:
        return _tree_size(self.bin)

    # -- start-up repair ------------------------------------------------------------------------
    def reconcile(self, conn: Conn) -> dict[str, int]:
        studies = dict(conn.execute("SELECT study_id, is_deleted FROM study").fetchall())
        views = {
            sop: (study_id, deleted)
            for sop, study_id, deleted in conn.execute(
                "SELECT sop_instance_uid, study_id, is_deleted FROM image"
            ).fetchall()
        }
        done = {"moved_to_bin": 0, "moved_back": 0, "removed": 0}
        for d in list(self.studies.iterdir()):
            state = studies.get(d.name)
            if state is None:
                shutil.rmtree(d, ignore_errors=True)
                done["removed"] += 1
            elif state:
                _move(d, self.bin_dir(d.name))
                done["moved_to_bin"] += 1
        for d in list(self.bin.iterdir()):
            if d == self.deleted_views or not d.is_dir():
                continue
            state = studies.get(d.name)
            if state is None:
                shutil.rmtree(d, ignore_errors=True)
                done["removed"] += 1
            elif not state:
                _move(d, self.live_dir(d.name))
                done["moved_back"] += 1
        for f in list(self.deleted_views.iterdir()):
            sop = f.name.rsplit(".", 1)[0]
            owner = views.get(sop)
            if owner is None:
                f.unlink(missing_ok=True)
                done["removed"] += 1
            elif not owner[1] and studies.get(owner[0]) is False:
                self.move_view_from_bin(owner[0], sop)
                done["moved_back"] += 1
        for sop, (study_id, deleted) in views.items():
            if deleted and studies.get(study_id) is False and self.image_files(study_id, sop):
                self.move_view_to_bin(study_id, sop)
                done["moved_to_bin"] += 1
        if any(done.values()):
            log.warning("image files repaired at start: %s", done)
        return done


def _safe(name: str) -> str:
    """A single path component: refuses separators and dot-names (path traversal)."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
        raise ValueError(f"not a plain file name: {name!r}")
    return name


def _move(src: Path, dst: Path) -> None:
    if not src.exists():
        return
    if dst.exists():
        # a previous, interrupted move left part of the files on each side: merge
        for child in src.iterdir():
            os.replace(child, dst / child.name)
        src.rmdir()
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.replace(src, dst)


def _tree_size(root: Path) -> int:
    total = 0
    for dirpath, _, names in os.walk(root):
        for n in names:
            try:
                total += os.stat(os.path.join(dirpath, n)).st_size
            except OSError:
                pass
    return total


def human_size(n: int) -> str:
    """1024-based with two decimals, as the reference shows (`226.36 GB`, `0.00 KB`)."""
    units = ["KB", "MB", "GB", "TB", "PB"]
    value = n / 1024
    for unit in units:
        if value < 1024 or unit == units[-1]:
            return f"{value:.2f} {unit}"
        value /= 1024
    return f"{value:.2f} PB"
