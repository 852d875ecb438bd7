"""Collimation on wide-physics frames (issue 13: "imaging that holds on frames it was not tuned on").

Frames: the first `WIDE_SUITE_FRAMES` of the held-out set drawn with ``physics="wide"`` (soft
penumbra σ 1–8 px, blade transmission 0–40 %, scatter fraction to 60 %, rotation to ±45°, tight
fields of thick anatomy, a panel that may clip, tile seams, grid lines, implants, low dose). The
detector was tuned on the wide development set (`imaging_sets.development(physics="wide")`,
seeds 7,160,000…), never on these. Truth: `phantom_truth` (NumPy, from the scene numbers).

Every frame: the right kind and field-mask IoU ≥ 0.98; median IoU ≥ 0.995. Frames that miss are
listed in `KNOWN_MISSES` with the measured reason: the test fails when another frame misses or when
a listed one no longer does. Window and EI on these frames are reported by
``python -m tests.imaging.imaging_sets held-out --physics wide``, not asserted here.
"""

from __future__ import annotations

import numpy as np

from dros import imaging
from tests.imaging.imaging_sets import IOU_MEDIAN, IOU_MIN, held_out, iou
from tests.imaging.phantom_truth import field_mask

WIDE_SUITE_FRAMES = 30

# Held-out wide frames whose field is still missed (seed → measured reason). Both are circles on a
# panel that clips in direct exposure, which fills > 80 % of the field: the edge shows only where
# anatomy crosses it.
KNOWN_MISSES: dict[int, str] = {
    # blade 28 %, scatter-to-primary 0.93, 26 % of the frame clipped: detected as "none" (IoU 0.23)
    7130007: "detected as none",
    # penumbra σ 7.1 px, scatter-to-primary 1.14, 33 % clipped: circle found, IoU 0.970
    7130019: "IoU below 0.98",
}


def test_wide_fields_found() -> None:
    misses: dict[int, str] = {}
    ious = []
    for s in held_out(WIDE_SUITE_FRAMES, "wide"):
        p = imaging.phantom(s.kind, s.width, s.height, s.seed, physics="wide")
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
