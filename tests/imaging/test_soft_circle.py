"""Circular fields with a soft penumbra (issue 13, "penumbra σ 1–8 px"): a field larger than the
panel, of which only arcs show, and a small one.

The fine circle fit samples the edge along rays. With σ ≈ 7 px the step spreads over ±4σ, and a
profile shorter than that, centred on the edge, is all slope: its test refused it, so the fit could
only settle off the edge, or, on arcs, wandered between a wrong circle and none. The profile now
reaches at least 32 px either side (`collimation::REFINE_REACH_MIN`). On these frames the
previous build gave IoU 0.995 (arcs) and 0.980 (small circle, 3.5 px too large); on the wide
development frame that showed it, it kept the coarse circle, 60 px off (IoU 0.976).

Drawn here with NumPy (logistic penumbra of the given σ by the pixel-centre rule, 23 % blade
transmission, scatter 1.4 times the primary, a thin body, Poisson noise), independent of the Rust
phantom; the truth is the analytic circle.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dros import imaging
from tests.imaging.imaging_sets import iou
from tests.imaging.test_filled_field import SIZE, _blur

OPEN_DN = 6000.0
PENUMBRA_SIGMA = 7.0
# The body's semi-axes, as a share of 0.45 and 0.5 of the radius.
BODY = 1.5
# Centre and radius within this of the truth (pixels).
TOLERANCE_PX = 1.0
CIRCLES = {
    "larger than the panel": (997.0, 1169.0, 1146.0),
    "small": (1142.0, 983.0, 338.5),
}


@pytest.mark.parametrize("case", sorted(CIRCLES))
def test_a_circle_with_a_soft_penumbra_is_found_within_a_pixel(case: str) -> None:
    cx, cy, radius = CIRCLES[case]
    rng = np.random.default_rng(sorted(CIRCLES).index(case) + 41)
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    inside = radius - np.hypot(x - cx, y - cy)
    # Logistic edge whose derivative has standard deviation σ.
    field = 1.0 / (1.0 + np.exp(-inside / (PENUMBRA_SIGMA * math.sqrt(3) / math.pi)))
    r2 = ((x - cx) / (0.45 * BODY * radius)) ** 2 + ((y - cy) / (0.5 * BODY * radius)) ** 2
    atten = 1.2 * np.sqrt(np.clip(1 - r2, 0, None))
    primary = OPEN_DN * (1.0 + 0.06 * (y - SIZE / 2) / SIZE) * np.exp(-atten) * (0.23 + 0.77 * field)
    raw = rng.poisson(primary + 1.4 * _blur(primary, 240)).clip(0, 65535).astype(np.uint16)
    found = imaging.detect_collimation(raw)
    assert found.kind == "circle"
    assert found.center is not None and found.radius is not None
    off = math.hypot(found.center[0] - cx, found.center[1] - cy)
    assert off <= TOLERANCE_PX, f"centre {found.center}, {off:.1f} px off"
    assert abs(found.radius - radius) <= TOLERANCE_PX, f"radius {found.radius:.1f} against {radius}"
    assert iou(found.mask, inside >= 0) >= 0.99
