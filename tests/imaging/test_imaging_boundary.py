"""The Python↔Rust boundary of the imaging chain (issue 5, "Bad input"; STYLE §12.8): wrong
dtype, wrong rank, empty, tiny and enormous frames raise TypeError/ValueError with a clear
message; read-only and non-contiguous arrays work and give the same result as a contiguous copy;
constant and all-zero frames have a defined result; a Rust panic surfaces as CorePanicError;
the GIL is released during `process`. Also: presets, raw file I/O, DICOM/thumbnail wrappers and
the `dros phantom` / `dros process` commands."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np
import pydicom
import pytest

from dros import _core, imaging
from dros.cli import main as cli_main
from dros.dx_metadata import DxMetadata


@pytest.fixture(scope="module")
def raw() -> np.ndarray:
    return imaging.phantom("rect", 640, 512, seed=11).raw


@pytest.mark.parametrize(
    "bad, exc, words",
    [
        (np.zeros((128, 128), np.float32), TypeError, "uint16"),
        (np.zeros((128, 128), np.int16), TypeError, "uint16"),
        (np.zeros((128, 128), np.uint8), TypeError, "uint16"),
        (np.zeros((128, 128), ">u2"), TypeError, "uint16"),
        ([[1, 2], [3, 4]], TypeError, "numpy.ndarray"),
        (None, TypeError, "numpy.ndarray"),
        (np.zeros((4, 128, 128), np.uint16), ValueError, "2-D"),
        (np.zeros(4096, np.uint16), ValueError, "2-D"),
        (np.zeros((0, 0), np.uint16), ValueError, "empty"),
        (np.zeros((0, 100), np.uint16), ValueError, "empty"),
        (np.zeros((63, 500), np.uint16), ValueError, "at least 64"),
        (np.zeros((500, 10), np.uint16), ValueError, "at least 64"),
        # Zero-stride views: "enormous" without allocating it.
        (np.broadcast_to(np.uint16(7), (20_000, 100)), ValueError, "too large"),
        (np.broadcast_to(np.uint16(7), (12_000, 12_000)), ValueError, "too large"),
    ],
)
@pytest.mark.parametrize("fn", [imaging.process, imaging.detect_collimation])
def test_bad_frames_raise_clear_errors(fn, bad, exc, words) -> None:
    with pytest.raises(exc, match=words):
        fn(bad)


@pytest.mark.parametrize(
    "bad, exc", [(np.zeros((128, 128), np.float64), TypeError), (np.zeros((8, 8), np.uint16), ValueError)]
)
def test_core_checks_too(bad, exc) -> None:
    """The Rust side enforces the same rules when called directly."""
    with pytest.raises(exc):
        _core.process(bad)


def test_bad_parameters(raw: np.ndarray) -> None:
    with pytest.raises(ValueError, match="unknown preset"):
        imaging.process(raw, preset="nope")
    for t in (0.0, -5.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="target_ei"):
            imaging.process(raw, target_ei=t)
    with pytest.raises(TypeError):
        imaging.process(raw, target_ei="250")  # type: ignore[arg-type]


def _same(a: imaging.ProcessResult, b: imaging.ProcessResult) -> None:
    assert np.array_equal(a.image, b.image)
    assert np.array_equal(a.field_mask, b.field_mask)
    assert (a.window_center, a.window_width, a.exposure_index) == (b.window_center, b.window_width, b.exposure_index)


def test_read_only_and_non_contiguous_arrays_work(raw: np.ndarray) -> None:
    ref = imaging.process(raw)
    ro = raw.copy()
    ro.setflags(write=False)
    _same(imaging.process(ro), ref)
    _same(imaging.process(np.asfortranarray(raw)), ref)
    big = np.zeros((raw.shape[0] * 2, raw.shape[1] * 2), np.uint16)
    big[::2, ::2] = raw
    strided = big[::2, ::2]
    assert not strided.flags.c_contiguous
    _same(imaging.process(strided), ref)
    flipped = raw[::-1, ::-1]
    r = imaging.process(flipped)
    _same(r, imaging.process(np.ascontiguousarray(flipped)))
    t = raw.T
    _same(imaging.process(t), imaging.process(np.ascontiguousarray(t)))
    assert imaging.detect_collimation(strided).kind == ref.collimation.kind


@pytest.mark.parametrize("value", [0, 1, 1000, 65535])
def test_constant_frames_have_a_defined_result(value: int) -> None:
    r = imaging.process(np.full((300, 400), value, np.uint16))
    assert r.collimation.kind == "none"
    assert (r.window_center, r.window_width) == (2048.0, 4096.0)
    assert r.field_mask.all() and not r.foreground_mask.any()
    assert r.exposure_index == pytest.approx(value / 10.0)
    if value == 0:
        assert r.deviation_index is None
    else:
        assert math.isfinite(r.deviation_index)
    assert np.unique(r.image).size == 1 and int(r.image.max()) <= 4095


def test_panic_becomes_core_panic_error() -> None:
    with pytest.raises(_core.CorePanicError, match="forced panic") as info:
        _core._force_panic()
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, Exception)


def test_gil_is_released_during_process() -> None:
    frame = imaging.phantom("rect", 3072, 3072, seed=5).raw
    done = threading.Event()
    ticks = 0

    def work() -> None:
        imaging.process(frame)
        done.set()

    th = threading.Thread(target=work)
    th.start()
    while not done.is_set():
        ticks += 1
        done.wait(0.001)
    th.join()
    # With the GIL held for the whole call this loop could not run at all meanwhile.
    assert ticks >= 5


def test_result_shape_and_types(raw: np.ndarray) -> None:
    r = imaging.process(raw, preset="chest", target_ei=300.0)
    assert r.image.dtype == np.uint16 and r.image.shape == raw.shape and r.image.flags.writeable
    assert r.field_mask.dtype == np.bool_ and r.field_mask is r.collimation.mask
    assert r.collimation.kind in ("rect", "circle", "none")
    assert set(r.timings) == {
        "prepare",
        "collimator_rect",
        "collimator_circle",
        "foreground",
        "enhance",
        "apply",
        "auto_wwwl",
        "exposure_index",
    }
    assert all(v >= 0 for v in r.timings.values())
    assert r.target_exposure_index == 300.0 and r.preset == "chest"
    if r.collimation.kind == "rect":
        assert len(r.collimation.corners) >= 3 and "angle_deg" in r.collimation.geometry


def test_presets_are_distinct(raw: np.ndarray) -> None:
    names = imaging.presets()
    for needed in (
        "default",
        "chest",
        "extremity",
        "spine",
        "skull",
        "abdomen",
        "pelvis",
        "vet_thorax",
        "vet_abdomen",
        "vet_extremity",
    ):
        assert needed in names
    images = {n: imaging.process(raw, preset=n).image.tobytes() for n in names}
    assert len(set(images.values())) == len(names)


def test_soft_border_and_circle_geometry() -> None:
    p = imaging.phantom("circle", 800, 700, seed=9)
    c = imaging.detect_collimation(p.raw)
    assert c.kind == "circle" and c.center is not None and c.radius is not None
    t = p.collimation
    assert math.dist(c.center, t.center) < 3 and abs(c.radius - t.radius) < 3


@pytest.mark.parametrize("suffix", [".npy", ".tif", ".raw"])
def test_raw_file_round_trip(tmp_path: Path, raw: np.ndarray, suffix: str) -> None:
    path = tmp_path / f"frame{suffix}"
    imaging.write_raw(path, raw)
    back = imaging.read_raw(path, shape=raw.shape if suffix == ".raw" else None)
    assert back.dtype == np.uint16 and np.array_equal(back, raw)


def test_raw_file_errors(tmp_path: Path, raw: np.ndarray) -> None:
    imaging.write_raw(tmp_path / "f.raw", raw)
    with pytest.raises(ValueError, match="shape"):
        imaging.read_raw(tmp_path / "f.raw")
    with pytest.raises(ValueError, match="needs"):
        imaging.read_raw(tmp_path / "f.raw", shape=(10, 10))
    np.save(tmp_path / "f.npy", raw.astype(np.float32))
    with pytest.raises(ValueError, match="uint16"):
        imaging.read_raw(tmp_path / "f.npy")
    with pytest.raises(ValueError, match="unknown raw format"):
        imaging.read_raw(tmp_path / "f.png")


@pytest.mark.parametrize("ts", ["explicit", "rle"])
def test_write_dicom_and_thumbnail(tmp_path: Path, raw: np.ndarray, ts: str) -> None:
    r = imaging.process(raw)
    md = DxMetadata.new(patient_name="Boundary^Test", patient_id="B1")
    imaging.write_dicom(tmp_path / "x.dcm", r, md, transfer_syntax=ts)
    ds = pydicom.dcmread(tmp_path / "x.dcm")
    assert np.array_equal(ds.pixel_array, r.image)
    assert float(ds.WindowCenter) == pytest.approx(r.window_center)
    assert float(ds.WindowWidth) == pytest.approx(r.window_width)
    assert float(ds.ExposureIndex) == pytest.approx(r.exposure_index, rel=1e-6)
    assert float(ds.DeviationIndex) == pytest.approx(r.deviation_index, rel=1e-6)
    assert ds.BitsStored == 12
    if shutil.which("dciodvfy"):
        out = subprocess.run(["dciodvfy", str(tmp_path / "x.dcm")], capture_output=True, text=True)
        assert "Error" not in out.stdout + out.stderr, out.stdout + out.stderr
    imaging.write_raw_dicom(tmp_path / "raw.dcm", raw, md, transfer_syntax=ts, r=r)
    dr = pydicom.dcmread(tmp_path / "raw.dcm")
    assert np.array_equal(dr.pixel_array, raw) and dr.PresentationIntentType == "FOR PROCESSING"
    with pytest.raises(ValueError, match="For Processing"):
        imaging.write_dicom(tmp_path / "y.dcm", r, md.replace(presentation_intent="FOR PROCESSING"))
    imaging.write_thumbnail(tmp_path / "x.webp", r, size=128)
    from PIL import Image

    with Image.open(tmp_path / "x.webp") as im:
        assert max(im.size) == 128
    with pytest.raises(ValueError):
        imaging.write_thumbnail(tmp_path / "z.webp", r, size=0)


def test_cli_phantom_and_process(tmp_path: Path) -> None:
    a, b = tmp_path / "a.tif", tmp_path / "b.npy"
    assert cli_main(["phantom", "--kind", "circle", "--size", "700x600", "--seed", "3", "-o", str(a)]) == 0
    assert cli_main(["phantom", "--kind", "rect", "--size", "640x640", "--seed", "4", "-o", str(b)]) == 0
    assert imaging.read_raw(a).shape == (600, 700)
    out = tmp_path / "out"
    assert cli_main(["process", str(a), str(b), "--preset", "chest", "-o", str(out)]) == 0
    for stem in ("a", "b"):
        s = json.loads((out / f"{stem}.json").read_text())
        assert {"prepare", "enhance", "auto_wwwl", "exposure_index", "dicom_write", "thumbnail"} <= set(s["timings"])
        assert s["collimation"]["kind"] in ("rect", "circle", "none") and s["preset"] == "chest"
        assert math.isfinite(s["window_center"]) and math.isfinite(s["exposure_index"])
        assert (out / f"{stem}.webp").stat().st_size > 0
        assert pydicom.dcmread(out / f"{stem}.dcm").Rows == s["shape"][0]
    assert json.loads((out / "a.json").read_text())["collimation"]["kind"] == "circle"
    assert cli_main(["process", str(tmp_path / "missing.npy"), "-o", str(out)]) == 1


def test_soft_border_fades_to_black_inside_the_field_edge() -> None:
    p = imaging.phantom("rect", 1024, 1024, 7)
    hard = imaging.process(p.raw)
    soft = imaging.process(p.raw, soft_border_px=40)
    field = hard.field_mask
    assert np.array_equal(field, soft.field_mask)
    assert not np.any(soft.image[~field])  # outside stays black
    # distance of every in-field pixel to the field edge, from the mask itself
    import cv2

    dist = cv2.distanceTransform(field.astype(np.uint8), cv2.DIST_L2, 5)
    rim = field & (dist < 20)
    deep = field & (dist > 60)
    assert np.all(soft.image[rim] <= hard.image[rim])
    assert soft.image[rim].mean() < 0.7 * hard.image[rim].mean()  # attenuated near the edge
    assert np.abs(soft.image[deep].astype(int) - hard.image[deep].astype(int)).max() <= 1  # untouched inside
    assert np.array_equal(imaging.process(p.raw, soft_border_px=0).image, hard.image)


@pytest.mark.parametrize("bad, exc", [(-1, ValueError), (1000, ValueError), ("5", TypeError), (True, TypeError)])
def test_soft_border_bad_values(bad, exc) -> None:
    with pytest.raises(exc):
        imaging.process(imaging.phantom("none", 256, 256, 1).raw, soft_border_px=bad)


def test_exposure_index_follows_the_detector_calibration(raw: np.ndarray) -> None:
    # EI = 100 · (median_dn − offset) / dn_per_ugy: a panel twice as sensitive reports half the
    # kerma for the same raw values; an offset is subtracted before the conversion.
    base = imaging.process(raw)
    assert base.exposure_index > 0
    median_dn = base.exposure_index / 100 * 1000.0
    doubled = imaging.process(raw, calibration=imaging.DetectorCalibration(dn_per_ugy=2000.0))
    assert doubled.exposure_index == pytest.approx(base.exposure_index / 2, rel=1e-6)
    offset = imaging.process(raw, calibration=imaging.DetectorCalibration(dn_per_ugy=1000.0, offset_dn=100.0))
    assert offset.exposure_index == pytest.approx(100 * (median_dn - 100.0) / 1000.0, rel=1e-6)
    # the image and window do not depend on the calibration
    assert np.array_equal(doubled.image, base.image)
    assert (doubled.window_center, doubled.window_width) == (base.window_center, base.window_width)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"dn_per_ugy": 0.0}, "dn_per_ugy"),
        ({"dn_per_ugy": -5.0}, "dn_per_ugy"),
        ({"dn_per_ugy": float("nan")}, "dn_per_ugy"),
        ({"offset_dn": -1.0}, "offset_dn"),
        ({"offset_dn": 70000.0}, "offset_dn"),
    ],
)
def test_bad_calibrations_are_refused(kwargs: dict[str, float], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        imaging.DetectorCalibration(**kwargs)


def test_core_refuses_bad_calibration_too(raw: np.ndarray) -> None:
    with pytest.raises(ValueError, match="dn_per_ugy"):
        _core.process(raw, "default", 250.0, None, 0.0, None)
    with pytest.raises(ValueError, match="offset_dn"):
        _core.process(raw, "default", 250.0, None, None, -3.0)
    with pytest.raises(TypeError, match="DetectorCalibration"):
        imaging.process(raw, calibration=(1000.0, 0.0))  # type: ignore[arg-type]
