"""Command lines from a simulator's standard input, read on the event loop.

The descriptor is read with `os.read`, never `sys.stdin.readline()`: a buffered reader pulls every line
that has arrived into its own buffer but returns only the first, and the selector never reports the fd
readable again for the rest — two commands in one write would lose the second.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable


def watch(loop: asyncio.AbstractEventLoop, fd: int, on_line: Callable[[list[str]], None]) -> Callable[[], None]:
    """Call `on_line(words)` for every non-empty line arriving on `fd`; returns the function that stops it."""
    pending = bytearray()

    def readable() -> None:
        try:
            data = os.read(fd, 4096)
        except BlockingIOError:
            return
        if not data:  # end of input: nothing more will come
            loop.remove_reader(fd)
            return
        pending.extend(data)
        while (end := pending.find(b"\n")) >= 0:
            words = pending[:end].decode("utf-8", "replace").split()
            del pending[: end + 1]
            if words:
                on_line(words)

    def stop() -> None:
        with contextlib.suppress(ValueError, OSError):
            loop.remove_reader(fd)

    with contextlib.suppress(ValueError, OSError):  # no usable stdin (closed, a file): no commands
        loop.add_reader(fd, readable)
    return stop
