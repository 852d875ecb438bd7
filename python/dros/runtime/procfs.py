"""What a process has open, read from /proc (Linux): the targets of its file-descriptor links."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


def open_targets(pid: int) -> Iterator[str]:
    """The link target of each descriptor process `pid` has open (a path, `socket:[inode]`, …);
    nothing when the process is gone or its descriptors cannot be read."""
    fd_dir = f"/proc/{pid}/fd"
    try:
        fds = os.listdir(fd_dir)
    except OSError:
        return
    for fd in fds:
        with contextlib.suppress(OSError):  # closed between the listing and the read
            yield os.readlink(f"{fd_dir}/{fd}")
