//! `collimator_rect`: rectangular shutters at any rotation. A rectangle turned by θ ± 90° is the
//! same rectangle, so searching θ in [−45°, 45°) covers every rotation; the reported angle is the
//! sides' mean normal folded into (−45°, 45°].
//!
//! Coarse stage on the reduced log image: for each candidate angle, signed gradients are
//! projected onto the two rectangle axes and accumulated by line offset (a polarity-aware Hough
//! transform: a shutter edge is a long straight line where the signal *rises* into the field).
//! The best angle gives four candidate sides; each keeps its place only if the log step across it
//! holds along most of its visible length (so anatomy edges, markers and dead lines drop out),
//! otherwise the field runs to the detector border there. Fine stage: every kept side is re-located
//! on the full-resolution raw frame from ~64 edge profiles and a robust line fit.

use rayon::prelude::*;

use super::{edge_offset, Collimation, HalfPlane, LowRes, SUPPORT_MIN};
use crate::frame::Frame;

/// Half the rotation range searched, degrees (all of it: see the module doc).
pub const MAX_ANGLE_DEG: f64 = 45.0;
/// Shortest visible outline of a rectangle, as a share of the frame's shorter side.
pub const MIN_OUTLINE: f64 = 0.3;
/// Share of a side's visible samples that must be informative (not clipped on the field side).
pub const MIN_INFORMATIVE: f64 = 0.33;
/// Least Hough evidence (summed capped log gradient along the line) for a candidate side.
pub const MIN_EVIDENCE: f64 = 5.0;

pub struct RectCoarse {
    /// Kept sides in low-res coordinates.
    pub sides: Vec<HalfPlane>,
    pub angle_deg: f64,
    /// Fraction of the kept outline that shows a shutter step.
    pub support: f64,
}

/// A candidate side and its Hough evidence.
type Candidate = (HalfPlane, f64);

/// Edge points (position, gradient) as separate `f64` columns, converted once for all the angles
/// the search tries.
struct EdgeColumns {
    x: Vec<f64>,
    y: Vec<f64>,
    gx: Vec<f64>,
    gy: Vec<f64>,
}

impl EdgeColumns {
    fn new(edges: &[[f32; 4]]) -> Self {
        let col = |k: usize| edges.iter().map(|e| e[k] as f64).collect();
        EdgeColumns { x: col(0), y: col(1), gx: col(2), gy: col(3) }
    }
}

fn profiles(edges: &EdgeColumns, w: usize, h: usize, deg: f64) -> ([Vec<f64>; 2], [f64; 2]) {
    let (s, c) = deg.to_radians().sin_cos();
    let dirs = [(c, s), (-s, c)];
    let corners = [(0.0, 0.0), ((w - 1) as f64, 0.0), (0.0, (h - 1) as f64), ((w - 1) as f64, (h - 1) as f64)];
    let mut out: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut mins = [0.0; 2];
    let mut bins = vec![0u32; edges.x.len()];
    for (k, &(nx, ny)) in dirs.iter().enumerate() {
        let proj = corners.map(|(x, y)| x * nx + y * ny);
        let lo = proj.iter().cloned().fold(f64::INFINITY, f64::min) - 1.0;
        let hi = proj.iter().cloned().fold(f64::NEG_INFINITY, f64::max) + 1.0;
        let nb = (hi - lo).ceil() as usize + 2;
        // The bins first, in a loop that vectorises: rho − lo ≥ 1 for points in the image, so
        // +0.5 and truncation round it; clamped, so the unchecked conversion is defined.
        let top = (nb - 1) as f64;
        for (b, (x, y)) in bins.iter_mut().zip(edges.x.iter().zip(&edges.y)) {
            let r = (x * nx + y * ny - lo + 0.5).max(0.0).min(top);
            // SAFETY: r is finite and within 0‥nb − 1 (`max`/`min` drop a NaN).
            *b = unsafe { r.to_int_unchecked::<u32>() };
        }
        let mut acc = vec![0.0f64; nb];
        for (b, (gx, gy)) in bins.iter().zip(edges.gx.iter().zip(&edges.gy)) {
            acc[*b as usize] += gx * nx + gy * ny;
        }
        let mut sm = acc.clone();
        for i in 1..nb - 1 {
            sm[i] = 0.25 * acc[i - 1] + 0.5 * acc[i] + 0.25 * acc[i + 1];
        }
        out[k] = sm;
        mins[k] = lo;
    }
    (out, mins)
}

fn peak(p: &[f64], sign: f64) -> Option<(f64, f64)> {
    peak_apart(p, sign, None)
}

/// Bins a second peak keeps from the first: the rising and falling edges of one field are as far
/// apart at least (see `coarse`).
const PEAK_APART: f64 = 8.0;

/// The strongest peak of `p` (of sign `sign`), at least `PEAK_APART` bins from `from` if given;
/// the peak must be a local maximum then, not the flank of the excluded one.
fn peak_apart(p: &[f64], sign: f64, from: Option<f64>) -> Option<(f64, f64)> {
    let (mut best, mut bi) = (0.0, usize::MAX);
    for (i, v) in p.iter().enumerate() {
        if let Some(f) = from {
            let local = (i == 0 || sign * p[i - 1] <= sign * v) && (i + 1 == p.len() || sign * p[i + 1] <= sign * v);
            if (i as f64 - f).abs() < PEAK_APART || !local {
                continue;
            }
        }
        if sign * v > best {
            best = sign * v;
            bi = i;
        }
    }
    if bi == usize::MAX {
        return None;
    }
    let delta = if bi > 0 && bi + 1 < p.len() {
        let (a, b, c) = (sign * p[bi - 1], best, sign * p[bi + 1]);
        let den = a - 2.0 * b + c;
        if den.abs() > 1e-12 {
            (0.5 * (a - c) / den).clamp(-0.5, 0.5)
        } else {
            0.0
        }
    } else {
        0.0
    };
    Some((bi as f64 + delta, best))
}

fn score(prof: &[Vec<f64>; 2]) -> f64 {
    prof.iter().map(|p| peak(p, 1.0).map(|x| x.1).unwrap_or(0.0) + peak(p, -1.0).map(|x| x.1).unwrap_or(0.0)).sum()
}

/// (good, informative, visible) samples along `side` inside the image and inside the other sides.
fn support(low: &LowRes, side: &HalfPlane, others: &[HalfPlane]) -> (usize, usize, usize) {
    let (w, h) = (low.log.width as f64, low.log.height as f64);
    let diag = (w * w + h * h).sqrt();
    let (tx, ty) = (-side.ny, side.nx);
    let (bx, by) = (side.rho * side.nx, side.rho * side.ny);
    let (mut good, mut total, mut visible) = (0, 0, 0);
    let mut t = -diag;
    while t <= diag {
        let (px, py) = (bx + t * tx, by + t * ty);
        t += 1.0;
        if !low.inside(px, py) || others.iter().any(|o| o.distance(px, py) < 3.0) {
            continue;
        }
        if low.step(px, py, side.nx, side.ny).is_some() {
            visible += 1;
        }
        if let Some(holds) = low.step_holds(px, py, side.nx, side.ny) {
            total += 1;
            good += holds as usize;
        }
    }
    (good, total, visible)
}

/// Share of the informative samples along full-resolution `sides` that show the shutter step on
/// the reduced image; `None` when no side has an informative sample.
pub(crate) fn support_at(low: &LowRes, sides: &[HalfPlane]) -> Option<f64> {
    let reduced: Vec<HalfPlane> = sides.iter().map(|s| low.plane_to_low(s)).collect();
    let (good, total) = reduced.iter().enumerate().fold((0, 0), |(g, t), (i, sd)| {
        let others: Vec<HalfPlane> = reduced.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, o)| *o).collect();
        let (sg, st, _) = support(low, sd, &others);
        (g + sg, t + st)
    });
    (total > 0).then(|| good as f64 / total as f64)
}

/// Coarse rectangle on the reduced image.
pub fn coarse(low: &LowRes) -> RectCoarse {
    let (w, h) = (low.log.width, low.log.height);
    let points = low.edge_points(0.05);
    let edges = EdgeColumns::new(&points);
    let empty = RectCoarse { sides: Vec::new(), angle_deg: 0.0, support: 0.0 };
    if points.is_empty() {
        return empty;
    }
    let best_of = |angles: Vec<f64>| -> f64 {
        let scores: Vec<(f64, f64)> = angles.par_iter().map(|&d| (score(&profiles(&edges, w, h, d).0), d)).collect();
        // First maximum in angle order, so ties resolve the same way every run.
        let mut best = scores[0];
        for s in &scores[1..] {
            if s.0 > best.0 {
                best = *s;
            }
        }
        best.1
    };
    let n = MAX_ANGLE_DEG as i32;
    let a0 = best_of((-n..n).map(|d| d as f64).collect());
    let angle = best_of((-10..=10).map(|k| a0 + k as f64 * 0.1).collect());
    let (prof, mins) = profiles(&edges, w, h, angle);
    let (s, c) = angle.to_radians().sin_cos();
    let dirs = [(c, s), (-s, c)];
    // Each side with the next peak of its polarity: the strongest may be an edge that fails the
    // step test (a body's, a bone's) while the blade's own edge, with less evidence along it, is
    // the next one.
    let mut cand: Vec<(Candidate, Option<Candidate>)> = Vec::new();
    for k in 0..2 {
        let (nx, ny) = dirs[k];
        let side = |sign: f64, i: f64| {
            if sign > 0.0 {
                HalfPlane { nx, ny, rho: i + mins[k] }
            } else {
                HalfPlane { nx: -nx, ny: -ny, rho: -(i + mins[k]) }
            }
        };
        let mut pair = Vec::new();
        for sign in [1.0, -1.0] {
            if let Some((i, v)) = peak(&prof[k], sign) {
                let next = peak_apart(&prof[k], sign, Some(i));
                pair.push((side(sign, i), v, i, next.map(|(j, u)| (side(sign, j), u, j))));
            }
        }
        // The rising edge must come before the falling one; otherwise keep the stronger alone.
        if pair.len() == 2 && pair[1].2 - pair[0].2 < PEAK_APART {
            let keep = if pair[0].1 >= pair[1].1 { 0 } else { 1 };
            let p = pair.swap_remove(keep);
            pair = vec![p];
        }
        // A next peak must keep that order with the other side's first.
        let bins: Vec<f64> = pair.iter().map(|p| p.2).collect();
        for (n, (hp, v, _, next)) in pair.into_iter().enumerate() {
            let rising = hp.nx * nx + hp.ny * ny > 0.0;
            let in_order = |j: f64| {
                bins.iter().enumerate().all(|(m, b)| m == n || if rising { b - j } else { j - b } >= PEAK_APART)
            };
            cand.push(((hp, v), next.filter(|x| in_order(x.2)).map(|(h, u, _)| (h, u))));
        }
    }
    // A side must carry a fair share of the strongest side's edge evidence; weak peaks are
    // anatomy or noise and would only cut the real sides short during the support check.
    let strongest = cand.iter().map(|c| c.0 .1).fold(0.0, f64::max);

    let enough = |v: f64| v >= MIN_EVIDENCE && v >= 0.2 * strongest;
    let (mut sides, mut next): (Vec<HalfPlane>, Vec<Option<HalfPlane>>) = cand
        .into_iter()
        .filter(|c| enough(c.0 .1))
        .map(|((side, _), next)| (side, next.filter(|n| enough(n.1)).map(|n| n.0)))
        .unzip();
    let mut stats: Vec<(usize, usize, usize)> = Vec::new();
    // Drop the least supported side one at a time: removing a side lengthens its neighbours.
    while !sides.is_empty() {
        stats = sides
            .iter()
            .enumerate()
            .map(|(i, sd)| {
                let others: Vec<HalfPlane> =
                    sides.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, o)| *o).collect();
                support(low, sd, &others)
            })
            .collect();
        // Clipped samples prove nothing either way, but a side seen mostly through them is unproven.
        let proven = |&(_, t, v): &(usize, usize, usize)| t >= 12 && t as f64 >= MIN_INFORMATIVE * v as f64;
        let ratio = |s: &(usize, usize, usize)| if proven(s) { s.0 as f64 / s.1 as f64 } else { 0.0 };
        // A side proven wrong goes before one unproven: a spurious side just past a real one
        // leaves its neighbours a few samples only (a paediatric field at the panel's border, its
        // fourth side taken 10 reduced pixels beyond the third: every real side was dropped).
        // The first least supported, so ties resolve the same way every run.
        let least = |only_proven: bool| {
            stats
                .iter()
                .enumerate()
                .filter(|(_, s)| !only_proven || proven(s))
                .map(|(i, s)| (i, ratio(s)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap_or((0, f64::INFINITY))
        };
        let (worst, wr) = match least(true) {
            p if p.1 < SUPPORT_MIN => p,
            _ => least(false),
        };
        if wr >= SUPPORT_MIN {
            break;
        }
        if let Some(n) = next[worst].take() {
            sides[worst] = n;
        } else {
            sides.remove(worst);
            next.remove(worst);
        }
        stats.clear();
    }
    let (g, t, v) = stats.iter().fold((0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
    // A lone short side cutting a corner off the frame is a skin line or a bone, not a shutter: a
    // field's visible outline spans a fair part of the frame (a 2 % paediatric field's outline is
    // about 0.56 of the shorter side).
    if sides.is_empty() || (v as f64) < MIN_OUTLINE * w.min(h) as f64 {
        return empty;
    }
    RectCoarse { sides, angle_deg: angle, support: if t > 0 { g as f64 / t as f64 } else { 0.0 } }
}

/// Robust total-least-squares line through `pts`, oriented like `hint`.
pub(crate) fn fit_line(pts: &[(f64, f64)], hint: &HalfPlane) -> Option<HalfPlane> {
    let mut cur: Vec<(f64, f64)> = pts.to_vec();
    let mut line = None;
    for _ in 0..3 {
        if cur.len() < 6 {
            return line;
        }
        let n = cur.len() as f64;
        let (mx, my) = cur.iter().fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
        let (mx, my) = (mx / n, my / n);
        let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
        for p in &cur {
            let (dx, dy) = (p.0 - mx, p.1 - my);
            sxx += dx * dx;
            sxy += dx * dy;
            syy += dy * dy;
        }
        // Normal = eigenvector of the smaller eigenvalue of the scatter matrix.
        let theta = 0.5 * (2.0 * sxy).atan2(sxx - syy);
        let (mut nx, mut ny) = (-theta.sin(), theta.cos());
        if nx * hint.nx + ny * hint.ny < 0.0 {
            nx = -nx;
            ny = -ny;
        }
        let hp = HalfPlane { nx, ny, rho: nx * mx + ny * my };
        let mut res: Vec<f64> = cur.iter().map(|p| hp.distance(p.0, p.1).abs()).collect();
        line = Some(hp);
        let mut sorted = res.clone();
        sorted.sort_by(|a, b| a.total_cmp(b));
        let tol = (3.0 * 1.4826 * sorted[sorted.len() / 2]).max(1.0);
        let before = cur.len();
        let mut i = 0;
        cur.retain(|_| {
            let ok = res[i] <= tol;
            i += 1;
            ok
        });
        res.clear();
        if cur.len() == before {
            break;
        }
    }
    line
}

/// Re-locates each coarse side on the full-resolution frame.
pub fn refine(c: &RectCoarse, frame: &Frame<'_>, low: &LowRes) -> Collimation {
    let f = low.factor as f64;
    let (w, h) = (frame.width as f64, frame.height as f64);
    let full: Vec<HalfPlane> = c.sides.iter().map(|s| low.plane_to_full(s)).collect();
    // The short profile first: a long one reaches other edges near a corner or a body. Only a soft
    // penumbra needs the long one (the side kept its coarse place without it, 2–3 px outside the
    // blade on the wide development frames).
    let (short, reach) = low.edge_reaches();
    let refined: Vec<HalfPlane> = full
        .par_iter()
        .enumerate()
        .map(|(i, side)| {
            let others: Vec<HalfPlane> = full.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, o)| *o).collect();
            let (tx, ty) = (-side.ny, side.nx);
            let (bx, by) = (side.rho * side.nx, side.rho * side.ny);
            let diag = (w * w + h * h).sqrt();
            let (mut t0, mut t1) = (f64::INFINITY, f64::NEG_INFINITY);
            let mut t = -diag;
            while t <= diag {
                let (px, py) = (bx + t * tx, by + t * ty);
                if px >= 0.0
                    && py >= 0.0
                    && px <= w - 1.0
                    && py <= h - 1.0
                    && others.iter().all(|o| o.distance(px, py) >= 0.0)
                {
                    t0 = t0.min(t);
                    t1 = t1.max(t);
                }
                t += 2.0;
            }
            if !(t1 > t0) {
                return *side;
            }
            let margin = 0.04 * (t1 - t0) + 2.0 * f;
            let (a, b) = (t0 + margin, t1 - margin);
            if b <= a {
                return *side;
            }
            let n_samples = 64;
            let mut pts = Vec::with_capacity(n_samples);
            for k in 0..n_samples {
                let t = a + (b - a) * (k as f64 + 0.5) / n_samples as f64;
                let p = (bx + t * tx, by + t * ty);
                let n = (side.nx, side.ny);
                if let Some(s) = edge_offset(frame, p, n, short, 3).or_else(|| edge_offset(frame, p, n, reach, 3)) {
                    pts.push((p.0 + s * side.nx, p.1 + s * side.ny));
                }
            }
            match fit_line(&pts, side) {
                Some(hp) if hp.nx * side.nx + hp.ny * side.ny > 3.0f64.to_radians().cos() => {
                    // Shift check at the segment middle: the fine edge must lie near the coarse one.
                    let tm = 0.5 * (a + b);
                    let pm = (bx + tm * tx, by + tm * ty);
                    if hp.distance(pm.0, pm.1).abs() <= 2.5 * f {
                        hp
                    } else {
                        *side
                    }
                }
                _ => *side,
            }
        })
        .collect();
    let angle = {
        let mut acc = 0.0;
        for s in &refined {
            let mut a = s.ny.atan2(s.nx).to_degrees();
            while a > 45.0 {
                a -= 90.0;
            }
            while a <= -45.0 {
                a += 90.0;
            }
            acc += a;
        }
        acc / refined.len().max(1) as f64
    };
    Collimation::rect(frame.width, frame.height, refined, angle, c.support)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Plane;

    /// A `w`×`h` reduced image at `level(x, y)`, with faint noise so that no level reads as a clipped
    /// plateau.
    fn noisy(w: usize, h: usize, level: impl Fn(usize, usize) -> f32) -> Plane {
        let mut log = Plane::zeros(w, h);
        for y in 0..h {
            for x in 0..w {
                log.data[y * w + x] = level(x, y) + 1e-5 * ((x * 7919 + y * 104_729) % 1009) as f32;
            }
        }
        log
    }

    /// A point of a true side and the side's inward normal.
    type SideThrough = ((f64, f64), (f64, f64));

    /// Each of `truth` has a side of `c` through it (within 2 px; the coarse stage may tilt sides by a
    /// fraction of a degree).
    fn assert_sides_through(c: &RectCoarse, truth: &[SideThrough]) {
        assert_eq!(c.sides.len(), truth.len(), "sides {:?}", c.sides);
        for &((px, py), (nx, ny)) in truth {
            assert!(
                c.sides.iter().any(|s| s.nx * nx + s.ny * ny > 0.99 && s.distance(px, py).abs() <= 2.0),
                "no side through ({px}, {py}): {:?}",
                c.sides
            );
        }
    }

    /// A 200² reduced image (factor 4: an 800² frame), exposed at 3 left of column 100 and in
    /// blade shadow at 1 right of it, with faint noise. A side along that edge shows the shutter
    /// step; one along column 50 lies in flat exposure, as where painting ended a part tried alone.
    #[test]
    fn full_resolution_sides_hold_only_on_a_step_of_the_frame() {
        let low = LowRes::new(noisy(200, 200, |x, _| if x < 100 { 3.0 } else { 1.0 }), 4);
        // Inside lies towards −x: the normal points left. Column 99.5 reduced is 399.5 full.
        let at = |col: f64| {
            let (fx, _) = low.to_full(col, 0.0);
            HalfPlane { nx: -1.0, ny: 0.0, rho: -fx }
        };
        let on_edge = support_at(&low, &[at(99.5)]).expect("informative samples");
        assert!(on_edge > 0.95, "a side on the step holds on {on_edge}");
        let flat = support_at(&low, &[at(50.0)]).expect("informative samples");
        assert!(flat < 0.05, "a side in flat exposure holds on {flat}");
    }

    /// A 300² reduced image (factor 1): blade shadow at 0, a field running off the bottom border
    /// (x 100..=199, y ≥ 200) at 2, and in it a dark part (x 125..=169, y ≥ 212) at 1, whose top
    /// edge falls like a field's far side 12 pixels past the near one. Faint noise keeps any level
    /// from reading as a clipped plateau.
    #[test]
    fn a_side_proven_wrong_goes_before_sides_too_short_to_prove() {
        let log = noisy(300, 300, |x, y| {
            if (125..170).contains(&x) && y >= 212 {
                1.0
            } else if (100..200).contains(&x) && y >= 200 {
                2.0
            } else {
                0.0
            }
        });
        let c = coarse(&LowRes::new(log, 1));
        // Left, right and top, each through a point of the true side with its inward normal; the
        // frame's border is the fourth.
        assert_sides_through(
            &c,
            &[((99.5, 250.0), (1.0, 0.0)), ((199.5, 250.0), (-1.0, 0.0)), ((150.0, 199.5), (0.0, 1.0))],
        );
    }

    /// A 300² reduced image (factor 1): blade shadow at 1, a field (x 50..=249, y 50..=249) at 2,
    /// the right blade passing more (1.58 past x 249, a step of 0.42). In the field, a dense part
    /// at −1 fills x 200..=229 for y 50..=139: its edge at x 200 falls more steeply than the right
    /// side, over less than half the field's height. It is the strongest falling edge across x, so
    /// the coarse stage tries it first; it fails the step test, and the right blade's edge, the
    /// next peak, takes its place.
    #[test]
    fn a_side_failing_its_step_gives_way_to_the_next_edge_out() {
        let log = noisy(300, 300, |x, y| {
            let in_field = (50..250).contains(&x) && (50..250).contains(&y);
            if in_field && (200..230).contains(&x) && y < 140 {
                -1.0
            } else if in_field {
                2.0
            } else if x >= 250 && (50..250).contains(&y) {
                1.58
            } else {
                1.0
            }
        });
        let c = coarse(&LowRes::new(log, 1));
        assert_sides_through(
            &c,
            &[
                ((49.5, 150.0), (1.0, 0.0)),
                ((249.5, 150.0), (-1.0, 0.0)),
                ((150.0, 49.5), (0.0, 1.0)),
                ((150.0, 249.5), (0.0, -1.0)),
            ],
        );
    }
}
