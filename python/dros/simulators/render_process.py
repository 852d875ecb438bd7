"""Phantom renders of the in-process detector simulator, done in a helper process.

Why: with `device.detector = simulator` the simulated panel lives in the service's process. A new view's
3072² phantom keeps the Rust thread pool busy on every core for 1–5 s; the event loop thread then waits
for a core and wakes up to 0.3 s late — measured with the loop-lag probe while the render ran in a
thread, the loop thread's own CPU staying under 1 ms. Rendered in a helper process at a lower scheduling
priority and with one core fewer for its thread pool, the render never competes with the loop on equal
terms; the pixels come back through shared memory (one copy in a worker thread, without the GIL).

The helper is `python -m dros.simulators.render_process`: one JSON request per line on its standard
input, one JSON reply per line on its standard output; it exits when its input closes (the service
stopped or died). Small panels (under `APART_MIN_PIXELS`) render in a few milliseconds and stay in-process.
"""

from __future__ import annotations

import atexit
import json
import mmap
import os
import subprocess
import sys
import tempfile
import threading
from typing import IO, Any

import numpy as np
import numpy.typing as npt

#: Frames from this size up are rendered apart (1024² and more).
APART_MIN_PIXELS = 1024 * 1024
_SHM = "/dev/shm"  # memory-backed files (Linux); elsewhere the temporary folder
#: Nice value of the helper process: the loop thread wins a core whenever it wakes.
RENDER_NICE = 10


class _Helper:
    def __init__(self) -> None:
        threads = max(1, (os.cpu_count() or 1) - 1)  # one core stays free for the service
        env = {**os.environ, "RAYON_NUM_THREADS": str(threads)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dros.simulators.render_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            preexec_fn=lambda: os.nice(RENDER_NICE),
        )

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        stdin, stdout = self.proc.stdin, self.proc.stdout
        assert stdin is not None and stdout is not None
        stdin.write(json.dumps(request).encode() + b"\n")
        stdin.flush()
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"the phantom render helper exited ({self.proc.wait()})")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()  # the helper's end of input: it exits
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


_helper: _Helper | None = None
_lock = threading.Lock()  # one render at a time through the one helper


def render_apart(
    kind: str, width: int, height: int, seed: int, dose_scale: float
) -> tuple[npt.NDArray[np.uint16], float]:
    """The phantom render in the helper process (blocking: call it from a worker thread)."""
    global _helper
    size = width * height * 2
    # a file in shared memory both processes map by name (multiprocessing's SharedMemory would start a
    # resource-tracker process on each side and the helper's would unlink the block at its exit)
    fd, path = tempfile.mkstemp(prefix="dros-phantom-", dir=_SHM if os.path.isdir(_SHM) else None)
    try:
        os.ftruncate(fd, size)
        with _lock:
            if _helper is None or _helper.proc.poll() is not None:
                _helper = _Helper()
                atexit.register(_helper.close)
            reply = _helper.call(
                {"path": path, "kind": kind, "width": width, "height": height, "seed": seed, "dose": dose_scale}
            )
        if "error" in reply:
            raise RuntimeError(f"phantom render failed: {reply['error']}")
        with mmap.mmap(fd, size, access=mmap.ACCESS_READ) as shared:
            raw = np.empty((height, width), dtype=np.uint16)
            np.copyto(raw, np.frombuffer(shared, dtype=np.uint16).reshape(height, width))
        return raw, float(reply["median"])
    finally:
        os.close(fd)
        os.unlink(path)


def helper_pid() -> int | None:
    """The helper process's id once it runs (tests)."""
    helper = _helper
    return None if helper is None or helper.proc.poll() is not None else helper.proc.pid


def _serve(requests: IO[bytes], replies: IO[bytes]) -> None:
    from dros.simulators.detector_frames import render_phantom

    for line in requests:
        try:
            req = json.loads(line)
            raw, median = render_phantom(req["kind"], req["width"], req["height"], req["seed"], req["dose"])
            out = np.memmap(req["path"], dtype=np.uint16, mode="r+", shape=raw.shape)
            out[...] = raw
            out.flush()
            del out
            answer: dict[str, Any] = {"median": median}
        except Exception as exc:  # the service gets the reason, the helper stays up
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        replies.write(json.dumps(answer).encode() + b"\n")
        replies.flush()


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
