//! The circle's fine stage when only short arcs of it show: a large circular field that the
//! detector cuts on every side. The coarse circle then can be off by more than the fine stage's
//! edge search reaches (seen on wide-physics frames: 45 px off in the centre, 37 px in the
//! radius); sampling the edge again around each fit must walk it onto the edge.

use _core::collimation::circle::{refine, CircleCoarse};
use _core::collimation::Geometry;
use _core::frame::{log_lut, Frame};
use _core::pipeline::prepare;

const SIZE: usize = 3072;

/// A flat field inside the circle, 25 % blade transmission outside, a soft edge (σ ≈ 4.6 px),
/// a gentle gradient across the frame and deterministic noise. Drawn here, not by the phantom.
fn frame(cx: f64, cy: f64, r: f64) -> Vec<u16> {
    let mut seed = 99u64;
    let mut noise = move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    };
    let s = 4.6 * 3f64.sqrt() / std::f64::consts::PI;
    (0..SIZE * SIZE)
        .map(|i| {
            let (x, y) = ((i % SIZE) as f64, (i / SIZE) as f64);
            let d = r - ((x - cx).powi(2) + (y - cy).powi(2)).sqrt();
            let open = 1.0 / (1.0 + (-d / s).exp());
            let signal = 9000.0 * (1.0 + 0.1 * x / SIZE as f64) * (0.25 + 0.75 * open);
            (signal + 4.0 * signal.sqrt() * noise()).round() as u16
        })
        .collect()
}

#[test]
fn a_large_circle_cut_on_every_side_is_fitted_from_a_coarse_circle_far_off() {
    let (cx, cy, r) = (1467.2, 1394.7, 1661.3);
    let raw = frame(cx, cy, r);
    let frame = Frame::new(&raw, SIZE, SIZE).unwrap();
    let (_, low) = prepare(&frame, &log_lut());
    let f = low.factor as f64;
    // The coarse circle about as far off as on such a wide-physics frame: centre 47 px up and
    // 8 px left, radius 43 px larger.
    let (lx, ly) = low.to_low(cx - 8.0, cy - 47.0);
    let coarse = CircleCoarse { cx: lx, cy: ly, r: (r + 43.0) / f, support: 0.7 };
    let Geometry::Circle { cx: fx, cy: fy, r: fr } = refine(&coarse, &frame, &low).geometry else {
        panic!("not a circle");
    };
    let off = ((fx - cx).powi(2) + (fy - cy).powi(2)).sqrt().max((fr - r).abs());
    assert!(off <= 1.5, "fitted ({fx:.1}, {fy:.1}, {fr:.1}) against ({cx}, {cy}, {r})");
}
