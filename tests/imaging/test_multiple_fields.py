"""Two or three exposed fields on one frame (issue 13, point 2): what the chain does with them.

Users expect every exposed field to stay visible: the shutter may enclose all of them or none, but it
must never black out one. The frames are drawn here with NumPy (rectangular fields with 3 % blade
transmission around them, an elliptical body in each, scatter, Poisson noise), independent of the
Rust phantom. The wide Rust phantom draws such frames too (30 % of its rectangle frames, two or three
fields side by side or stacked); they are judged in `imaging_sets.evaluate`, `test_wide_fields` and
`test_wide_window`, where the chain blacks out a field on 1 of the 6 held-out ones among the first 60 and
on 3 of the 36 in the wide development set (6 and 29 before the plateau test).

With three fields side by side the detected rectangle encloses all three. With two, the detector used
to take one field for the collimated one and shutter the other as blade shadow, blacking out the second
exposure's anatomy. It now checks, after a shutter is found, whether the frame is exposed outside it like
the field's own direct exposure (`collimation::exposed_outside`): then there is another field, and the
frame is left without a shutter. Its statistics are still taken over the fields alone: each field found
is painted over with the blade shadow beside it and the detectors run again on the rest
(`collimation::several_fields`); direct exposure, EI and window then see the fields' union, not the
shadow between them. The field's direct level is known when its top lies well above its
median (a body covering about half of the field or more: 46 % here by default), or when its top is a
plateau of direct exposure that nothing outside outshines (smaller bodies: the "small bodies" cases, 34 %
and 16 % of the field, and the Rust phantom's multi-field frames). A case listed in KNOWN_HIDDEN_FIELD
must still hide a field (the test fails when it is fixed)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from dros import imaging

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (end exclusive)
SIZE = 2048
LAYOUTS: dict[str, list[Box]] = {
    "two side by side": [(100, 300, 950, 1750), (1100, 300, 1950, 1750)],
    "two stacked": [(300, 100, 1750, 950), (300, 1100, 1750, 1950)],
    "two of unequal size": [(100, 300, 1300, 1750), (1450, 700, 1950, 1300)],
    "three side by side": [(80, 200, 640, 1800), (740, 200, 1300, 1800), (1400, 200, 1960, 1800)],
    # The detectors take what is left after one field for one field around the others, or find a
    # field with a side lost to the others' edges (`collimation::several_fields`).
    "one tall, two stacked": [(100, 300, 900, 1750), (1050, 100, 1950, 900), (1150, 1100, 1850, 1950)],
    "three stacked, staggered": [(100, 80, 1200, 620), (700, 740, 1900, 1280), (300, 1400, 1500, 1960)],
}
# Semi-axes of each field's body as shares of the field's width and height: 0.35 × 0.42 covers 46 % of it.
BODY = (0.35, 0.42)
# Cases with smaller bodies: (layout, body semi-axes).
SMALL_BODIES: dict[str, tuple[str, tuple[float, float]]] = {
    "two side by side, small bodies (34 %)": ("two side by side", (0.3, 0.36)),
    "two stacked, small bodies (16 %)": ("two stacked", (0.2, 0.25)),
}
CASES = {**{name: (name, BODY) for name in LAYOUTS}, **SMALL_BODIES}
# Two views on one plate are two shots: each field its own dose (a share of the first field's).
DOSES: dict[str, tuple[float, ...]] = {"two side by side, the second at 80 % of the dose": (1.0, 0.8)}
CASES["two side by side, the second at 80 % of the dose"] = ("two side by side", BODY)
# Measured: the shutter fits one field and the other is blacked out (kept 0.000). None since the
# plateau test; both small-body cases were listed before it.
KNOWN_HIDDEN_FIELD: set[str] = set()


def frame(
    fields: list[Box], seed: int = 1, semi_axes: tuple[float, float] = BODY, doses: tuple[float, ...] = ()
) -> npt.NDArray[np.uint16]:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    shutter = np.full((SIZE, SIZE), 0.03)
    mu = np.zeros((SIZE, SIZE))
    for i, (x0, y0, x1, y1) in enumerate(fields):
        shutter[y0:y1, x0:x1] = doses[i] if i < len(doses) else 1.0
        cx, cy, a, b = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) * semi_axes[0], (y1 - y0) * semi_axes[1]
        e = ((xx - cx) / a) ** 2 + ((yy - cy) / b) ** 2
        body = e < 1
        mu[body] = np.maximum(mu[body], 0.8 + np.sqrt(1 - e[body]))
    primary = 10.0 * np.exp(-mu) * shutter  # µGy
    counts = rng.poisson((primary + 0.3 * primary.mean()) * 675.0)  # flat scatter, 675 quanta per µGy
    return np.clip(counts * (1000.0 / 675.0), 0, 65535).astype(np.uint16)


def coverage(case: str) -> list[float]:
    """The share of each field that the chain's field mask keeps."""
    layout, body = CASES[case]
    fields = LAYOUTS[layout]
    kept = imaging.process(frame(fields, semi_axes=body, doses=DOSES.get(case, ()))).field_mask
    return [float(kept[y0:y1, x0:x1].mean()) for x0, y0, x1, y1 in fields]


@pytest.mark.parametrize("case", CASES)
def test_no_exposed_field_is_shuttered(case: str) -> None:
    kept = coverage(case)
    if case in KNOWN_HIDDEN_FIELD:
        assert min(kept) < 0.5, f"{case}: every field now kept ({kept}): remove it from KNOWN_HIDDEN_FIELD"
    else:
        assert min(kept) >= 0.99, f"{case}: a field is shuttered, kept shares {kept}"


def bodies(fields: list[Box], semi_axes: tuple[float, float] = BODY) -> npt.NDArray[np.bool_]:
    """The anatomy of `frame`: each field's elliptical body (it lies inside its field)."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    out = np.zeros((SIZE, SIZE), dtype=bool)
    for x0, y0, x1, y1 in fields:
        cx, cy, a, b = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) * semi_axes[0], (y1 - y0) * semi_axes[1]
        out |= ((xx - cx) / a) ** 2 + ((yy - cy) / b) ** 2 < 1
    return out


@pytest.mark.parametrize("case", CASES)
def test_ei_and_window_are_taken_over_the_fields_not_the_blade_shadow(case: str) -> None:
    """With no shutter drawn, the blade shadow between the fields (3 % of the beam) is neither
    anatomy nor direct exposure: EI is the median over the bodies (within 5 %, as
    `imaging_sets.EI_TOLERANCE`) and the window holds the bodies' 2–98 % range without being more than
    1.2 times as wide (`imaging_sets.MAX_WIDTH_FACTOR`). Taken over the whole frame, the shadow
    pulled the EI down by half and stretched the window over its own levels. Each field's direct
    exposure is found at its own level: with one level for all, a field exposed at 80 % of the other's
    dose kept its direct exposure in the anatomy."""
    layout, body = CASES[case]
    fields = LAYOUTS[layout]
    raw = frame(fields, semi_axes=body, doses=DOSES.get(case, ()))
    anatomy = bodies(fields, body)
    r = imaging.process(raw)
    ei_truth = 100.0 * float(np.median(raw[anatomy])) / 1000.0
    assert abs(r.exposure_index / ei_truth - 1) <= 0.05, (r.exposure_index, ei_truth)
    p2, p98 = (float(v) for v in np.percentile(r.image[anatomy], [2, 98]))
    lo = r.window_center - 0.5 - (r.window_width - 1) / 2
    hi = r.window_center - 0.5 + (r.window_width - 1) / 2
    assert lo <= p2 and hi >= p98, ((lo, hi), (p2, p98))
    assert hi - lo <= 1.2 * (p98 - p2) + 2, ((lo, hi), (p2, p98))
