"""glibc's allocator keeps a frame's memory for the next one instead of handing it back to the kernel
at every release (the release ran on the event loop and cost it 1.7-3.4 ms per exposure)."""

from __future__ import annotations

import json
import platform
import subprocess
import sys

import pytest

from dros.runtime.allocator import MMAP_THRESHOLD

# A fresh process allocates three 3072² frames' worth of buffers (uint16 image, two masks) on a
# worker thread, as rayon does, frees them, and reports glibc's own account (mallinfo2): bytes in
# separate mappings, free bytes kept in the heap, and the process's resident size before and after.
SCENARIO = """
import ctypes, json, sys, threading
import numpy as np
from dros.runtime.allocator import tune_allocator
tuned = tune_allocator() if sys.argv[1] == "tuned" else False

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2

def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096

held = []
def allocate():
    held.extend([np.ones((3072, 3072), np.uint16), np.ones((3072, 3072), bool), np.ones((3072, 3072), bool)])
t = threading.Thread(target=allocate); t.start(); t.join()
during = libc.mallinfo2()
before = rss()
held.clear()  # released on this (the "loop") thread, as the service releases a result
after = libc.mallinfo2()
print(json.dumps({"tuned": tuned, "mapped_during": during.hblkhd, "mapped_after": after.hblkhd,
                  "free_kept": after.fordblks, "rss_drop": before - rss()}))
"""

GLIBC = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="not glibc: mallopt's parameters differ")
FRAME_BUFFERS = 3072 * 3072 * 2 + 2 * 3072 * 3072  # 37.7 MB


def _run(mode: str) -> dict[str, int]:
    out = subprocess.run([sys.executable, "-c", SCENARIO, mode], capture_output=True, text=True, timeout=60, check=True)
    return dict(json.loads(out.stdout))


@GLIBC
def test_tuned_process_keeps_released_frames_in_its_heap() -> None:
    tuned = _run("tuned")
    assert tuned["tuned"]
    assert tuned["mapped_during"] < MMAP_THRESHOLD, "frame buffers were still given their own mappings"
    assert tuned["free_kept"] >= FRAME_BUFFERS * 0.95, "released frames were not kept for the next exposure"
    assert tuned["rss_drop"] < FRAME_BUFFERS * 0.05, "released frames went back to the kernel"


@GLIBC
def test_untuned_process_hands_frames_back_to_the_kernel() -> None:
    """The scenario can tell the difference: by default the same release unmaps the memory."""
    plain = _run("plain")
    assert not plain["tuned"]
    assert plain["mapped_during"] >= 3072 * 3072 * 2
    assert plain["rss_drop"] >= 3072 * 3072 * 2 * 0.9
