"""Wide development frames that a rule was changed for, each judged on every target
(`imaging_sets.evaluate`: kind, field IoU ≥ 0.98 or every field kept, window, EI within 5 %,
direct exposure). These are tuning frames (seeds 7,160,000… and 7,180,000…), not held-out ones: the
test keeps what was fixed on them fixed. Truth comes from `phantom_truth` (NumPy, from the scene
numbers), never from the detector.

- Circles inside thick bodies, blades passing 24–35 %, scatter 0.7–1.4 × the primary: the step shows
  along 47 % and 54 % of the outline, under the 60 % a circle needs when a rectangle competes
  (`collimation::CIRCLE_SUPPORT_ALONE`); the blade leakage over the air around the body outshines the
  field by 1.1 in log units, which `collimation::exposed_outside` now reads as no second field even
  when the body spreads over more than 0.8. The previous build found no shutter (IoU 0.58, 0.37).
- Fields of thick anatomy with leakage over air around them that no detector outlines as a field:
  the first shutter is kept (`collimation::detect`). The previous build left the frame without a
  shutter (IoU 0.06–0.08, EI −43 to −78 %).
- A plate with three fields, two of them split in two by their bodies: tried alone, each half got a
  side where the painting began; the halves are now tried together
  (`collimation::SPLIT_PART_SHARED`). The previous build found one field and left the frame without a
  shutter, its EI taken over the other two fields' direct exposure (+20 %).
"""

from __future__ import annotations

import pytest

from tests.imaging.imaging_sets import (
    WIDE_DEVELOPMENT_FIRST,
    WIDE_DEVELOPMENT_SECOND_FIRST,
    FrameSpec,
    cycle_spec,
    evaluate,
)

FRAMES = {
    7_160_022: "circle inside a thick body, step on 47 % of its outline",
    7_160_109: "circle inside a thick body, leakage over air 1.1 above the field",
    7_160_075: "rectangle of thick anatomy, leakage over air around it",
    7_180_009: "rectangle of thick anatomy, leakage over air around it",
    7_180_163: "circle of thick anatomy, leakage over air around it",
    7_160_144: "three fields, two split by their bodies",
}


def spec(seed: int) -> FrameSpec:
    first = WIDE_DEVELOPMENT_SECOND_FIRST if seed >= WIDE_DEVELOPMENT_SECOND_FIRST else WIDE_DEVELOPMENT_FIRST
    return cycle_spec(first, seed - first, "wide")


@pytest.mark.parametrize("seed", sorted(FRAMES))
def test_development_frame_meets_every_target(seed: int) -> None:
    r = evaluate(spec(seed))
    assert not r.failures, f"{seed} ({FRAMES[seed]}): {r.failures}"
