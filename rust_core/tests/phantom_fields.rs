//! Two or three fields on one wide-physics frame: where the phantom puts them, on any panel.

use _core::phantom::{generate, Field, FieldKind, PhantomSpec, Physics};

fn wide(w: usize, h: usize, kind: FieldKind, seed: u64) -> PhantomSpec {
    PhantomSpec { physics: Physics::Wide, defects: false, ..PhantomSpec::new(w, h, kind, seed) }
}

/// The fields of a multi-field frame lie on the panel and apart from each other (their bounding
/// boxes do not meet), each with a patient, whatever the panel's size and shape.
#[test]
fn multi_fields_stay_on_the_panel_and_apart() {
    let mut seen = [0usize; 4];
    for (w, h) in [(16, 16), (16, 3000), (3000, 17), (64, 64), (300, 200)] {
        for seed in 0..200u64 {
            let ph = generate(&wide(w, h, FieldKind::Rect, seed)).unwrap();
            let sc = &ph.scene;
            let fields: Vec<Field> = std::iter::once(sc.field).chain(sc.more_fields.iter().copied()).collect();
            seen[fields.len().min(3)] += 1;
            assert_eq!(sc.more_bodies.len(), sc.more_fields.len());
            if fields.len() == 1 {
                continue;
            }
            assert!(!sc.paediatric);
            let boxes: Vec<(f64, f64, f64, f64)> = fields
                .iter()
                .map(|f| {
                    let pts = f.corners();
                    assert_eq!(pts.len(), 4, "every field is a rectangle");
                    let xs = pts.iter().map(|p| p.0);
                    let ys = pts.iter().map(|p| p.1);
                    (
                        xs.clone().fold(f64::INFINITY, f64::min),
                        ys.clone().fold(f64::INFINITY, f64::min),
                        xs.fold(f64::NEG_INFINITY, f64::max),
                        ys.fold(f64::NEG_INFINITY, f64::max),
                    )
                })
                .collect();
            let eps = 1e-9;
            for b in &boxes {
                assert!(b.0 >= -0.5 - eps && b.1 >= -0.5 - eps, "{w}x{h} seed {seed}: {b:?} off the panel");
                assert!(b.2 <= w as f64 - 0.5 + eps && b.3 <= h as f64 - 0.5 + eps, "{w}x{h} seed {seed}: {b:?}");
            }
            for (i, a) in boxes.iter().enumerate() {
                for b in &boxes[i + 1..] {
                    let apart = a.2 < b.0 || b.2 < a.0 || a.3 < b.1 || b.3 < a.1;
                    assert!(apart, "{w}x{h} seed {seed}: fields {a:?} and {b:?} overlap");
                }
            }
            // The field mask is the union: every field's centre is in it (fields of a pixel or more;
            // on a 16-pixel panel a field may be narrower than a pixel).
            for f in &fields {
                if let Field::Rect { cx, cy, hw, hh, .. } = *f {
                    let inside = ph.field_mask[[cy.round() as usize, cx.round() as usize]];
                    assert!(inside || hw.min(hh) < 1.0, "{w}x{h} seed {seed}: centre of {f:?} not in the mask");
                }
            }
        }
    }
    assert!(seen[1] > 0 && seen[2] > 0 && seen[3] > 0, "{seen:?}");
}

/// Circles, open fields and classic physics never carry several fields.
#[test]
fn only_wide_rectangles_get_several_fields() {
    for seed in 0..60u64 {
        for spec in [
            wide(32, 32, FieldKind::Circle, seed),
            wide(32, 32, FieldKind::Open, seed),
            PhantomSpec::new(32, 32, FieldKind::Rect, seed),
        ] {
            let ph = generate(&spec).unwrap();
            assert!(ph.scene.more_fields.is_empty() && ph.scene.more_bodies.is_empty());
        }
    }
}
