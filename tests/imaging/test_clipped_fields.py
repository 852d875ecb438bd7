"""Fields the panel clipped, glowing into the shadow between them (issue 13: "saturated direct
exposure", "two or three fields on one plate").

Three fields side by side, turned by a few degrees, their direct exposure clipped by the panel and
their scatter (as large as the primary) glowing past their edges. The glow fills the band just
outside a field, so the blade shadow that `collimation::exposed_outside` looks for beside it is
missing, and the other fields' edges are clipped too: no detector outlines them. The previous build
kept a shutter around one field and blacked out the other two (kept 0.000, 0.000, 1.000; on the wide
development set two plates lost two fields each this way). Clipped parts of their own, apart from
the field's clipped pixels and far outside its shutter (`collimation::CLIPPED_FAR` clearances), are
now read as exposure: the frame is left without a shutter unless the fields are found
(`collimation::clipped_outside`). One such field alone keeps its shutter: its glow clips the panel
only near its edge.

Drawn here with NumPy (rotated fields, 13 % blade transmission, box-blurred scatter, Poisson noise,
the panel clipping the brightest share of the frame), independent of the Rust phantom.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from dros import imaging
from tests.imaging.imaging_sets import iou
from tests.imaging.test_filled_field import SIZE, _blur

# (centre x, centre y, half width, half height, angle in degrees)
Field = tuple[float, float, float, float, float]
THREE: list[Field] = [(295, 860, 220, 540, 4.5), (980, 800, 275, 735, -4.3), (1725, 850, 270, 690, 0.0)]
ONE: list[Field] = [(1000, 1050, 600, 700, 3.0)]
BLADES = 0.13
SCATTER = 1.0
OPEN_DN = 10_000.0


def _inside(f: Field) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The field's mask and each pixel's coordinates across and along it, as shares of its half sizes."""
    cx, cy, hx, hy, deg = f
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    u = ((xx - cx) * c + (yy - cy) * s) / hx
    v = (-(xx - cx) * s + (yy - cy) * c) / hy
    return (np.abs(u) <= 1) & (np.abs(v) <= 1), u, v


def frame(fields: list[Field], clipped_share: float) -> npt.NDArray[np.uint16]:
    """`fields`, each holding a body, with the panel clipping the brightest `clipped_share` of it."""
    rng = np.random.default_rng(len(fields))
    shutter = np.full((SIZE, SIZE), BLADES)
    mu = np.zeros((SIZE, SIZE))
    for f in fields:
        m, u, v = _inside(f)
        shutter[m] = 1.0
        e = (u / 0.45) ** 2 + (v / 0.5) ** 2
        body = e < 1
        mu[body] = np.maximum(mu[body], 0.3 + 1.5 * np.sqrt(1 - e[body]))
    primary = OPEN_DN * np.exp(-mu) * shutter
    raw = rng.poisson(primary + SCATTER * _blur(primary, 160)).astype(np.float64)
    return np.minimum(raw, np.quantile(raw, 1 - clipped_share)).astype(np.uint16)


def test_clipped_fields_glowing_into_the_shadow_are_not_shuttered() -> None:
    r = imaging.process(frame(THREE, 0.45))
    kept = [float(r.field_mask[_inside(f)[0]].mean()) for f in THREE]
    assert min(kept) >= 0.99, f"a field is shuttered, kept shares {kept}"


def test_one_clipped_field_keeps_its_shutter() -> None:
    r = imaging.process(frame(ONE, 0.2))
    assert r.collimation.kind == "rect"
    assert iou(r.field_mask, _inside(ONE[0])[0]) >= 0.98
