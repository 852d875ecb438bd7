"""Where image files live, how they move with their study, and the start-up repair.

    <data>/studies/<study_id>/<sop>.{dcm,webp,raw}   files of live studies
    <data>/recycle_bin/<study_id>/…                  files of studies in the recycle bin
    <data>/recycle_bin/views/<sop>.*                 files of deleted views of live studies
    <data>/quarantine/<time>/<original path>         what the repair found no row for

The database is the truth. Moves happen before the commit that records them, so a crash between
the two leaves files on the "wrong" side; `reconcile` puts them where the rows say. A permanent
delete journals its removals in the commit that removes the rows (`file_purge`), so a crash
before the files are gone is finished at the next start. Anything else no row refers to — a
restored backup, a database mishap — is never deleted: it goes to the quarantine, with a log line
and a `file_quarantine` row service users can see. Temporary files of interrupted writers
(`*.part`, `*.tmp`) hold no image yet and are removed.
"""

from __future__ import annotations

import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from dros.domain.study import repo
from dros.domain.study.schemas import QuarantineEntry
from dros.store.db import Conn

log = logging.getLogger("dros.files")

# a view's files: its DICOM, thumbnail, raw frame — and a report instance's PDF (`<sop>.pdf`)
FILE_SUFFIXES = (".dcm", ".webp", ".raw", ".pdf")
# what atomic writers leave behind when they die before their rename: never an image yet
TEMP_SUFFIXES = (".part", ".tmp")


class StudyFiles:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.studies = data_dir / "studies"
        self.bin = data_dir / "recycle_bin"
        self.deleted_views = self.bin / "views"
        self.quarantine = data_dir / "quarantine"
        for d in (self.studies, self.bin, self.deleted_views):
            d.mkdir(parents=True, exist_ok=True)

    # -- paths --------------------------------------------------------------------------------
    def live_dir(self, study_id: str) -> Path:
        return self.studies / _safe(study_id)

    def bin_dir(self, study_id: str) -> Path:
        return self.bin / _safe(study_id)

    def study_dir(self, study_id: str, *, in_bin: bool) -> Path:
        return self.bin_dir(study_id) if in_bin else self.live_dir(study_id)

    def image_files(self, study_id: str, sop_uid: str, deleted_study: bool = False) -> list[Path]:
        base = self.study_dir(study_id, in_bin=deleted_study)
        return [p for p in (base / f"{_safe(sop_uid)}{s}" for s in FILE_SUFFIXES) if p.exists()]

    # -- moves (each a rename on one file system: atomic per directory) ------------------------
    def move_study(self, study_id: str, *, to_bin: bool) -> None:
        """The study's folder to the recycle bin (to_bin) or back beside the live studies."""
        _move(self.study_dir(study_id, in_bin=not to_bin), self.study_dir(study_id, in_bin=to_bin))

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

    def purge(self, kind: str, name: str) -> None:
        """Carries out one journaled removal (see repo.purge)."""
        if kind == "study":
            self.purge_study(name)
        elif kind == "view":
            self.purge_view(name)
        else:
            raise ValueError(f"unknown purge kind {kind!r}")

    def bin_size(self) -> int:
        return _tree_size(self.bin)

    # -- start-up repair ------------------------------------------------------------------------
    def reconcile(self, conn: Conn) -> dict[str, int]:
        """Runs at start, before anything writes files: every file where its row says, journaled
        removals finished, temporary files removed, and the unknown quarantined."""
        done = {"moved_to_bin": 0, "moved_back": 0, "purged": 0, "temp_removed": 0, "quarantined": 0}
        pending = repo.pending_purges(conn)
        for kind, name in pending:
            self.purge(kind, name)
            done["purged"] += 1
        repo.forget_purges(conn, pending)

        studies, views = repo.file_owners(conn)
        quarantine = _Quarantine(self.data_dir, self.quarantine)
        for root in (self.studies, self.bin):
            for d in sorted(root.iterdir()):
                if d == self.deleted_views:
                    continue
                if not d.is_dir():
                    continue  # the layout has only folders here; a stray file is nobody's image
                done["temp_removed"] += _remove_temp_files(d)
                deleted = studies.get(d.name)
                if deleted is None:
                    quarantine.add(d, "study_folder", "no study row refers to this folder")
                elif root == self.studies and deleted:
                    _move(d, self.bin_dir(d.name))
                    done["moved_to_bin"] += 1
                elif root == self.bin and not deleted:
                    _move(d, self.live_dir(d.name))
                    done["moved_back"] += 1
        done["temp_removed"] += _remove_temp_files(self.deleted_views)
        for f in sorted(self.deleted_views.iterdir()):
            owner = views.get(f.name.split(".", 1)[0])
            if owner is None:
                quarantine.add(f, "image_file", "no image row refers to this deleted view")
            elif not owner[1] and studies.get(owner[0]) is False:
                self.move_view_from_bin(owner[0], f.name.split(".", 1)[0])
                done["moved_back"] += 1
        for sop, (study_id, deleted) in views.items():
            if deleted and studies.get(study_id) is False and self.image_files(study_id, sop):
                self.move_view_to_bin(study_id, sop)
                done["moved_to_bin"] += 1
        repo.record_quarantine(conn, quarantine.entries)
        done["quarantined"] = len(quarantine.entries)
        if any(done.values()):
            log.warning("image files repaired at start: %s", done)
        return done


class _Quarantine:
    """One folder per start, `quarantine/<UTC time>/`, mirroring the data directory's layout."""

    def __init__(self, data_dir: Path, root: Path) -> None:
        self.data_dir = data_dir
        self.now = datetime.now(UTC)
        self.folder = root / self.now.strftime("%Y%m%dT%H%M%S.%fZ")
        self.entries: list[QuarantineEntry] = []

    def add(self, path: Path, kind: str, reason: str) -> None:
        relative = path.relative_to(self.data_dir)
        target = self.folder / relative
        files, size = (_tree_count(path), _tree_size(path)) if path.is_dir() else (1, path.stat().st_size)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        entry = QuarantineEntry(
            quarantined_at=self.now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            original_path=relative.as_posix(),
            quarantine_path=target.relative_to(self.data_dir).as_posix(),
            kind=kind,
            files=files,
            bytes=size,
            reason=reason,
        )
        self.entries.append(entry)
        log.warning(
            "quarantined %s (%d files, %d bytes): %s; kept in %s",
            entry.original_path,
            files,
            size,
            reason,
            entry.quarantine_path,
        )


def _remove_temp_files(folder: Path) -> int:
    removed = 0
    for f in folder.iterdir():
        if f.is_file() and f.name.endswith(TEMP_SUFFIXES):
            log.warning("removed the temporary file %s left by an interrupted write", f)
            f.unlink(missing_ok=True)
            removed += 1
    return removed


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


def _tree_count(root: Path) -> int:
    return sum(len(names) for _, _, names in os.walk(root))


def human_size(n: int) -> str:
    """1024-based with two decimals, as the reference shows (`226.36 GB`, `0.00 KB`)."""
    units = ["KB", "MB", "GB", "TB", "PB"]
    value = n / 1024
    for unit in units:
        if value < 1024 or unit == units[-1]:
            return f"{value:.2f} {unit}"
        value /= 1024
    return f"{value:.2f} PB"
