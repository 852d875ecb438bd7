"""WebP thumbnails from `dros._core.write_thumbnail`: the DICOM linear window, an area-averaging
downscale to longest side `size`, lossless WebP. Checked against a NumPy reference of the same
definition, decoded with Pillow's libwebp."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dros import _core


def window(img: np.ndarray, center: float, width: float) -> np.ndarray:
    """PS3.3 C.11.2.1.2.1 linear VOI function onto 0..255."""
    x = img.astype(np.float64)
    lo, hi = center - 0.5 - (width - 1) / 2, center - 0.5 + (width - 1) / 2
    y = ((x - (center - 0.5)) / (width - 1) + 0.5) * 255 if width > 1 else np.zeros_like(x)
    return np.where(x <= lo, 0.0, np.where(x > hi, 255.0, y))


def area_matrix(src: int, dst: int) -> np.ndarray:
    """dst × src matrix: the fraction of each source sample inside each output sample."""
    edges = np.arange(dst + 1) * (src / dst)
    lo, hi = edges[:-1, None], edges[1:, None]
    i = np.arange(src)[None, :]
    overlap = np.clip(np.minimum(hi, i + 1) - np.maximum(lo, i), 0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def reference(img: np.ndarray, center: float, width: float, out_shape: tuple[int, int]) -> np.ndarray:
    w = window(img, center, width)
    small = area_matrix(img.shape[0], out_shape[0]) @ w @ area_matrix(img.shape[1], out_shape[1]).T
    return np.clip(np.rint(small), 0, 255).astype(np.uint8)


def frame(rows: int, cols: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:rows, 0:cols]
    img = 2000 + 6000 * (x / cols) + 3000 * np.sin(y / rows * 7) + rng.normal(0, 300, (rows, cols))
    return np.clip(img, 0, 65535).astype(np.uint16)


def read(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        assert im.format == "WEBP"
        return np.asarray(im.convert("L"))


@pytest.mark.parametrize(
    "shape, size, out_shape",
    [
        ((3072, 3072), 512, (512, 512)),  # integer factor 6
        ((1100, 900), 256, (256, 209)),  # non-integer factors, portrait
        ((700, 1001), 300, (210, 300)),  # landscape
    ],
)
def test_matches_reference(tmp_path: Path, shape: tuple[int, int], size: int, out_shape: tuple[int, int]) -> None:
    img = frame(*shape)
    path = tmp_path / "t.webp"
    _core.write_thumbnail(str(path), img, 6000.0, 9000.0, size)
    got = read(path)
    assert got.shape == out_shape
    want = reference(img, 6000.0, 9000.0, out_shape)
    # float32 accumulation vs float64: at most a rounding step apart, and rarely
    diff = np.abs(got.astype(int) - want.astype(int))
    assert diff.max() <= 1 and (diff > 0).mean() < 0.01


def test_window_clips_before_averaging(tmp_path: Path) -> None:
    img = np.zeros((64, 64), np.uint16)
    img[:, 32:] = 60000
    _core.write_thumbnail(tmp_path / "t.webp", img, 1000.0, 100.0, 32)
    got = read(tmp_path / "t.webp")
    assert (got[:, :16] == 0).all() and (got[:, 16:] == 255).all()


def test_small_images_are_not_enlarged_and_default_size_is_512(tmp_path: Path) -> None:
    _core.write_thumbnail(tmp_path / "a.webp", frame(100, 80), 5000.0, 8000.0)
    assert read(tmp_path / "a.webp").shape == (100, 80)
    _core.write_thumbnail(tmp_path / "b.webp", frame(1030, 2050), 5000.0, 8000.0)
    assert read(tmp_path / "b.webp").shape == (257, 512)


def test_strided_input(tmp_path: Path) -> None:
    img = frame(600, 400)
    _core.write_thumbnail(tmp_path / "a.webp", img.T, 5000.0, 8000.0, 100)
    _core.write_thumbnail(tmp_path / "b.webp", np.ascontiguousarray(img.T), 5000.0, 8000.0, 100)
    np.testing.assert_array_equal(read(tmp_path / "a.webp"), read(tmp_path / "b.webp"))


@pytest.mark.parametrize(
    "img, center, width, size, exc",
    [
        (np.zeros((64, 64), np.float32), 1.0, 10.0, 512, TypeError),
        (np.zeros((4, 64, 64), np.uint16), 1.0, 10.0, 512, ValueError),
        (np.zeros((64, 64), np.uint16), 1.0, 0.0, 512, ValueError),
        (np.zeros((64, 64), np.uint16), float("nan"), 10.0, 512, ValueError),
        (np.zeros((64, 64), np.uint16), 1.0, 10.0, 0, ValueError),
        (np.zeros((64, 64), np.uint16), 1.0, 10.0, 20000, ValueError),
    ],
)
def test_bad_input(
    tmp_path: Path, img: np.ndarray, center: float, width: float, size: int, exc: type[Exception]
) -> None:
    with pytest.raises(exc):
        _core.write_thumbnail(tmp_path / "t.webp", img, center, width, size)
    assert not (tmp_path / "t.webp").exists()
