"""The phantom's ground truth, drawn independently of the detector (issue 13, point 1).

* `phantom_truth` (NumPy, from the phantom's scene numbers) rasterises rectangles, rotated
  rectangles and circles to their analytic areas;
* the masks the Rust phantom returns equal that independent rasterisation pixel for pixel, for both
  physics and every kind, and on wide frames with two or three fields (their union);
* module boundaries: the phantom uses nothing of the detection code, the detection code nothing of
  the phantom, no constant name is shared between them, and the NumPy truth does not import `dros`.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dros import imaging
from tests.imaging import phantom_truth
from tests.imaging.phantom_truth import attenuation, field_mask, truth

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "rust_core" / "src"
# The detection chain: everything `imaging.process` runs.
DETECTOR_FILES = [
    *sorted((SRC / "collimation").glob("*.rs")),
    *sorted((SRC / "enhance").glob("*.rs")),
    *(SRC / f for f in ("foreground.rs", "auto_wwwl.rs", "exposure.rs", "pipeline.rs", "apply.rs", "frame.rs")),
]


def _within(count: int, area: float, perimeter: float) -> bool:
    """Pixel-centre counts differ from the area by at most about half the perimeter in pixels."""
    return abs(count - area) <= 0.5 * perimeter + 4


@pytest.mark.parametrize("hw,hh", [(100.0, 60.0), (300.5, 211.25), (7.0, 400.0)])
def test_axis_aligned_rectangle_has_its_area(hw: float, hh: float) -> None:
    f = {"kind": "rect", "center": (511.3, 480.7), "half_size": (hw, hh), "angle_deg": 0.0}
    n = int(field_mask(f, 1024, 1024).sum())
    assert _within(n, 4 * hw * hh, 4 * (hw + hh)), n


@pytest.mark.parametrize("angle", [-44.0, -20.0, 7.5, 30.0, 45.0, 90.0])
def test_rotated_rectangle_has_its_area(angle: float) -> None:
    hw, hh = 250.3, 140.6  # edges off the pixel centres, so that no pixel is a tie
    f = {"kind": "rect", "center": (512.0, 500.0), "half_size": (hw, hh), "angle_deg": angle}
    m = field_mask(f, 1024, 1024)
    assert _within(int(m.sum()), 4 * hw * hh, 4 * (hw + hh)), int(m.sum())
    # Rotation by 90° swaps the sides: the same set of pixels as the swapped, unrotated rectangle.
    if angle == 90.0:
        g = {"kind": "rect", "center": (512.0, 500.0), "half_size": (hh, hw), "angle_deg": 0.0}
        assert np.count_nonzero(m ^ field_mask(g, 1024, 1024)) == 0


@pytest.mark.parametrize("r", [12.5, 150.0, 480.0])
def test_circle_has_its_area(r: float) -> None:
    f = {"kind": "circle", "center": (500.4, 520.9), "radius": r}
    n = int(field_mask(f, 1024, 1024).sum())
    assert _within(n, math.pi * r * r, 2 * math.pi * r), (n, math.pi * r * r)


def test_field_running_off_the_panel_is_clipped() -> None:
    f = {"kind": "rect", "center": (0.0, 300.0), "half_size": (100.0, 50.0), "angle_deg": 0.0}
    # Columns 0..100 (101) × rows 250..350 (101).
    assert int(field_mask(f, 640, 640).sum()) == 101 * 101


def _assert_masks_match(t: phantom_truth.Truth, p: imaging.Phantom, seed: int) -> None:
    """The NumPy truth's masks against the phantom's own, pixel for pixel."""
    for name, mine, theirs in [
        ("field", t.field, p.field_mask),
        ("direct", t.direct, p.direct_mask),
        ("anatomy", t.anatomy, p.anatomy_mask),
        ("markers", t.markers, p.marker_mask),
    ]:
        differ = int(np.count_nonzero(mine ^ theirs))
        # Floating-point ties at a threshold may differ; more than a handful is a different model.
        assert differ <= 10, f"seed {seed} {name}: {differ} pixels differ"


@pytest.mark.parametrize("physics", ["classic", "wide"])
@pytest.mark.parametrize("kind", ["rect", "circle", "none"])
def test_phantom_masks_equal_the_independent_rasterisation(kind: str, physics: str) -> None:
    for seed in (3, 14, 15):
        p = imaging.phantom(kind, 1100, 900, seed=seed, physics=physics)
        t = truth(p.scene, 1100, 900)
        _assert_masks_match(t, p, seed)
        assert t.field.any() and (t.anatomy.any() or kind == "none")


def test_phantom_field_area_is_analytic_when_inside_the_panel() -> None:
    checked = 0
    for seed in range(20):
        for kind in ("rect", "circle"):
            p = imaging.phantom(kind, 800, 700, seed=seed, defects=False)
            f = p.scene["field"]
            if kind == "circle":
                (cx, cy), r = f["center"], f["radius"]
                inside = r < min(cx, cy, 799 - cx, 699 - cy)
                area, perim = math.pi * r * r, 2 * math.pi * r
            else:
                (cx, cy), (hw, hh) = f["center"], f["half_size"]
                t = math.radians(f["angle_deg"])
                corners = [
                    (cx + u * math.cos(t) - v * math.sin(t), cy + u * math.sin(t) + v * math.cos(t))
                    for u, v in ((-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh))
                ]
                inside = all(0 <= x <= 799 and 0 <= y <= 699 for x, y in corners)
                area, perim = 4 * hw * hh, 4 * (hw + hh)
            if inside:
                checked += 1
                assert _within(int(p.field_mask.sum()), area, perim), (seed, kind)
    assert checked >= 10


def test_wide_physics_draws_cover_the_issue_ranges() -> None:
    sc = [imaging.phantom("rect", 64, 64, seed=s, physics="wide").scene for s in range(200)]
    sig = [s["penumbra_sigma"] for s in sc]
    tr = [s["blade_transmission"] for s in sc]
    sf = [s["scatter_to_primary"] / (1 + s["scatter_to_primary"]) for s in sc]
    # frames with several fields turn each by a few degrees only (test_multi_field_frames_*)
    ang = [abs(s["field"]["angle_deg"]) for s in sc if s["field"]["kind"] == "rect"]
    assert 1.0 <= min(sig) < 1.5 and 7.5 < max(sig) <= 8.0
    assert 0.0 <= min(tr) < 0.03 and 0.37 < max(tr) <= 0.4
    assert max(sf) > 0.57 and max(sf) <= 0.6
    assert max(ang) > 40.0 and sum(a > 20 for a in ang) >= 40
    heels = [abs(s["heel"]) for s in sc]
    assert max(heels) > 0.14
    classic = imaging.phantom("rect", 256, 256, seed=1).scene
    assert classic["penumbra_sigma"] < 0.7 and classic["blade_transmission"] <= 0.04


def _rust_code(path: Path) -> str:
    """Source without comments (`//…`), so that prose may name the other side."""
    return "\n".join(line.split("//", 1)[0] for line in path.read_text().splitlines())


def test_phantom_uses_nothing_of_the_detector() -> None:
    code = _rust_code(SRC / "phantom.rs")
    uses = set(re.findall(r"crate::(\w+)", code))
    assert uses <= {"error"}, f"the phantom uses {uses - {'error'}} of the crate"
    assert "super::" not in code


def test_detector_uses_nothing_of_the_phantom() -> None:
    for f in DETECTOR_FILES:
        assert "phantom" not in _rust_code(f).lower(), f"{f.relative_to(ROOT)} refers to the phantom"


def test_no_constant_is_shared_between_phantom_and_detector() -> None:
    const = re.compile(r"\bconst\s+([A-Z][A-Z0-9_]+)\s*:")
    phantom_consts = set(const.findall(_rust_code(SRC / "phantom.rs")))
    detector_consts = {c for f in DETECTOR_FILES for c in const.findall(_rust_code(f))}
    assert phantom_consts and detector_consts
    shared = phantom_consts & detector_consts
    assert not shared, f"constants of both the phantom and the detector: {shared}"
    phantom_code = _rust_code(SRC / "phantom.rs")
    used = {c for c in detector_consts if re.search(rf"\b{c}\b", phantom_code)}
    assert not used, f"the phantom names detector constants: {used}"


def test_numpy_truth_does_not_import_dros() -> None:
    tree = ast.parse(Path(phantom_truth.__file__).read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not any(m.split(".")[0] in {"dros", "tests"} for m in imported), imported


def test_wide_physics_draws_detector_and_patient_effects_over_their_ranges() -> None:
    """Gain seams between tiles, grid lines near Nyquist, saturation, metal implants, paediatric fields."""
    n = 300
    sc = [imaging.phantom("rect", 64, 64, seed=s, physics="wide").scene for s in range(n)]
    gains = [g for s in sc for g in s["tile_gain"]]
    assert 0.97 <= min(gains) < 0.975 and 1.025 < max(gains) <= 1.03
    assert sum(s["tiles"] != (1, 1) for s in sc) > n // 2
    grids = [s["grid"] for s in sc if s["grid"] is not None]
    assert 0.4 * n < len(grids) < 0.6 * n
    assert all(0.35 <= g[0] <= 0.49 and 0.02 <= g[1] <= 0.15 for g in grids)
    assert {g[3] for g in grids} == {0.0, 1.0}
    saturated = sum(s["saturation_dn"] < 65535 for s in sc)
    assert 0.15 * n < saturated < 0.35 * n
    implants = [m for s in sc for m in s["implants"]]
    assert 0.25 * n < sum(bool(s["implants"]) for s in sc) < 0.45 * n
    assert all(2.0 <= m[6] <= 4.5 for m in implants)
    children = [s for s in sc if s["paediatric"]]
    assert 0.08 * n < len(children) < 0.22 * n
    for s in children:
        hw, hh = s["field"]["half_size"]
        assert 0.02 <= 4 * hw * hh / (64 * 64) <= 0.06
    classic = imaging.phantom("rect", 64, 64, seed=1).scene
    assert classic["implants"] == [] and classic["grid"] is None and classic["saturation_dn"] == 65535


def _wide(kind: str, want: Callable[[dict[str, Any]], bool], size: int = 256) -> imaging.Phantom:
    for seed in range(2000):
        if want(imaging.phantom(kind, 16, 16, seed=seed, physics="wide").scene):
            return imaging.phantom(kind, size, size, seed=seed, physics="wide", defects=False)
    raise AssertionError("no such frame in 2000 seeds")


def test_grid_lines_are_in_the_raw_frame_at_their_frequency() -> None:
    ph = _wide("none", lambda s: s["grid"] is not None and s["grid"][3] == 1.0 and s["grid"][1] > 0.08)
    f0 = ph.scene["grid"][0]
    profile = ph.raw.astype(np.float64).mean(axis=0)
    spectrum = np.abs(np.fft.rfft(profile - profile.mean()))
    freq = np.fft.rfftfreq(len(profile))
    assert abs(freq[int(np.argmax(spectrum[freq > 0.3])) + int(np.sum(freq <= 0.3))] - f0) < 0.01


def test_a_saturating_panel_clips_direct_exposure_flat() -> None:
    ph = _wide("none", lambda s: s["saturation_dn"] < 0.6 * s["dn_per_ugy"] * 10)
    top = round(ph.scene["saturation_dn"])
    assert ph.raw.max() == top
    assert np.mean(ph.raw[ph.direct_mask] == top) > 0.9


def test_tile_gains_make_seams_in_direct_exposure() -> None:
    ph = _wide("none", lambda s: s["tiles"][0] >= 2 and abs(s["tile_gain"][1] / s["tile_gain"][0] - 1) > 0.02
               and s["grid"] is None and s["saturation_dn"] == 65535)  # fmt: skip
    seam = -(-256 // ph.scene["tiles"][0])  # first tile's width
    left, right = ph.raw[:, seam - 1].astype(np.float64), ph.raw[:, seam].astype(np.float64)
    both = ph.direct_mask[:, seam - 1] & ph.direct_mask[:, seam]
    assert both.sum() > 20
    g = ph.scene["tile_gain"]
    assert abs(np.median(right[both] / left[both]) - g[1] / g[0]) < 0.01


def test_implants_are_metal_in_the_raw_frame_and_anatomy_in_the_truth() -> None:
    ph = _wide("none", lambda s: bool(s["implants"]))
    t = truth(ph.scene, 256, 256)
    assert (t.anatomy == ph.anatomy_mask).all()
    a = attenuation(ph.scene, 256, 256)
    metal = a > ph.scene["max_attenuation"]
    assert metal.any()
    # darker than the tissue, though scatter (up to 60 % of the signal) fills much of its shadow
    assert np.median(ph.raw[metal]) < 0.5 * np.median(ph.raw[t.anatomy & ~metal])


def _fields(scene: dict[str, Any]) -> list[dict[str, Any]]:
    f = scene["field"]
    return list(f["fields"]) if f["kind"] == "multiple" else [f]


def _rect_corners(f: dict[str, Any]) -> list[tuple[float, float]]:
    (cx, cy), (hw, hh) = f["center"], f["half_size"]
    t = math.radians(f["angle_deg"])
    c, s = math.cos(t), math.sin(t)
    return [(cx + u * c - v * s, cy + u * s + v * c) for u, v in ((-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh))]


def test_multi_field_frames_are_a_share_of_wide_rectangles() -> None:
    """Two or three fields on about 30 % of wide rectangle frames (10 % of wide frames with the kinds
    in turn), never on circles, open fields or classic physics; a third of them with three."""
    n = 300
    fields = [_fields(imaging.phantom("rect", 64, 64, seed=s, physics="wide").scene) for s in range(n)]
    multi = [f for f in fields if len(f) > 1]
    assert 0.22 * n < len(multi) < 0.38 * n, len(multi)
    assert {len(f) for f in multi} == {2, 3}
    assert 0.2 * len(multi) < sum(len(f) == 3 for f in multi) < 0.5 * len(multi)
    assert all(g["kind"] == "rect" and abs(g["angle_deg"]) <= 6.0 for f in multi for g in f)
    for kind, physics in [("circle", "wide"), ("none", "wide"), ("rect", "classic")]:
        kinds = {imaging.phantom(kind, 64, 64, seed=s, physics=physics).scene["field"]["kind"] for s in range(100)}
        assert kinds == {kind}, (kind, physics, kinds)


def test_multi_field_frames_have_disjoint_fields_of_analytic_area_each_with_its_patient() -> None:
    """Each field lies on the panel, none overlaps another, the union has the sum of their areas, and
    each field holds anatomy of its own patient; the phantom's masks equal the NumPy rasterisation."""
    w, h = 900, 700
    checked = 0
    for seed in range(60):
        p = imaging.phantom("rect", w, h, seed=seed, physics="wide")
        if p.scene["field"]["kind"] != "multiple":
            continue
        checked += 1
        fields = _fields(p.scene)
        assert len(p.scene["more_bodies"]) == len(fields) - 1 and not p.scene["paediatric"]
        assert p.collimation.kind == "none" and np.array_equal(p.collimation.mask, p.field_mask)
        masks = [field_mask(f, w, h) for f in fields]
        assert sum(int(m.sum()) for m in masks) == int(np.logical_or.reduce(masks).sum()), f"seed {seed}: overlap"
        for f in fields:
            assert all(-0.5 <= x <= w - 0.5 and -0.5 <= y <= h - 0.5 for x, y in _rect_corners(f)), seed
        area = sum(4 * f["half_size"][0] * f["half_size"][1] for f in fields)
        perimeter = sum(4 * (f["half_size"][0] + f["half_size"][1]) for f in fields)
        assert _within(int(p.field_mask.sum()), area, perimeter), (seed, int(p.field_mask.sum()), area)
        t = truth(p.scene, w, h)
        _assert_masks_match(t, p, seed)
        for i, m in enumerate(masks):
            assert (t.anatomy & m).sum() > 0.1 * m.sum(), f"seed {seed}: field {i} holds little anatomy"
            assert t.direct[m].any(), f"seed {seed}: field {i} has no direct exposure"
    assert checked >= 10, checked
