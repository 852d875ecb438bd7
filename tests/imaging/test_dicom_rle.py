"""RLE Lossless frames from `dros._core.encode_rle` (PS3.5 Annex G): byte for byte what the
independent pylibjpeg-rle encoder produces, decodable by pylibjpeg-rle and by pydicom's own
decoder, for frames that exercise every PackBits case."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from pydicom.pixels.decoders.rle import _rle_decode_frame
from rle.utils import decode_pixel_data, encode_pixel_data

from dros import _core


def frames() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:300, 0:257]
    runs = np.repeat(rng.integers(0, 65535, (300, 3)), [100, 130, 27], axis=1).astype(np.uint16)
    return {
        "noise": rng.integers(0, 65536, (300, 257), dtype=np.uint16),
        "gradient+noise": ((y * 40 + x * 3) + rng.integers(0, 16, (300, 257))).astype(np.uint16),
        "zeros": np.zeros((64, 64), np.uint16),
        "max": np.full((64, 300), 0xFFFF, np.uint16),
        "runs-over-128": runs,
        "one-row": rng.integers(0, 4, (1, 1000), dtype=np.uint16),
        "one-column": rng.integers(0, 4, (999, 1), dtype=np.uint16),
        "odd": rng.integers(0, 3, (3, 3), dtype=np.uint16),
    }


def reference(img: np.ndarray) -> bytes:
    rows, cols = img.shape
    return encode_pixel_data(
        img.tobytes(), rows=rows, columns=cols, samples_per_pixel=1, bits_allocated=16, byteorder="<"
    )


@pytest.mark.parametrize("name", list(frames()))
def test_identical_to_pylibjpeg_rle_and_decodable(name: str) -> None:
    img = frames()[name]
    rows, cols = img.shape
    ours = _core.encode_rle(img)
    assert ours == reference(img)
    assert len(ours) % 2 == 0
    n_segments, first, second = struct.unpack("<3I", ours[:12])
    assert (n_segments, first) == (2, 64) and 64 < second < len(ours)
    assert ours[12:64] == bytes(52)

    back = np.frombuffer(
        decode_pixel_data(ours, version=2, rows=rows, columns=cols, bits_allocated=16, samples_per_pixel=1), "<u2"
    )
    np.testing.assert_array_equal(back.reshape(rows, cols), img)
    # pydicom's own pure-Python decoder (a third implementation); segment order ">" is the
    # standard one (most significant byte first), the result is little-endian.
    raw = _rle_decode_frame(ours, rows, cols, nr_samples=1, nr_bits=16, segment_order=">")
    np.testing.assert_array_equal(np.frombuffer(raw, "<u2").reshape(rows, cols), img)


def test_compresses_smooth_images() -> None:
    img = frames()["gradient+noise"]
    assert img.nbytes / len(_core.encode_rle(img)) > 1.4
    # per row and segment: four full 128-byte replicate runs of 2 bytes each
    assert len(_core.encode_rle(np.zeros((512, 512), np.uint16))) == 64 + 2 * 512 * 4 * 2


def test_strided_and_read_only_views_encode_like_their_copy() -> None:
    img = frames()["gradient+noise"]
    ro = img.copy()
    ro.flags.writeable = False
    for view in (img.T, img[::2, 1::3], ro):
        assert _core.encode_rle(view) == _core.encode_rle(np.ascontiguousarray(view))


@pytest.mark.parametrize(
    "arr, exc",
    [
        (np.zeros((8, 8), np.uint8), TypeError),
        (np.zeros((8, 8), np.float64), TypeError),
        (np.zeros((2, 8, 8), np.uint16), ValueError),
        (np.zeros((0, 8), np.uint16), ValueError),
        ("not an array", TypeError),
    ],
)
def test_bad_input(arr: object, exc: type[Exception]) -> None:
    with pytest.raises(exc):
        _core.encode_rle(arr)  # type: ignore[arg-type]
