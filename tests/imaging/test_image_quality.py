"""Image quality of the enhancement per preset (tests/imaging/image_quality.py says how each figure
is measured). Targets (issue 13, point 4): insert CNR ≥ 1.5× the plain log image, halo at a metal edge
≤ 5 % of the window, no grid-line moiré (≤ 1 % of the window here).

What the chain does not meet yet is listed below with the measured figure; each listed case must
still miss (the test fails when it is fixed, so the list shrinks)."""

from __future__ import annotations

from functools import cache

import pytest

from dros import imaging
from tests.imaging.image_quality import DISC_DIAMETERS, PLATE_ELSEWHERE, Figures, measure, plain_log_chain

CNR_GAIN_MIN = 1.5
HALO_MAX = 0.05
MOIRE_MAX = 0.01

# The coarsest disc gains least where the preset favours fine detail. Empty since the extremity presets
# raised levels 3-6 (64 px: 1.46 → 1.64 and 1.38 → 1.62 at seed 1; 1.58-1.61 at seeds 2-4).
KNOWN_LOW_CNR: dict[tuple[str, int], float] = {}
# Was 26-141 % of the window while the 3.5-log-unit step entered the pyramid whole. The pyramid now
# sees anatomy only (rust_core/src/enhance/fill.rs): 0.6-0.8 % here, 0.5-0.8 % at the second place (2.9-3.8 % and
# 2.6-3.5 % while the window of the frame with the plate left the plate out and held a sliver of the tissue).
KNOWN_HALO: set[str] = set()
# Was 5.6-9.0 % of the window at 0.080 cycles/px: the 0.42 c/px grid folded by the 2 × 2 box mean that
# made the pyramid's first level. Its binomial reduction (frame::half_log) passes 1.6 % of it: 0.6-0.8 %.
KNOWN_MOIRE: set[str] = set()


@cache
def figures(preset: str) -> Figures:
    return measure(preset)


@pytest.mark.parametrize("preset", imaging.presets())
def test_enhancement_raises_low_contrast_cnr(preset: str) -> None:
    f = figures(preset)
    for diameter, gain in zip(DISC_DIAMETERS, f.cnr_gain, strict=True):
        if (preset, diameter) in KNOWN_LOW_CNR:
            assert gain < CNR_GAIN_MIN, f"{preset} {diameter} px now gains {gain:.2f}: remove it from KNOWN_LOW_CNR"
        else:
            assert gain >= CNR_GAIN_MIN, f"{preset}: {diameter} px disc CNR only {gain:.2f}× the log image's"


@pytest.mark.parametrize("preset", imaging.presets())
def test_halo_at_a_metal_edge(preset: str) -> None:
    halo = figures(preset).halo
    if preset in KNOWN_HALO:
        assert halo > HALO_MAX, f"{preset}: halo {100 * halo:.1f} % now meets the target: remove it from KNOWN_HALO"
    else:
        assert halo <= HALO_MAX, f"{preset}: halo {100 * halo:.1f} % of the window"


@pytest.mark.parametrize("preset", imaging.presets())
def test_halo_at_a_metal_edge_elsewhere_on_the_body(preset: str) -> None:
    """The chain's fill constants were chosen with the plate on the body's thickest part (seed 1);
    a narrower plate lower on the body's slope, with another noise seed, confirms them."""
    halo = measure(preset, seed=2, plate=PLATE_ELSEWHERE).halo
    assert halo <= HALO_MAX, f"{preset}: halo {100 * halo:.1f} % of the window"


@pytest.mark.parametrize("preset", imaging.presets())
def test_no_grid_line_moire(preset: str) -> None:
    f = figures(preset)
    if preset in KNOWN_MOIRE:
        assert f.moire > MOIRE_MAX, f"{preset}: moiré {100 * f.moire:.1f} % now meets the target: update KNOWN_MOIRE"
    else:
        assert f.moire <= MOIRE_MAX, f"{preset}: moiré {100 * f.moire:.1f} % at {f.moire_cycles_per_px:.3f} c/px"


def test_the_measures_see_nothing_in_a_plain_log_image() -> None:
    """The yardstick: a linear display of ln(raw) has no halo, no moiré and the log image's CNR."""
    f = measure("default", chain=plain_log_chain)
    assert all(abs(g - 1.0) < 0.02 for g in f.cnr_gain), f.cnr_gain
    assert f.halo < 0.01, f.halo
    assert f.moire < 0.002, f.moire
