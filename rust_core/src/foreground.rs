//! `foreground`: the direct-exposure (unattenuated) region inside the field.
//!
//! On the reduced log image, the field's histogram is split by Otsu's threshold. The upper class
//! is direct exposure only if it looks like it: clearly brighter than the rest (≥ 0.6 in log units,
//! ×1.8 in signal) and flat (spread ≤ 0.12 — heel effect and noise, not anatomy texture). The
//! per-pixel threshold is then set a little below that plateau, so thin tissue at the skin line
//! stays anatomy.

use crate::collimation::{Collimation, LowRes};

/// Minimum separation (log units) between the direct-exposure plateau and the anatomy.
pub const MIN_SEPARATION: f64 = 0.6;
/// Maximum spread (log-unit standard deviation) of a direct-exposure plateau.
pub const MAX_SPREAD: f64 = 0.12;

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
    let nb = 256;
    let scale = (nb as f64 - 1.0) / (hi - lo);
    let mut hist = vec![0f64; nb];
    for v in &vals {
        hist[((v - lo) * scale) as usize] += 1.0;
    }
    let total = vals.len() as f64;
    let mean_all: f64 = hist.iter().enumerate().map(|(i, c)| i as f64 * c).sum::<f64>() / total;
    let (mut w0, mut s0) = (0.0, 0.0);
    let (mut best, mut bt) = (-1.0, 0usize);
    for (i, c) in hist.iter().enumerate().take(nb - 1) {
        w0 += c;
        s0 += i as f64 * c;
        if w0 <= 0.0 || w0 >= total {
            continue;
        }
        let m0 = s0 / w0;
        let m1 = (mean_all * total - s0) / (total - w0);
        let between = w0 * (total - w0) * (m0 - m1) * (m0 - m1);
        if between > best {
            best = between;
            bt = i;
        }
    }
    let t = lo + (bt as f64 + 1.0) / scale;
    let (mut n1, mut s1, mut q1, mut n0, mut s0) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for v in &vals {
        if *v >= t {
            n1 += 1.0;
            s1 += v;
            q1 += v * v;
        } else {
            n0 += 1.0;
            s0 += v;
        }
    }
    if n1 < 0.005 * total || n0 < 0.02 * total {
        return None;
    }
    let m1 = s1 / n1;
    let sd1 = (q1 / n1 - m1 * m1).max(0.0).sqrt();
    let m0 = s0 / n0;
    if m1 - m0 < MIN_SEPARATION || sd1 > MAX_SPREAD {
        return None;
    }
    Some(t.max(m1 - (3.0 * sd1).max(0.25)) as f32)
}
