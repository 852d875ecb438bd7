"""Child process for the crash tests: runs one study operation and SIGKILLs itself at the named
point — after the files moved, before the rows commit (or after the commit, before the files go)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from dros.domain.study.files import StudyFiles
from dros.domain.study.service import StudyService
from dros.lifespan import open_store
from dros.settings import Settings


def die(*_args, **_kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


def main(data_dir: str, operation: str, study_id: str) -> None:
    settings = Settings.load(environ={}, overrides={"data_dir": data_dir, "log_level": "WARNING"})
    db = open_store(settings)
    service = StudyService(db, settings)
    if operation in ("delete", "restore"):
        # the move happens, then the process dies before the commit that records it
        move = StudyFiles.move_study

        def move_then_die(self: StudyFiles, sid: str, *, to_bin: bool) -> None:
            move(self, sid, to_bin=to_bin)
            die()

        StudyFiles.move_study = move_then_die  # type: ignore[method-assign]
        coro = service.delete_to_bin([study_id]) if operation == "delete" else service.restore([study_id])
    elif operation == "save_as":
        # the partial copy is written, then the process dies before renaming it (study_id: the sop)
        from dros.domain.study import dicom_copy

        dicom_copy.os.replace = die  # type: ignore[assignment]
        coro = service.save_as(study_id, dicom_copy.copy_with_new_uids)
    elif operation == "purge":
        # the rows are gone (committed), the process dies before the files are removed
        StudyFiles.purge = die  # type: ignore[method-assign]
        coro = service.purge([study_id])
    else:
        raise SystemExit(f"unknown operation {operation}")
    asyncio.run(coro)
    raise SystemExit("the operation finished without reaching the crash point")


if __name__ == "__main__":
    main(*sys.argv[1:4])
