//! `foreground`: the direct-exposure (unattenuated) region inside the field.
//!
//! Direct exposure is the brightest, flattest part of the field: a narrow peak at the top of the
//! log-signal histogram (its spread is only heel effect, inverse-square fall-off and noise). On the
//! reduced log image the highest histogram peak holding ≥ 0.5 % of the field is taken; it counts
//! as direct exposure only if its top edge is sharp (σ from its upper half-width ≤ `MAX_SPREAD`)
//! and the rest of the field lies clearly below it (median ≥ `MIN_SEPARATION` lower). The threshold
//! sits at the deepest point of the valley between plateau and anatomy (which must be deeper than
//! `VALLEY_MAX` of the peak, else the plateau must be flat), at most `peak − max(5σ, 0.2)`; the
//! plateau is then grown through flat neighbours and the threshold lowered to its 2 % point.

use crate::collimation::{Collimation, LowRes};

/// Minimum separation (log units) between the direct-exposure plateau and the anatomy.
pub const MIN_SEPARATION: f64 = 0.6;
/// Maximum spread (log-unit standard deviation) of a direct-exposure plateau.
pub const MAX_SPREAD: f64 = 0.15;
/// A plateau must be separated from the anatomy by a histogram valley at most this deep
/// (relative to the peak).
pub const VALLEY_MAX: f64 = 0.25;
/// Median log-signal gradient (per reduced pixel) of a plateau without a clear valley.
pub const MAX_PLATEAU_GRADIENT: f64 = 0.006;
/// How far below the peak the plateau may extend, log units.
pub const GROW_DEPTH: f64 = 0.6;
/// Largest log gradient (per reduced pixel) inside a plateau while growing it.
pub const GROW_GRADIENT: f64 = 0.02;
/// Histogram bin width, log units.
const BIN: f64 = 0.01;

/// Log-signal threshold above which a field pixel is direct exposure; `None` if there is none.
pub fn threshold(low: &LowRes, coll: &Collimation) -> Option<f32> {
    let f = low.factor as f64;
    let (w, h) = (low.log.width, low.log.height);
    let mut vals = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = low.to_full(x as f64, y as f64);
            if coll.signed_distance(fx, fy) >= f {
                vals.push(low.log.at(x, y) as f64);
            }
        }
    }
    if vals.len() < 64 {
        return None;
    }
    let lo = vals.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = vals.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if hi - lo < MIN_SEPARATION {
        return None;
    }
    let nb = ((hi - lo) / BIN) as usize + 1;
    let mut hist = vec![0f64; nb];
    for v in &vals {
        hist[(((v - lo) / BIN) as usize).min(nb - 1)] += 1.0;
    }
    // Light smoothing (5 bins) so noise does not make spurious maxima.
    let sm: Vec<f64> = (0..nb).map(|i| hist[i.saturating_sub(2)..(i + 3).min(nb)].iter().sum::<f64>() / 5.0).collect();
    let total = vals.len() as f64;
    // Highest local maximum, scanning down from the top, whose ±3σ-ish neighbourhood (±10 bins)
    // holds at least 0.5 % of the field.
    let mut peak = None;
    for i in (1..nb.saturating_sub(1)).rev() {
        if sm[i] >= sm[i - 1] && sm[i] >= sm[i + 1] && sm[i] > 0.0 {
            let mass: f64 = hist[i.saturating_sub(10)..(i + 11).min(nb)].iter().sum();
            if mass >= 0.005 * total {
                peak = Some(i);
                break;
            }
        }
    }
    let pi = peak?;
    let half = 0.5 * sm[pi];
    let mut j = pi;
    while j + 1 < nb && sm[j] > half {
        j += 1;
    }
    let sigma = ((j - pi) as f64 * BIN).max(BIN) / 1.1774;
    let level = lo + (pi as f64 + 0.5) * BIN;
    // The valley between the plateau and the anatomy (its spread also comes from scatter, which is
    // lower far from the patient): the deepest point within 0.1..1.0 below the peak.
    let (a, b) = (pi.saturating_sub((1.0 / BIN) as usize), pi.saturating_sub((0.1 / BIN) as usize));
    let mut vi = b;
    for i in a..=b {
        if sm[i] < sm[vi] {
            vi = i;
        }
    }
    let valley = sm[vi] <= VALLEY_MAX * sm[pi];
    let thr = if valley { (lo + (vi as f64 + 0.5) * BIN).min(level - (5.0 * sigma).max(0.2)) } else { level - (5.0 * sigma).max(0.2) };
    // Without a clear valley the plateau must at least be flat: direct exposure varies only
    // slowly (heel, scatter), anatomy near the top of the histogram has texture and slopes.
    // Noise of the reduced image over the candidate plateau (adjacent differences), so that the
    // flatness tests hold at very low dose too.
    let mut diffs: Vec<f32> = Vec::new();
    for y in 1..h - 1 {
        for x in 1..w - 2 {
            let i = y * w + x;
            if low.log.data[i] as f64 >= thr && low.log.data[i + 1] as f64 >= thr {
                diffs.push((low.log.data[i + 1] - low.log.data[i]).abs());
            }
        }
    }
    let noise = if diffs.len() >= 16 {
        let mid = diffs.len() / 2;
        let (_, d, _) = diffs.select_nth_unstable_by(mid, |a, b| a.total_cmp(b));
        1.4826 * *d as f64 / std::f64::consts::SQRT_2
    } else {
        0.0
    };
    let mut grads: Vec<f32> = Vec::new();
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let i = y * w + x;
            if low.log.data[i] as f64 >= thr {
                let (fx, fy) = low.to_full(x as f64, y as f64);
                if coll.signed_distance(fx, fy) >= 2.0 * f {
                    grads.push((low.gx[i] * low.gx[i] + low.gy[i] * low.gy[i]).sqrt());
                }
            }
        }
    }
    let flat = if grads.len() >= 16 {
        let mid = grads.len() / 2;
        let (_, g, _) = grads.select_nth_unstable_by(mid, |a, b| a.total_cmp(b));
        (*g as f64) <= MAX_PLATEAU_GRADIENT + noise
    } else {
        false
    };
    if !valley && !flat {
        return None;
    }
    let below: Vec<f64> = vals.iter().cloned().filter(|v| *v < thr).collect();
    let above = vals.len() - below.len();
    if sigma > MAX_SPREAD || (above as f64) < 0.005 * total || (below.len() as f64) < 0.02 * total {
        return None;
    }
    let mut b = below;
    let mid = b.len() / 2;
    let (_, med, _) = b.select_nth_unstable_by(mid, |x, y| x.total_cmp(y));
    if level - *med < MIN_SEPARATION {
        return None;
    }
    // The plateau's low end (scatter is lower far from the patient): grow the region above `thr`
    // through flat neighbours down to `level − GROW_DEPTH`; the skin line is steep and stops it.
    let floor = level - GROW_DEPTH;
    let mut inreg = vec![false; w * h];
    let mut stack: Vec<usize> = Vec::new();
    let field_ok = |x: usize, y: usize| {
        let (fx, fy) = low.to_full(x as f64, y as f64);
        coll.signed_distance(fx, fy) >= f
    };
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let i = y * w + x;
            if low.log.data[i] as f64 >= thr && field_ok(x, y) {
                inreg[i] = true;
                stack.push(i);
            }
        }
    }
    while let Some(i) = stack.pop() {
        let (x, y) = (i % w, i / w);
        for (nx, ny) in [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)] {
            if nx == 0 || ny == 0 || nx >= w - 1 || ny >= h - 1 {
                continue;
            }
            let j = ny * w + nx;
            let g = (low.gx[j] * low.gx[j] + low.gy[j] * low.gy[j]).sqrt() as f64;
            if !inreg[j] && low.log.data[j] as f64 >= floor && g <= GROW_GRADIENT + 3.0 * noise && field_ok(nx, ny) {
                inreg[j] = true;
                stack.push(j);
            }
        }
    }
    let mut region: Vec<f32> = low.log.data.iter().zip(&inreg).filter(|(_, r)| **r).map(|(v, _)| *v).collect();
    let k = region.len() / 50;
    let (_, p2, _) = region.select_nth_unstable_by(k, |a, b| a.total_cmp(b));
    Some((*p2 as f64).min(thr) as f32)
}

/// A lead marker passes a few percent of the beam: far darker (in signal) than its surroundings,
/// unlike any bone. Reduced pixels whose log signal lies more than `MARKER_DROP` below the mean of
/// their in-field neighbourhood (radius `MARKER_RADIUS` reduced pixels) are markers; the mask is
/// grown by one pixel to cover the edge halo. Markers are left out of the anatomy (window, EI).
pub const MARKER_DROP: f32 = 0.9;
pub const MARKER_RADIUS: usize = 12;

pub fn markers(low: &LowRes, coll: &Collimation) -> Vec<bool> {
    let (w, h) = (low.log.width, low.log.height);
    let f = low.factor as f64;
    let field: Vec<bool> = (0..w * h)
        .map(|i| {
            let (fx, fy) = low.to_full((i % w) as f64, (i / w) as f64);
            coll.signed_distance(fx, fy) >= 0.5 * f
        })
        .collect();
    // Integral images of the in-field values and counts.
    let mut s = vec![0f64; (w + 1) * (h + 1)];
    let mut c = vec![0f64; (w + 1) * (h + 1)];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let (v, n) = if field[i] { (low.log.data[i] as f64, 1.0) } else { (0.0, 0.0) };
            let k = (y + 1) * (w + 1) + x + 1;
            s[k] = v + s[k - 1] + s[k - w - 1] - s[k - w - 2];
            c[k] = n + c[k - 1] + c[k - w - 1] - c[k - w - 2];
        }
    }
    let r = MARKER_RADIUS;
    let mut m = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if !field[i] {
                continue;
            }
            let (x0, y0, x1, y1) = (x.saturating_sub(r), y.saturating_sub(r), (x + r + 1).min(w), (y + r + 1).min(h));
            let box_sum = |a: &[f64]| a[y1 * (w + 1) + x1] - a[y0 * (w + 1) + x1] - a[y1 * (w + 1) + x0] + a[y0 * (w + 1) + x0];
            let n = box_sum(&c);
            if n > 0.0 && (low.log.data[i] as f64) < box_sum(&s) / n - MARKER_DROP as f64 {
                m[i] = true;
            }
        }
    }
    let mut grown = m.clone();
    for y in 0..h {
        for x in 0..w {
            if m[y * w + x] {
                for (dx, dy) in [(-1i64, 0i64), (1, 0), (0, -1), (0, 1), (-1, -1), (1, 1), (-1, 1), (1, -1)] {
                    let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                    if nx >= 0 && ny >= 0 && (nx as usize) < w && (ny as usize) < h {
                        grown[ny as usize * w + nx as usize] = true;
                    }
                }
            }
        }
    }
    grown
}
