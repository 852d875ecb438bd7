"""A patient who fills the collimated field: no direct exposure anywhere, a dense core (mediastinum,
pelvis) inside thinner tissue that runs out to the shutter on every side (issue 13, "tight
collimation, where the anatomy fills the whole field").

The thin periphery is bright, smooth and touches the field border, and it stands far above the core,
which is what direct exposure around a patient looks like to a test that only compares levels. The
chain used to take it for direct exposure, keeping only the core as anatomy: the EI then followed
the core (−40 to −68 % on five such wide development frames) and the window clipped the periphery.
What tells them apart is the spread: direct exposure drifts across a field by at most ~0.35 in log
units (heel, inverse square, scatter), the periphery of a body by far more. The chain applies that
test to regions covering ≥ 80 % of the field (`foreground::LARGE_REGION_SHARE`): below it, direct
exposure around a patient does spread that far on the development frames. So the core here covers
about 11 % of the field. Known limit, measured with these frames: with a core of 19 % of the field,
the periphery (81 % of the field but under 80 % of the reduced pixels the test counts) is still taken
for direct exposure.

A body can also fill a small field around its flat centre, where no spread tells it apart. Then the
blades tell: they only dim the beam, so behind direct exposure lies the brightest level the outside
shows, and behind this plateau lies the body, darker than the air in the corners
(`foreground::BEYOND_SHUTTER_DROP`; the previous build took 88 % of that field for direct exposure).

The frames are drawn here with NumPy (ellipsoidal body larger than the field, an ellipsoidal core,
blurred scatter, 3 or 30 % blade transmission, Poisson noise), independent of the Rust phantom; the EI
truth is IEC 62494-1's: 100 × the median kerma of the anatomy, which here is the whole field.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from dros import imaging

SIZE = 2048
FIELD = (324, 224, 1724, 1824)  # x0, y0, x1, y1 (end exclusive)
DN_PER_UGY = 1000.0  # the chain's default calibration
EI_TOLERANCE = 0.05
# Direct exposure the chain may report on such a frame (a few reduced pixels along the border).
MAX_DIRECT_SHARE = 0.02

F64 = npt.NDArray[np.float64]


def _ellipsoid(x: F64, y: F64, cx: float, cy: float, ax: float, ay: float) -> F64:
    """Relative thickness of an ellipsoid seen along the beam: √(1 − r²), 0 outside."""
    r2 = ((x - cx) / ax) ** 2 + ((y - cy) / ay) ** 2
    return np.sqrt(np.clip(1.0 - r2, 0.0, None))


def _blur(a: F64, radius: int) -> F64:
    """Box blur (two passes, edges clamped) on an 8× reduced grid: scatter is that smooth."""
    small = a.reshape(SIZE // 8, 8, SIZE // 8, 8).mean(axis=(1, 3))
    r = max(radius // 8, 1)
    for axis in (0, 1):
        for _ in range(2):
            pad = np.concatenate(
                [np.repeat(np.take(small, [0], axis), r, axis), small, np.repeat(np.take(small, [-1], axis), r, axis)],
                axis,
            )
            c = np.cumsum(pad, axis=axis, dtype=np.float64)
            c = np.concatenate([np.zeros_like(np.take(c, [0], axis)), c], axis)
            n = small.shape[axis]
            hi = np.take(c, np.arange(2 * r + 1, 2 * r + 1 + n), axis)
            lo = np.take(c, np.arange(0, n), axis)
            small = (hi - lo) / (2 * r + 1)
    return np.repeat(np.repeat(small, 8, axis=0), 8, axis=1)


def filled_field(
    seed: int,
    body_mu: float,
    core_mu: float,
    scatter: float,
    open_ugy: float,
    field_box: tuple[int, int, int, int] = FIELD,
    core_axes: tuple[float, float] = (200.0, 380.0),
    blades: float = 0.03,
) -> tuple[npt.NDArray[np.uint16], npt.NDArray[np.bool_]]:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    c = SIZE / 2 + rng.uniform(-40, 40, 2)
    # The body reaches past the field on every side: at the field's edge it is still ≥ ~half as thick.
    atten = body_mu * _ellipsoid(x, y, c[0], c[1], 1000.0, 1150.0)
    atten += core_mu * _ellipsoid(x, y, c[0] + rng.uniform(-60, 60), c[1], *core_axes)
    x0, y0, x1, y1 = field_box
    field = np.zeros((SIZE, SIZE), dtype=bool)
    field[y0:y1, x0:x1] = True
    heel = 1.0 + 0.08 * (y - SIZE / 2) / SIZE
    primary = DN_PER_UGY * open_ugy * heel * np.exp(-atten) * np.where(field, 1.0, blades)
    expected = primary + scatter * _blur(primary, 240)
    raw = rng.poisson(expected).clip(0, 65535).astype(np.uint16)
    return raw, field


CASES: dict[str, dict[str, Any]] = {
    "soft periphery, dense core": dict(body_mu=2.0, core_mu=1.4, scatter=0.5, open_ugy=20.0),
    "thick, heavy scatter": dict(body_mu=2.6, core_mu=1.2, scatter=1.0, open_ugy=40.0),
    "thin, low dose": dict(body_mu=1.6, core_mu=1.8, scatter=0.3, open_ugy=5.0),
    # A small field on the trunk's flat centre, with a small organ in it (12 % of the field): the
    # rest of the field is one smooth plateau. Blades that pass 30 % show the body continuing past
    # the shutter, darker than the air in the corners (`foreground::BEYOND_SHUTTER_DROP`).
    "small field on a flat trunk, bright blades": dict(
        body_mu=1.8,
        core_mu=1.2,
        scatter=0.4,
        open_ugy=10.0,
        field_box=(724, 724, 1324, 1324),
        core_axes=(90.0, 150.0),
        blades=0.3,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_patient_filling_the_field_is_not_direct_exposure(case: str) -> None:
    raw, field = filled_field(seed=sorted(CASES).index(case) + 11, **CASES[case])
    r = imaging.process(raw)
    detected_field = r.field_mask.sum()
    assert abs(int(detected_field) - int(field.sum())) < 0.02 * field.sum(), "field not found"
    direct_share = float(r.foreground_mask[field].mean())
    assert direct_share <= MAX_DIRECT_SHARE, f"{direct_share:.1%} of the field taken for direct exposure"
    ei_truth = 100.0 * float(np.median(raw[field])) / DN_PER_UGY
    assert abs(r.exposure_index / ei_truth - 1) <= EI_TOLERANCE, f"EI {r.exposure_index:.1f} vs truth {ei_truth:.1f}"
