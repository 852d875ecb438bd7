"""Window and EI on wide-physics frames (issue 13: "imaging that holds on frames it was not tuned on").

Frames: the first `WIDE_WINDOW_FRAMES` of the held-out set drawn with ``physics="wide"`` (soft
penumbra, blade transmission, scatter to 60 %, tight fields of thick anatomy, a panel that may
clip, implants, paediatric fields, low dose). The chain was tuned on the wide development set
(seeds 7,160,000…), never on these. Truth: `phantom_truth` (NumPy, from the scene numbers).

Every frame: the window holds the processed anatomy's 2nd–98th percentile and is at most
`MAX_WIDTH_FACTOR` times its range wide, and EI is within 5 % of the truth's. Frames that miss are
listed in `KNOWN_MISSES` with what they miss, as measured once after the last change: the test
fails when another frame misses or when a listed one no longer does. On a frame with two or three
fields the anatomy is that of every field (`imaging_sets.evaluate`); the two such frames here (7130000,
7130009) missed window and EI while the blade shadow between their fields counted as anatomy, and hold
since the statistics are taken over the fields found (`collimation::several_fields`). Field detection
on these frames is `test_wide_fields`' subject; a frame whose field is missed misses here too.
"""

from __future__ import annotations

import pytest

from tests.imaging.imaging_sets import evaluate, held_out

WIDE_WINDOW_FRAMES = 20
# Two halves, so that two workers share the ~40 s of frames.
PARTS = 2
TARGETS = ("window", "wide", "EI")

# Held-out wide frames that miss a target (seed → the start of each failure text), measured once
# after the last change, with the figures of that run.
KNOWN_MISSES: dict[int, tuple[str, ...]] = {
    # window [991, 3338] against the anatomy's [1373, 3253]: holds it, but 1.25x as wide (it
    # clipped, [767, 3319] against [656, 3219], until stop 25's `MIN_SEPARATION_SHARE`)
    7130002: ("wide",),
    # field detected as none (IoU 0.23): window 1.42x and clipping, EI 508 vs 652
    7130007: ("window", "wide", "EI"),
    # EI 235 vs 262
    7130011: ("EI",),
    # field IoU 0.970, direct exposure IoU 0.86: window clips and is 1.22x, EI 226 vs 276
    7130019: ("window", "wide", "EI"),
}


@pytest.mark.parametrize("part", range(PARTS))
def test_wide_window_and_ei(part: int) -> None:
    specs = held_out(WIDE_WINDOW_FRAMES, "wide")[part::PARTS]
    unexpected, fixed = [], []
    for s in specs:
        failures = [f for f in evaluate(s).failures if f.startswith(TARGETS)]
        known = KNOWN_MISSES.get(s.seed, ())
        unexpected += [f"seed {s.seed}: {f}" for f in failures if not f.startswith(known)]
        fixed += [f"seed {s.seed}: {k}" for k in known if not any(f.startswith(k) for f in failures)]
    assert not unexpected, f"{len(unexpected)} misses: " + "; ".join(unexpected)
    assert not fixed, "listed misses no longer happen, drop them from KNOWN_MISSES: " + "; ".join(fixed)
