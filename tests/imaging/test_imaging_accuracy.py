"""Accuracy of the imaging chain on phantom frames with ground truth (issue 5, "Accuracy").

For every collimation kind and each size 2048², 3072² and 4288×3520, 30 seeded phantoms (random
field geometry incl. ±20° rotation, fields running off the border and small fields, scatter,
0.08–3× dose, lead markers, dead pixels and lines). Each frame is generated and processed once and
every check runs on it: field-mask IoU ≥ 0.98 on every frame and median ≥ 0.995; the detected
kind is right; no NaN, no value beyond the 12-bit output range, black outside the field; the auto
window holds the 2nd–98th percentile of the processed anatomy; the direct-exposure mask matches
the truth (IoU ≥ 0.9 where direct exposure is ≥ 2 % of the field).

"Anatomy" is the issue's definition, on the ground truth: field minus direct exposure
(unattenuated, attenuation < 0.02), lead markers left out ("robust to markers").
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dros import imaging

FRAMES_PER_CASE = 30
SIZES = [(2048, 2048), (3072, 3072), (4288, 3520)]  # (width, height)
KINDS = ["rect", "circle", "none"]
FOREGROUND_MIN_IOU = 0.9
# A window wider than the anatomy's 2–98 % range by more than this is not a window that "holds"
# the anatomy but one that holds everything.
MAX_WIDTH_FACTOR = 1.2
# Frames whose window holds the anatomy (the requirement) but is wider than the bound above:
# a known defect, listed so that the test fails both when another frame joins and when this one is
# fixed. Seed 42880115: a lead marker behind thick tissue, only ~0.5 log units darker than its
# surroundings once scatter fills its shadow, is not detected; the window then includes it (1.36×).
KNOWN_TOO_WIDE = {42880115}


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else np.count_nonzero(a & b) / union


def truth_anatomy(p: imaging.Phantom) -> np.ndarray:
    return p.field_mask & ~p.direct_mask & ~p.marker_mask


def window_misses(p: imaging.Phantom, r: imaging.ProcessResult) -> tuple[str | None, str | None]:
    """(why the window does not hold the anatomy's 2nd–98th percentile, why it is too wide)."""
    p2, p98 = np.percentile(r.image[truth_anatomy(p)], [2, 98])
    lo = r.window_center - 0.5 - (r.window_width - 1) / 2
    hi = r.window_center - 0.5 + (r.window_width - 1) / 2
    holds = None if lo <= p2 and hi >= p98 else f"window [{lo}, {hi}] vs anatomy 2-98% [{p2}, {p98}]"
    wide = None
    if (hi - lo) > MAX_WIDTH_FACTOR * (p98 - p2) + 2:
        wide = f"window {hi - lo} too wide for anatomy range {p98 - p2}"
    return holds, wide


def _seed(kind: str, width: int, i: int) -> int:
    return 10_000 * width + 100 * KINDS.index(kind) + i


@pytest.mark.parametrize("width,height", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("kind", KINDS)
def test_chain_accuracy(kind: str, width: int, height: int) -> None:
    ious, fg_ious, misses, too_wide = [], [], [], set()
    for i in range(FRAMES_PER_CASE):
        seed = _seed(kind, width, i)
        p = imaging.phantom(kind, width, height, seed)
        r = imaging.process(p.raw)
        img = r.image
        assert img.dtype == np.uint16 and img.shape == p.raw.shape
        assert int(img.max()) <= (1 << imaging.OUTPUT_BITS) - 1
        assert not np.any(img[~r.field_mask]), "shutter: outside the field must be 0"
        for v in (r.window_center, r.window_width, r.exposure_index, r.deviation_index):
            assert v is not None and math.isfinite(v), f"seed {seed}"
        v = iou(r.field_mask, p.field_mask)
        assert r.collimation.kind == kind, f"seed {seed}: detected {r.collimation.kind}, truth {kind}"
        assert v >= 0.98, f"seed {seed}: IoU {v:.4f} ({r.collimation.geometry})"
        ious.append(v)
        assert not np.any(r.foreground_mask & ~r.field_mask)
        if np.count_nonzero(p.direct_mask) >= 0.02 * np.count_nonzero(p.field_mask):
            fg = iou(r.foreground_mask, p.direct_mask)
            fg_ious.append(fg)
            if fg < FOREGROUND_MIN_IOU:
                misses.append(f"seed {seed}: foreground IoU {fg:.3f}")
        holds, wide = window_misses(p, r)
        if holds:
            misses.append(f"seed {seed}: {holds}")
        if wide:
            too_wide.add(seed)
            if seed not in KNOWN_TOO_WIDE:
                misses.append(f"seed {seed}: {wide}")
    print(
        f"{kind} {width}x{height}: IoU min {min(ious):.4f} median {np.median(ious):.4f}; "
        f"foreground IoU min {min(fg_ious, default=1):.4f} median {np.median(fg_ious) if fg_ious else 1:.4f} "
        f"({len(fg_ious)} frames)"
    )
    assert float(np.median(ious)) >= 0.995, f"median IoU {np.median(ious):.4f}"
    assert not misses, f"{len(misses)} misses: " + "; ".join(misses)
    seeds = {_seed(kind, width, i) for i in range(FRAMES_PER_CASE)}
    fixed = (KNOWN_TOO_WIDE & seeds) - too_wide
    assert not fixed, f"known too-wide windows now within the bound, drop them from KNOWN_TOO_WIDE: {fixed}"


@pytest.mark.parametrize("kind", KINDS)
def test_exposure_index_scales_with_dose(kind: str) -> None:
    """Doubling the dose doubles EI (within 5 %), and EI matches the calibration on the truth."""
    for seed in range(8):
        dose = 0.1 * 2 ** (seed % 4)  # 0.1 .. 0.8, then doubled: covers the very-low-dose end
        a = imaging.phantom(kind, 1536, 1280, 500 + seed, dose_scale=dose)
        b = imaging.phantom(kind, 1536, 1280, 500 + seed, dose_scale=2 * dose)
        ra, rb = imaging.process(a.raw), imaging.process(b.raw)
        ratio = rb.exposure_index / ra.exposure_index
        assert 1.9 <= ratio <= 2.1, f"seed {seed}: EI {ra.exposure_index:.1f} -> {rb.exposure_index:.1f}"
        truth = 100.0 * float(np.median(a.raw[truth_anatomy(a)])) / 1000.0
        assert ra.exposure_index == pytest.approx(truth, rel=0.05)
        assert ra.deviation_index == pytest.approx(10 * math.log10(ra.exposure_index / 250.0))
        assert ra.target_exposure_index == 250.0


def test_target_ei_sets_deviation_index() -> None:
    p = imaging.phantom("rect", 1024, 1024, 3, dose_scale=1.0)
    r1 = imaging.process(p.raw, target_ei=100.0)
    r2 = imaging.process(p.raw, target_ei=400.0)
    assert r1.exposure_index == r2.exposure_index
    assert r1.deviation_index - r2.deviation_index == pytest.approx(10 * math.log10(4.0))


def test_foreground_is_the_direct_exposure() -> None:
    """Direct-exposure mask against the truth on smaller rect frames that have some."""
    scores = []
    for seed in range(12):
        p = imaging.phantom("rect", 1536, 1536, 700 + seed)
        if p.direct_mask.sum() < 0.02 * p.field_mask.sum():
            continue
        r = imaging.process(p.raw)
        scores.append(iou(r.foreground_mask, p.direct_mask))
        assert not np.any(r.foreground_mask & ~r.field_mask)
    assert len(scores) >= 6
    assert min(scores) >= FOREGROUND_MIN_IOU, scores


def test_identical_input_gives_identical_bytes() -> None:
    p = imaging.phantom("circle", 2048, 1792, 42)
    a, b = imaging.process(p.raw), imaging.process(p.raw.copy())
    assert a.image.tobytes() == b.image.tobytes()
    assert a.field_mask.tobytes() == b.field_mask.tobytes()
    assert a.foreground_mask.tobytes() == b.foreground_mask.tobytes()
    assert (a.window_center, a.window_width, a.exposure_index) == (b.window_center, b.window_width, b.exposure_index)
    assert a.collimation.geometry == b.collimation.geometry
    q = imaging.phantom("circle", 2048, 1792, 42)
    assert q.raw.tobytes() == p.raw.tobytes(), "phantom must be deterministic from its seed"
