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
- Stop 28, on the third set (seeds 7,190,000…):
  - a small field with a soft penumbra (σ 7.7 px): each side kept its coarse place, 2.5 px outside the
    blade, as its short edge profiles were all slope (`collimation::LowRes::edge_reaches`; IoU 0.978);
  - a paediatric field at the panel's border, a spurious fourth side 10 reduced pixels past its top:
    its neighbours were left too short to prove and dropped first, then every side (no shutter, IoU
    0.03); a side proven wrong now goes first;
  - circles larger than the panel, arcs in the corners only, tied with four sides at 45° on the
    reduced image (0.672 against 0.676, 0.651 against 0.652): taken for rectangles (IoU 0.98, 0.92),
    now judged on the full-resolution edge (`collimation::outline`);
  - circles inside bodies under bright blades whose coarse outline, 25–30 px off, held on 0.34–0.38:
    refined, they hold on ≥ 0.97 (`collimation::CIRCLE_RETRY_MIN`; no shutter before);
  - fields whose blade leakage over air clips a panel that clips low, inside the field and outside
    alike (one of them with its field inside a thick body): the clipped parts that mark further fields
    must lie apart from the field's (`collimation::clipped_outside`); a first version without that
    left these without a shutter.
- Stop 29, on the fourth set (seeds 7,200,000…):
  - patients in open fields under scatter of 1.05–1.5 times the primary, standing only 0.38–0.43
    below direct exposure, yet with a steep skin edge (0.21–0.28) and open beam behind the blades:
    no direct exposure was found (`foreground::STEEP_EDGE_DROP`, `MIN_EDGE_SEPARATION_OPEN`; EI
    +28 to +34 %, and the window clipped two of them);
  - a paediatric field inside a body, dense tissue running out under the blades as bright as a
    marker: the histogram's marker check took it for one and dropped 2.4 % of the anatomy, the top
    of the window 21 % of its range too low (`auto_wwwl`, pieces the field cuts are no markers);
  - lead markers under scatter of 1.36 times the primary, only 0.5 below their surroundings: left in
    the anatomy, they pulled the EI 5.7 % low (`foreground::MARKER_DROP_FLAT`; `EI_FRAMES`, as the
    window on that frame still clips its skin line).
- Stop 30, on the fifth set (seeds 7,210,000…):
  - a rectangle of thick anatomy inside a body, blades passing 13 %, scatter 1.5 times the primary:
    the leakage over air beside the body, tried alone, got sides where the painting ended, and the
    frame lost its shutter (IoU 0.22); a further field must now show the shutter step on the frame
    as exposed (`collimation::several_fields`);
  - a circle inside a body whose coarse outline held on 0.55, a side along the body's edge as well:
    the side won (IoU 0.74); refined, the circle holds on 1.0 and is judged against the side on the
    full-resolution edge (`collimation::CIRCLE_RETRY_MIN`);
  - a paediatric circle with a T of two implants under scatter of 0.75 times the primary: the first
    marker pass found the T too long, the second, at its lower threshold, took it for a flat marker,
    and the window lost the implants (its top 19 % of the anatomy's range too low); a marker must now
    also be solid, filling `foreground::MARKER_FILL_MIN` of its equivalent ellipse (the T: 0.39).
- Stop 31, on the sixth set (seeds 7,220,000…):
  - a circle larger than the panel, cut by three of its borders, inside a body under heavy scatter:
    its coarse outline held on 0.55, four sides at 45° on 0.64, and the sides won (IoU 0.96); a
    rectangle holding on less than `collimation::RECT_SURE` no longer keeps a refined circle from
    being judged against it on the full-resolution edge (refined, the circle holds on 1.0;
    `TARGET_FRAMES`, as its direct-exposure IoU is 0.77, 0.76 before the change);
  - a rectangle inside a body, blades passing 40 %: the strongest falling edge across one axis was
    a body's, which failed the step test, and the field ran to the panel's border there (IoU 0.93);
    a side that fails now gives way to the next edge of its polarity (`collimation::rect::coarse`);
  - three fields, heel effect 15 %: only the middle one was found, the other two blacked out. Its
    direct exposure, tilted by the heel, held only 0.147 of it within 0.1 of its top, under the
    plateau a field of direct exposure must show before exposure outside it is read as further
    fields; the plateau is now also measured about a plane (`collimation::HEEL_DRIFT`).
- Stop 32, on the seventh set (seeds 7,230,000…), four windows that clipped the top of the anatomy:
  - two frames where bone crosses bone: the crossing is compact, solid and in the histogram's top
    cluster, and the window's last resort dropped it as a marker the spatial search had missed,
    though that search had found both markers, saturated at 4095 (crossings' medians 3861 and 3403).
    A piece of the top cluster is now lead only when it reaches within
    `auto_wwwl::MARKER_LEVEL_REACH` of the found markers' level;
  - three nails crossing, at the reduced resolution a marker-sized piece with a compact piece's
    moments: the first marker pass took them for a marker (the second pass already asked for a
    solid shape, the first did not; their fill 0.50, the markers' 0.95–0.97);
  - a nail running from a flat marker under heavy scatter: the second pass took the marker and the
    nail as one piece; it now keeps only the marker's plateau grown by one.
- Plates whose clipped fields glow into the shadow between them (`PLATES`): a shutter around one field
  blacked out the other two; every field is now kept. Their window and EI are judged elsewhere (the
  panel clipped their anatomy).
"""

from __future__ import annotations

import pytest

from tests.imaging.imaging_sets import (
    FIELD_KEPT_MIN,
    WIDE_DEVELOPMENT_FIFTH_FIRST,
    WIDE_DEVELOPMENT_FIRST,
    WIDE_DEVELOPMENT_FOURTH_FIRST,
    WIDE_DEVELOPMENT_SECOND_FIRST,
    WIDE_DEVELOPMENT_SEVENTH_FIRST,
    WIDE_DEVELOPMENT_SIXTH_FIRST,
    WIDE_DEVELOPMENT_THIRD_FIRST,
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
    7_190_000: "small rectangle, penumbra σ 7.7 px",
    7_190_153: "paediatric rectangle at the panel's border, a spurious side past its top",
    7_190_181: "circle larger than the panel, arcs in the corners",
    7_190_265: "circle larger than the panel, arcs in the corners, blades passing 37 %",
    7_190_136: "small circle inside a body, blades passing 35 %",
    7_190_199: "circle inside a body, leakage over air outshining one side",
    7_190_256: "circle whose blade leakage over air clips a low panel",
    7_190_141: "rectangle inside a thick body, leakage over air clipping a low panel",
    7_200_025: "circle around a patient, scatter 1.5 times the primary, separation 0.38",
    7_200_162: "paediatric rectangle, scatter 1.05 times the primary, penumbra σ 7.3 px",
    7_200_214: "circle around a patient, scatter 1.4 times the primary, separation 0.43",
    7_200_009: "paediatric field inside a body, dense tissue under the blades as bright as a marker",
    7_210_204: "rectangle of thick anatomy inside a body, leakage tried alone outlined where painting ended",
    7_210_265: "circle inside a body, a side along the body's edge holding as well as the coarse circle",
    7_210_259: "paediatric circle, a T of two implants taken for a flat marker",
    7_220_135: "rectangle inside a body, blades passing 40 %, a body's edge the strongest across one axis",
    7_220_213: "three fields, heel 15 %: the middle one's direct exposure too tilted to read as a plateau",
    7_230_052: "paediatric circle, a nail running from a flat marker under heavy scatter",
    7_230_115: "circle, three nails crossing in a marker-sized piece",
    7_230_237: "rectangle, bone crossing bone as bright as the top cluster, markers saturated",
    7_230_256: "paediatric circle, bones crossing in a parallelogram, markers saturated",
}
# Judged on issue 13's targets (field, window, EI) but not on the direct-exposure IoU, a diagnostic
# that the change made for them does not touch.
TARGET_FRAMES = {
    7_220_037: "circle larger than the panel inside a body, four sides at 45° holding on 0.64",
}
EI_FRAMES = {
    7_200_115: "paediatric circle, two lead markers 0.5 below their surroundings under heavy scatter",
}
PLATES = {
    7_190_042: "three clipped fields stacked, glowing into the shadow",
    7_190_240: "three clipped fields side by side, turned, glowing into the shadow",
}


def spec(seed: int) -> FrameSpec:
    first = max(
        f
        for f in (
            WIDE_DEVELOPMENT_FIRST,
            WIDE_DEVELOPMENT_SECOND_FIRST,
            WIDE_DEVELOPMENT_THIRD_FIRST,
            WIDE_DEVELOPMENT_FOURTH_FIRST,
            WIDE_DEVELOPMENT_FIFTH_FIRST,
            WIDE_DEVELOPMENT_SIXTH_FIRST,
            WIDE_DEVELOPMENT_SEVENTH_FIRST,
        )
        if f <= seed
    )
    return cycle_spec(first, seed - first, "wide")


@pytest.mark.parametrize("seed", sorted(FRAMES))
def test_development_frame_meets_every_target(seed: int) -> None:
    r = evaluate(spec(seed))
    assert not r.failures, f"{seed} ({FRAMES[seed]}): {r.failures}"


@pytest.mark.parametrize("seed", sorted(TARGET_FRAMES))
def test_development_frame_meets_the_issue_targets(seed: int) -> None:
    r = evaluate(spec(seed))
    missed = [f for f in r.failures if not f.startswith("direct-exposure")]
    assert not missed, f"{seed} ({TARGET_FRAMES[seed]}): {missed}"


@pytest.mark.parametrize("seed", sorted(EI_FRAMES))
def test_development_frame_keeps_its_ei(seed: int) -> None:
    r = evaluate(spec(seed))
    missed = [f for f in r.failures if f.startswith("EI")]
    assert not missed, f"{seed} ({EI_FRAMES[seed]}): {missed}"


@pytest.mark.parametrize("seed", sorted(PLATES))
def test_development_plate_keeps_every_field(seed: int) -> None:
    r = evaluate(spec(seed))
    assert r.fields_kept is not None, f"{seed} ({PLATES[seed]}) is no multi-field plate"
    assert min(r.fields_kept) >= FIELD_KEPT_MIN, f"{seed} ({PLATES[seed]}): kept shares {r.fields_kept}"
