"""Durable file writes: temporary name in the target folder → fsync → rename → fsync of the folder.

A crash or an error at any point leaves either no file or the whole file under its final name, never
a half-written one a client can fetch. Temporary names end in `.part`; the start-up repair removes
any left in a study folder.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path


def fsync_dir(directory: Path) -> None:
    """Makes the rename itself durable (the directory entry), not only the file's bytes."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def durable_write(path: Path, write: Callable[[Path], None]) -> None:
    """`write(tmp)` writes the file under a temporary name; it is fsynced and renamed to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # unique per call: two writers of the same name in one process never share a temporary file
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def durable_write_bytes(path: Path, data: bytes) -> None:
    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    durable_write(path, write)
