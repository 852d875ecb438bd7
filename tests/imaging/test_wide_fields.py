"""Collimation on wide-physics frames (issue 13: "imaging that holds on frames it was not tuned on").

Frames: the first `WIDE_SUITE_FRAMES` of the held-out set drawn with ``physics="wide"`` (soft
penumbra σ 1–8 px, blade transmission 0–40 %, scatter fraction to 60 %, rotation to ±45°, tight
fields of thick anatomy, a panel that may clip, tile seams, grid lines, implants, low dose). The
detector was tuned on the wide development set (`imaging_sets.development(physics="wide")`,
seeds 7,160,000…), never on these. Truth: `phantom_truth` (NumPy, from the scene numbers).

Every one-field frame: the right kind and field-mask IoU ≥ 0.98; median IoU ≥ 0.995. Frames with two
or three fields (30 % of wide rectangle frames) have no one outline to match: the shutter may enclose
all of them or none, so each field must lie inside the detected shutter to ≥ 98 % of its area
(`imaging_sets.fields_kept`); they are the multi-field frames among the first `WIDE_MULTI_FRAMES`.
Frames that miss are listed in `KNOWN_MISSES` / `KNOWN_SHUTTERED_FIELD` with the measured reason: a
test fails when another frame misses or when a listed one no longer does. Window and EI on these frames are reported by
``python -m tests.imaging.imaging_sets held-out --physics wide``, not asserted here.
"""

from __future__ import annotations

import numpy as np

from dros import imaging
from tests.imaging.imaging_sets import FIELD_KEPT_MIN, IOU_MEDIAN, IOU_MIN, fields_kept, held_out, iou
from tests.imaging.phantom_truth import field_mask

WIDE_SUITE_FRAMES = 30
WIDE_MULTI_FRAMES = 60

# Held-out wide frames whose field is still missed (seed → measured reason). Both are circles on a
# panel that clips in direct exposure, which fills > 80 % of the field: the edge shows only where
# anatomy crosses it.
KNOWN_MISSES: dict[int, str] = {
    # blade 28 %, scatter-to-primary 0.93, 26 % of the frame clipped: detected as "none" (IoU 0.23)
    7130007: "detected as none",
    # penumbra σ 7.1 px, scatter-to-primary 1.14, 33 % clipped: circle found, IoU 0.970
    7130019: "IoU below 0.98",
}

# Held-out multi-field frames among the first 60 whose detected shutter blacks out a field (seed →
# measured figures). Six were listed after the phantom first drew several fields (7130000, 7130009,
# 7130030, 7130033, 7130039, 7130042: the shutter fitted one field and `exposed_outside` did not fire,
# the field being mostly direct exposure); five keep every field since its plateau test.
# Empty since stop 31 (7130039, a rect around its second field, kept 0.000 and 0.999 of them before).
KNOWN_SHUTTERED_FIELD: dict[int, str] = {}


def test_wide_fields_found() -> None:
    misses: dict[int, str] = {}
    ious = []
    for s in held_out(WIDE_SUITE_FRAMES, "wide"):
        p = imaging.phantom(s.kind, s.width, s.height, s.seed, physics="wide")
        if p.scene["field"]["kind"] == "multiple":
            continue  # test_wide_multi_field_frames_keep_every_field
        c = imaging.detect_collimation(p.raw)
        v = iou(c.mask, field_mask(p.scene["field"], s.width, s.height))
        ious.append(v)
        if c.kind != s.kind or v < IOU_MIN:
            misses[s.seed] = f"{s.kind} detected as {c.kind}, IoU {v:.4f}"
    unexpected = {k: v for k, v in misses.items() if k not in KNOWN_MISSES}
    fixed = sorted(set(KNOWN_MISSES) - set(misses))
    print(f"wide: field IoU min {min(ious):.4f} median {np.median(ious):.4f}, misses {misses}")
    assert not unexpected, f"{len(unexpected)} misses: {unexpected}"
    assert not fixed, f"listed misses no longer happen, drop them from KNOWN_MISSES: {fixed}"
    assert float(np.median(ious)) >= IOU_MEDIAN, f"median IoU {np.median(ious):.4f}"


def test_wide_multi_field_frames_keep_every_field() -> None:
    shuttered: dict[int, str] = {}
    seen = []
    for s in held_out(WIDE_MULTI_FRAMES, "wide"):
        if s.kind != "rect":
            continue
        # Whether a frame has several fields depends on its seed only, not on its size.
        if imaging.phantom(s.kind, 64, 64, s.seed, physics="wide").scene["field"]["kind"] != "multiple":
            continue
        p = imaging.phantom(s.kind, s.width, s.height, s.seed, physics="wide")
        c = imaging.detect_collimation(p.raw)
        kept = fields_kept(p.scene, c.mask)
        assert kept is not None
        seen.append(s.seed)
        if min(kept) < FIELD_KEPT_MIN:
            shuttered[s.seed] = f"{c.kind}, kept " + ", ".join(f"{k:.3f}" for k in kept)
    print(f"multi-field frames {seen}, a field shuttered on {shuttered}")
    assert len(seen) >= 3, seen
    unexpected = {k: v for k, v in shuttered.items() if k not in KNOWN_SHUTTERED_FIELD}
    fixed = sorted(set(KNOWN_SHUTTERED_FIELD) - set(shuttered))
    assert not unexpected, f"a field is shuttered on {len(unexpected)} frames: {unexpected}"
    assert not fixed, f"listed frames keep every field now, drop them from KNOWN_SHUTTERED_FIELD: {fixed}"
