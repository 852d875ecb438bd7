//! How much of a refined outline the full-resolution frame shows as a shutter edge: the fine
//! judge between a rectangle and a circle that the reduced image supports about equally.
//!
//! A circle larger than the panel shows only arcs across its corners; four straight sides at 45°
//! run along those arcs, and the reduced image's step test holds on both outlines alike (wide
//! development frames: 0.672 against 0.676, 0.651 against 0.652). At full resolution an arc of a
//! 1100 px circle bows 30–40 px away from its chord, so the edge lies on the outline that fits it
//! and leaves the other one except where they cross.

use rayon::prelude::*;

use super::{edge_offset, Collimation, Geometry};
use crate::frame::Frame;

/// Spacing of the outline samples (full-resolution pixels).
const SPACING: f64 = 8.0;
/// An edge found within this of the outline agrees with it (pixels).
pub const AGREE_PX: f64 = 2.0;

/// Points on the visible outline of `c`, each with its inward unit normal, at least `margin`
/// pixels inside the frame.
fn outline_points(c: &Collimation, margin: f64) -> Vec<((f64, f64), (f64, f64))> {
    let (w, h) = (c.width as f64, c.height as f64);
    let inside = |x: f64, y: f64| x >= margin && y >= margin && x <= w - 1.0 - margin && y <= h - 1.0 - margin;
    let mut out = Vec::new();
    match &c.geometry {
        Geometry::None => {}
        Geometry::Circle { cx, cy, r } => {
            let n = ((std::f64::consts::TAU * r / SPACING).ceil() as usize).max(8);
            for k in 0..n {
                let a = k as f64 * std::f64::consts::TAU / n as f64;
                let (ex, ey) = (a.cos(), a.sin());
                let p = (cx + r * ex, cy + r * ey);
                if inside(p.0, p.1) {
                    out.push((p, (-ex, -ey)));
                }
            }
        }
        Geometry::Rect { sides, .. } => {
            let diag = (w * w + h * h).sqrt();
            for (i, s) in sides.iter().enumerate() {
                let (tx, ty) = (-s.ny, s.nx);
                let (bx, by) = (s.rho * s.nx, s.rho * s.ny);
                let mut t = -diag;
                while t <= diag {
                    let p = (bx + t * tx, by + t * ty);
                    // Near a corner the other side's edge is within reach: not this side's.
                    if inside(p.0, p.1)
                        && sides.iter().enumerate().all(|(j, o)| j == i || o.distance(p.0, p.1) >= margin)
                    {
                        out.push((p, (s.nx, s.ny)));
                    }
                    t += SPACING;
                }
            }
        }
    }
    out
}

/// Share of the visible outline of `c` where the frame's steepest rise across it (short profile,
/// then `long` when the short one shows no step) lies within [`AGREE_PX`]; 0 without samples.
pub fn agreement(frame: &Frame<'_>, c: &Collimation, short: usize, long: usize) -> f64 {
    let pts = outline_points(c, long as f64 + 4.0);
    if pts.is_empty() {
        return 0.0;
    }
    let agree = pts
        .par_iter()
        .filter(|(p, n)| {
            edge_offset(frame, *p, *n, short, 3)
                .or_else(|| edge_offset(frame, *p, *n, long, 3))
                .is_some_and(|s| s.abs() <= AGREE_PX)
        })
        .count();
    agree as f64 / pts.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collimation::HalfPlane;

    /// A 1000² frame lit inside a circle of radius 600 about its centre (blades pass 10 %): only
    /// arcs across the corners show, each bowing 12 px from the side at 45° through its ends.
    #[test]
    fn the_edge_agrees_with_the_circle_not_with_the_sides_along_its_arcs() {
        let (n, r) = (1000usize, 600.0f64);
        let c = (n as f64 - 1.0) / 2.0;
        let data: Vec<u16> = (0..n * n)
            .map(|i| {
                let (x, y) = ((i % n) as f64, (i / n) as f64);
                if ((x - c).powi(2) + (y - c).powi(2)).sqrt() <= r {
                    20_000
                } else {
                    2_000
                }
            })
            .collect();
        let frame = Frame::new(&data, n, n).unwrap();
        let circle = Collimation::circle(n, n, c, c, r, 1.0);
        // The chord of an arc spanning 2θ lies r·cos θ from the centre.
        let half_arc = ((c / r).acos() - std::f64::consts::FRAC_PI_4).abs();
        let d = r * half_arc.cos();
        let s = std::f64::consts::FRAC_1_SQRT_2;
        let sides = [(s, s), (-s, s), (s, -s), (-s, -s)]
            .iter()
            .map(|&(nx, ny)| HalfPlane { nx, ny, rho: nx * c + ny * c - d })
            .collect();
        let rect = Collimation::rect(n, n, sides, 45.0, 1.0);
        let (on_circle, on_rect) = (agreement(&frame, &circle, 14, 32), agreement(&frame, &rect, 14, 32));
        assert!(on_circle > 0.9, "circle {on_circle}");
        assert!(on_rect < 0.5, "sides {on_rect}");
    }
}
