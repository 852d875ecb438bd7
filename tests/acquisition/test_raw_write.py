"""The raw frame's write path (dros.direct_io through worker.keep_raw): byte-exact files for aligned and
unaligned buffers and for sizes that are not a whole number of blocks, and the checksum of those bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from dros.acquisition import worker
from dros.direct_io import aligned_empty


def test_aligned_buffer_starts_on_a_page_and_views_name_it_as_base() -> None:
    buf = aligned_empty(3 * 4096 + 10)
    assert buf.ctypes.data % 4096 == 0 and buf.size == 3 * 4096 + 10
    pixels = buf[:-10].view("<u2").reshape(64, -1)
    assert pixels.base is buf  # the detector pool's reference count sees a held frame


@pytest.mark.parametrize(
    "shape, aligned",
    [((512, 512), True), ((512, 512), False), ((301, 257), True), ((301, 257), False)],
)
def test_keep_raw_writes_exactly_the_frame(tmp_path: Path, shape: tuple[int, int], aligned: bool) -> None:
    rng = np.random.default_rng(shape[0])
    frame = rng.integers(0, 65536, size=shape, dtype=np.uint16)
    if aligned:
        buf = aligned_empty(frame.nbytes).view("<u2").reshape(shape)
        buf[:] = frame
        frame = buf
    path = tmp_path / "x.raw"
    sha = worker.keep_raw(path, frame)
    data = path.read_bytes()
    assert data == frame.astype("<u2").tobytes()
    assert sha == hashlib.sha256(data).hexdigest()
    assert not list(tmp_path.glob(".*.part"))
    assert np.array_equal(worker.load_raw(path, shape[0], shape[1], sha), frame)
