//! `collimator_circle`: circular shutters (also when cut by the detector border).
//!
//! Coarse stage: every edge pixel of the reduced log image votes for centres along its gradient,
//! towards the brighter side (the field), over the plausible radius range; the accumulator peak
//! is the centre and the radius is the mode of the distances of edge pixels facing it. The
//! candidate counts only if the shutter step holds along most of its visible arc. Fine stage:
//! 180 radial edge profiles on the full-resolution frame and a robust algebraic circle fit.
//! When nothing votes, a field the panel clipped almost everywhere is found from its clipped
//! plateau's outline instead ([`from_clip`]).

use std::sync::OnceLock;

use rayon::prelude::*;

use super::{edge_offset, Collimation, LowRes};
use crate::frame::Frame;

pub struct CircleCoarse {
    pub cx: f64,
    pub cy: f64,
    pub r: f64,
    pub support: f64,
}

static DIRECTIONS_360: OnceLock<Vec<(f64, f64)>> = OnceLock::new();
static DIRECTIONS_720: OnceLock<Vec<(f64, f64)>> = OnceLock::new();

/// `(cos a, sin a)` at `a = 2πk/n` for `k` in `0..n`, made once: `settle` tries ~115 candidate
/// circles of 360 points each, and two libm calls a point were ~1.5 ms of the circle search.
fn directions(cell: &'static OnceLock<Vec<(f64, f64)>>, n: usize) -> &'static [(f64, f64)] {
    cell.get_or_init(|| {
        (0..n)
            .map(|k| {
                let a = k as f64 * std::f64::consts::TAU / n as f64;
                (a.cos(), a.sin())
            })
            .collect()
    })
}

/// (good, total) samples along the visible part of the circle (low-res coordinates).
fn support(low: &LowRes, cx: f64, cy: f64, r: f64) -> (usize, usize) {
    arc_samples(low, cx, cy, r, |px, py, ex, ey| low.step_holds(px, py, -ex, -ey))
}

/// Fewest informative samples (of 720) along a circle's outline: less than a sixth of the
/// circumference visible is too little to call a circle.
const VISIBLE_MIN: usize = 120;

/// Share of the visible outline of a full-resolution circle that shows the shutter step on the
/// reduced image; `None` when less than [`VISIBLE_MIN`] samples of it are informative.
pub(crate) fn support_at(low: &LowRes, cx: f64, cy: f64, r: f64) -> Option<f64> {
    let f = low.factor as f64;
    let (lx, ly) = low.to_low(cx, cy);
    let (good, total) = support(low, lx, ly, r / f);
    (total >= VISIBLE_MIN).then(|| good as f64 / total as f64)
}

/// (good, total) over 720 points of the circle inside the image: `sample(x, y, ex, ey)` at point
/// (x, y) with outward unit normal (ex, ey) counts for (`Some(true)`), against (`Some(false)`) or
/// not at all (`None`).
fn arc_samples(
    low: &LowRes,
    cx: f64,
    cy: f64,
    r: f64,
    sample: impl Fn(f64, f64, f64, f64) -> Option<bool>,
) -> (usize, usize) {
    let (mut good, mut total) = (0, 0);
    for &(ex, ey) in directions(&DIRECTIONS_720, 720) {
        let (px, py) = (cx + r * ex, cy + r * ey);
        if !low.inside(px, py) {
            continue;
        }
        if let Some(holds) = sample(px, py, ex, ey) {
            total += 1;
            good += holds as usize;
        }
    }
    (good, total)
}

pub fn coarse(low: &LowRes) -> Option<CircleCoarse> {
    let (w, h) = (low.log.width, low.log.height);
    let edges = low.edge_points(0.1);
    if edges.len() < 16 {
        return None;
    }
    let rmin = 0.08 * w.min(h) as f64;
    let rmax = 0.8 * w.max(h) as f64;
    let chunk = edges.len().div_ceil(rayon::current_num_threads().max(1) * 2).max(256);
    // Integer votes: the sum does not depend on how rayon splits the work.
    let acc = edges
        .par_chunks(chunk)
        .map(|part| {
            let mut acc = vec![0u32; w * h];
            for e in part {
                let m = (e[2] * e[2] + e[3] * e[3]).sqrt();
                if m <= 0.0 {
                    continue;
                }
                let (ux, uy) = ((e[2] / m) as f64, (e[3] / m) as f64);
                let wgt = (m.min(1.0) * 16.0).round() as u32;
                let mut r = rmin;
                while r <= rmax {
                    // +0.5, then truncation past the bounds check, rounds to the nearest cell
                    // (`f64::round` is a libm call, ~300 per edge point here).
                    let x = e[0] as f64 + r * ux + 0.5;
                    let y = e[1] as f64 + r * uy + 0.5;
                    if !(x >= 0.0 && y >= 0.0 && x < w as f64 && y < h as f64) {
                        break;
                    }
                    // SAFETY: x and y are within [0, w) and [0, h) (a NaN fails the test above),
                    // so they truncate to in-range integers; the saturating `as` adds range checks
                    // to each of the ~300 votes of an edge point.
                    let (xi, yi) = unsafe { (x.to_int_unchecked::<usize>(), y.to_int_unchecked::<usize>()) };
                    acc[yi * w + xi] += wgt;
                    r += 1.0;
                }
            }
            acc
        })
        .reduce(
            || vec![0u32; w * h],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        );
    // 5×5 box smoothing so a centre smeared over neighbouring cells still wins: sums of five
    // along each row, then of five such sums down each column (exact integers, so the same
    // maxima as the direct 25-term sums, found in the same row-major order).
    let mut best = (0u64, 0usize, 0usize);
    if w >= 5 && h >= 5 {
        let mut across = vec![0u64; w * h];
        for (arow, row) in across.chunks_exact_mut(w).zip(acc.chunks_exact(w)) {
            for (x, a) in arow.iter_mut().enumerate().take(w - 2).skip(2) {
                *a = row[x - 2..=x + 2].iter().map(|&v| v as u64).sum();
            }
        }
        for y in 2..h - 2 {
            for x in 2..w - 2 {
                let s: u64 = (y - 2..=y + 2).map(|yy| across[yy * w + x]).sum();
                if s > best.0 {
                    best = (s, x, y);
                }
            }
        }
    }
    if best.0 == 0 {
        return None;
    }
    let (cx, cy) = (best.1 as f64, best.2 as f64);
    let nb = rmax.ceil() as usize + 3;
    let mut hist = vec![0.0f64; nb];
    for e in &edges {
        let (dx, dy) = (cx - e[0] as f64, cy - e[1] as f64);
        let d = (dx * dx + dy * dy).sqrt();
        let m = ((e[2] * e[2] + e[3] * e[3]) as f64).sqrt();
        if d < rmin || d > rmax || m <= 0.0 {
            continue;
        }
        let cosang = (dx * e[2] as f64 + dy * e[3] as f64) / (d * m);
        if cosang >= 0.9 {
            hist[d.round() as usize] += m.min(1.0);
        }
    }
    let mut bi = 0;
    let mut bv = 0.0;
    for i in 1..nb - 1 {
        let v = hist[i - 1] + 2.0 * hist[i] + hist[i + 1];
        if v > bv {
            bv = v;
            bi = i;
        }
    }
    if bv <= 0.0 {
        return None;
    }
    let (cx, cy, r) = settle(low, cx, cy, bi as f64);
    let (good, total) = support(low, cx, cy, r);
    if total < VISIBLE_MIN {
        return None;
    }
    Some(CircleCoarse { cx, cy, r, support: good as f64 / total as f64 })
}

/// Summed log step across the visible circle, each sample capped at ±1 so that a few markers or
/// dead pixels cannot pull the circle: it peaks on the shutter edge, while a count of samples above
/// a threshold is as high anywhere in the scatter halo outside the field.
fn contrast(low: &LowRes, cx: f64, cy: f64, r: f64) -> f64 {
    let mut acc = 0.0;
    for &(ex, ey) in directions(&DIRECTIONS_360, 360) {
        if let Some(step) = low.step(cx + r * ex, cy + r * ey, -ex, -ey) {
            acc += step.clamp(-1.0, 1.0);
        }
    }
    acc
}

/// Radii either side of the voted one that the local search tries (low-res pixels): with a soft
/// penumbra, heavy scatter and a clipped panel the radius histogram's mode drifts by up to ~5 %.
pub const RADIUS_SEARCH: i32 = 16;
/// Centre offsets either side that the local search tries (low-res pixels).
pub const CENTRE_SEARCH: i32 = 3;

/// Moves the voted circle to where its outline shows the largest step: radius first, then
/// centre, then radius again. The votes locate the circle from gradients alone, which a soft,
/// low-contrast edge spreads out; the step test is what the candidate is judged by afterwards.
fn settle(low: &LowRes, cx: f64, cy: f64, r: f64) -> (f64, f64, f64) {
    let best = |cands: Vec<(f64, f64, f64)>| -> (f64, f64, f64) {
        let scored: Vec<(f64, (f64, f64, f64))> =
            cands.par_iter().map(|&(x, y, rr)| (contrast(low, x, y, rr), (x, y, rr))).collect();
        // First maximum in candidate order (the unmoved circle first), so the result does not
        // depend on how rayon splits the work.
        let mut b = scored[0];
        for s in &scored[1..] {
            if s.0 > b.0 {
                b = *s;
            }
        }
        b.1
    };
    let radii = |cx: f64, cy: f64, r: f64, n: i32| -> Vec<(f64, f64, f64)> {
        std::iter::once((cx, cy, r))
            .chain((-n..=n).filter(|&k| k != 0).map(|k| (cx, cy, r + k as f64)))
            .filter(|c| c.2 > 1.0)
            .collect()
    };
    let (cx, cy, r) = best(radii(cx, cy, r, RADIUS_SEARCH));
    let n = CENTRE_SEARCH;
    let centres: Vec<(f64, f64, f64)> = std::iter::once((cx, cy, r))
        .chain(
            (-n..=n)
                .flat_map(|dy| (-n..=n).map(move |dx| (dx, dy)))
                .filter(|&d| d != (0, 0))
                .map(|(dx, dy)| (cx + dx as f64, cy + dy as f64, r)),
        )
        .collect();
    let (cx, cy, r) = best(centres);
    best(radii(cx, cy, r, 2))
}

/// Kåsa algebraic circle fit with two rounds of outlier rejection.
pub(crate) fn fit_circle(pts: &[(f64, f64)]) -> Option<(f64, f64, f64)> {
    let mut cur = pts.to_vec();
    let mut out = None;
    for _ in 0..3 {
        if cur.len() < 8 {
            return out;
        }
        let n = cur.len() as f64;
        let (mx, my) = cur.iter().fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
        let (mx, my) = (mx / n, my / n);
        let (mut suu, mut suv, mut svv, mut suuu, mut svvv, mut suvv, mut svuu) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for p in &cur {
            let (u, v) = (p.0 - mx, p.1 - my);
            suu += u * u;
            suv += u * v;
            svv += v * v;
            suuu += u * u * u;
            svvv += v * v * v;
            suvv += u * v * v;
            svuu += v * u * u;
        }
        let det = suu * svv - suv * suv;
        if det.abs() < 1e-12 {
            return out;
        }
        let b1 = 0.5 * (suuu + suvv);
        let b2 = 0.5 * (svvv + svuu);
        let uc = (b1 * svv - b2 * suv) / det;
        let vc = (suu * b2 - suv * b1) / det;
        let r = (uc * uc + vc * vc + (suu + svv) / n).sqrt();
        let (cx, cy) = (uc + mx, vc + my);
        out = Some((cx, cy, r));
        let res: Vec<f64> = cur.iter().map(|p| (((p.0 - cx).powi(2) + (p.1 - cy).powi(2)).sqrt() - r).abs()).collect();
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
        if cur.len() == before {
            break;
        }
    }
    out
}

/// Rounds of the fine stage at most: each samples the edge around the last fit.
const REFINE_ROUNDS: usize = 24;
/// Farthest a self-consistent fit may lie from the coarse circle (coarse pixels).
const SETTLED_REACH: f64 = 16.0;

pub fn refine(c: &CircleCoarse, frame: &Frame<'_>, low: &LowRes) -> Collimation {
    let f = low.factor as f64;
    let (cx, cy) = low.to_full(c.cx, c.cy);
    let r = c.r * f;
    let (_, reach) = low.edge_reaches();
    let n = 180;
    let fit_at = |(cx, cy, r): (f64, f64, f64)| -> Option<(f64, f64, f64)> {
        let pts: Vec<(f64, f64)> = (0..n)
            .into_par_iter()
            .filter_map(|k| {
                let a = k as f64 * std::f64::consts::TAU / n as f64;
                let (ex, ey) = (a.cos(), a.sin());
                let p = (cx + r * ex, cy + r * ey);
                edge_offset(frame, p, (-ex, -ey), reach, 3).map(|s| (p.0 - s * ex, p.1 - s * ey))
            })
            .collect();
        fit_circle(&pts)
    };
    // When only short arcs show (a large field cut by the detector on every side), the coarse
    // circle can be off by more than the fine search expects, and its fit is then refused. Edge
    // samples taken again around each fit walk it onto the edge: a fit that reproduces itself
    // (moves ≤ 0.5 px) within `REFINE_ROUNDS`, no farther than `SETTLED_REACH` coarse pixels from
    // the coarse circle, and whose outline shows the shutter step at least as often as the
    // coarse one's, is taken. Otherwise the first fit, when near the coarse circle.
    let coarse = (cx, cy, r);
    let dist = |a: (f64, f64, f64), b: (f64, f64, f64)| {
        ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt().max((a.2 - b.2).abs())
    };
    let first = fit_at(coarse);
    let mut settled = None;
    let mut cur = first;
    for _ in 1..REFINE_ROUNDS {
        let Some(at) = cur else { break };
        let Some(next) = fit_at(at) else { break };
        if dist(next, at) <= 0.5 {
            settled = Some(next);
            break;
        }
        // Walked out of reach: it could not be taken, wherever it settled.
        if dist(next, coarse) > SETTLED_REACH * f {
            break;
        }
        cur = Some(next);
    }
    let shows_step = |(x, y, rr): (f64, f64, f64)| -> bool {
        let (lx, ly) = low.to_low(x, y);
        let (good, total) = support(low, lx, ly, rr / f);
        total > 0 && good as f64 >= (c.support - 0.02) * total as f64
    };
    let (fx, fy, fr) = match (settled, first) {
        (Some(s), _) if dist(s, coarse) <= SETTLED_REACH * f && shows_step(s) => s,
        (_, Some(a)) if dist(a, coarse) <= 3.0 * f => a,
        _ => coarse,
    };
    Collimation::circle(frame.width, frame.height, fx, fy, fr, c.support)
}

/// Share of the reduced image that must be clipped for [`from_clip`] to look at the plateau.
pub const CLIP_FIELD_SHARE: f64 = 0.02;
/// Rays from the plateau's centroid whose outermost clipped pixel is an outline sample.
const CLIP_RAYS: usize = 360;
/// The plateau's outline must be a circle: median distance of its samples from the fitted circle
/// at most this many reduced pixels.
pub const CLIP_FIT_RESIDUAL: f64 = 2.5;
/// Just outside the outline the signal must lie this far (log units) below the clip on most of the
/// visible arc: near the edge, blade leakage and scatter can come within a few percent of it.
pub const CLIP_DROP: f64 = 0.05;

/// A circular field that the panel clipped almost everywhere. Inside it every pixel reads the
/// clip value, so no sample of its outline shows a step the shutter test can trust (the step is
/// bounded by the clip) and the vote finds nothing. The plateau itself is the field, though: its
/// values are bit-identical, which neither noise nor anatomy produces. Its outer outline (the
/// outermost clipped pixel along rays from its centroid) is fitted with a circle, which must fit
/// it closely and show the shutter's drop — the outside below the clip by `CLIP_DROP` — along
/// most of its visible arc. Clipped direct exposure around a patient on an open field reaches
/// the detector border on every ray, which gives no outline samples.
pub fn from_clip(low: &LowRes) -> Option<CircleCoarse> {
    let clip = low.clip? as f64 - super::CLIP_NEAR;
    let (w, h) = (low.log.width, low.log.height);
    let at = |x: usize, y: usize| low.log.data[y * w + x] as f64;
    let (mut n, mut sx, mut sy) = (0usize, 0.0f64, 0.0f64);
    for y in 0..h {
        for x in 0..w {
            if at(x, y) >= clip {
                n += 1;
                sx += x as f64;
                sy += y as f64;
            }
        }
    }
    if (n as f64) < CLIP_FIELD_SHARE * (w * h) as f64 {
        return None;
    }
    let (mx, my) = (sx / n as f64, sy / n as f64);
    let reach = (w as f64).hypot(h as f64);
    let mut pts = Vec::with_capacity(CLIP_RAYS);
    for k in 0..CLIP_RAYS {
        let a = k as f64 * std::f64::consts::TAU / CLIP_RAYS as f64;
        let (ex, ey) = (a.cos(), a.sin());
        let (mut last, mut s) = (None, 0.0);
        let mut border = false;
        while s <= reach {
            let (x, y) = ((mx + s * ex).round(), (my + s * ey).round());
            if x < 0.0 || y < 0.0 || x >= w as f64 || y >= h as f64 {
                border = true;
                break;
            }
            if at(x as usize, y as usize) >= clip {
                last = Some((mx + s * ex, my + s * ey));
            }
            s += 0.5;
        }
        // A ray whose plateau runs into the detector border has no outline there.
        match last {
            Some((x, y)) if !(border && (x < 1.5 || y < 1.5 || x > w as f64 - 2.5 || y > h as f64 - 2.5)) => {
                pts.push((x, y))
            }
            _ => {}
        }
    }
    if pts.len() < CLIP_RAYS / 6 {
        return None;
    }
    let (cx, cy, r) = fit_circle(&pts)?;
    let rmin = 0.08 * w.min(h) as f64;
    if !(rmin..=0.8 * w.max(h) as f64).contains(&r) {
        return None;
    }
    let mut res: Vec<f64> = pts.iter().map(|&(x, y)| ((x - cx).hypot(y - cy) - r).abs()).collect();
    res.sort_unstable_by(f64::total_cmp);
    if res[res.len() / 2] > CLIP_FIT_RESIDUAL {
        return None;
    }
    // The shutter's drop: just outside the outline, the signal lies clearly below the clip.
    let outside = r + super::STEP_REACH;
    let (good, total) =
        arc_samples(low, cx, cy, outside, |ox, oy, _, _| Some(low.log.bilinear(ox, oy) <= clip - CLIP_DROP));
    if total < 120 || (good as f64) < super::SUPPORT_MIN * total as f64 {
        return None;
    }
    Some(CircleCoarse { cx, cy, r, support: good as f64 / total as f64 })
}
