"""glibc's allocator tuned for a process that handles 20-40 MB frames several times a second.

By default glibc serves blocks over its (adaptive) mmap threshold with their own mapping and
gives freed memory back to the kernel as soon as the free space at a heap's top passes its trim
threshold; each thread that allocates also gets an arena of its own. The imaging chain's results
(a 3072² frame and its two masks: 38 MB) are allocated by rayon's threads and released on the
event loop when an exposure ends, and giving them back to the kernel there cost the loop
1.7-3.4 ms of CPU per exposure (`bench_acquisition`: the longest loop step of an exposure).
With one arena, blocks up to 32 MiB from the heap and 256 MiB of free heap kept for the next
frame, that release costs 0.02 ms and the next exposure finds its memory already mapped.
The price is a resident size that stays at the chain's high-water mark between exposures.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger("dros.runtime")

# mallopt(3) parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8

ARENA_MAX = 1
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's upper bound on 64-bit systems
TRIM_THRESHOLD = 256 * 1024 * 1024


def tune_allocator() -> bool:
    """Apply the settings above to this process (threads started later share the one arena).
    False where the C library is not glibc."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
        gnu = libc.gnu_get_libc_version  # glibc only: mallopt's parameters differ elsewhere
    except (OSError, AttributeError):
        return False
    gnu.restype = ctypes.c_char_p
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    done = all(
        mallopt(param, value) == 1
        for param, value in (
            (_M_ARENA_MAX, ARENA_MAX),
            (_M_MMAP_THRESHOLD, MMAP_THRESHOLD),
            (_M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        )
    )
    log.debug("glibc %s allocator tuned: %s", gnu().decode(), done)
    return done
