//! `auto_wwwl`: window centre/width from the histogram of the processed anatomy.
//!
//! The window spans the 2nd–98th percentile of the processed image over the anatomy (field minus
//! direct exposure). Percentiles ignore the few extreme pixels of lead markers and dead pixels.
//! When there is no anatomy or it is flat (constant or all-zero frames) the documented default
//! window applies: the whole 12-bit output range.

use rayon::prelude::*;

/// Output range of the processed image (12 bits stored).
pub const OUTPUT_MAX: u16 = 4095;
/// Default window when the anatomy gives none: centre 2048, width 4096.
pub const DEFAULT_CENTER: f64 = 2048.0;
pub const DEFAULT_WIDTH: f64 = 4096.0;
pub const LOW_PERCENTILE: f64 = 0.02;
pub const HIGH_PERCENTILE: f64 = 0.98;

/// Histogram of `image` over `region` (65536 bins).
pub fn histogram(image: &[u16], region: &[bool], width: usize) -> Vec<u64> {
    image
        .par_chunks(width * 64)
        .zip(region.par_chunks(width * 64))
        .map(|(r, m)| {
            let mut h = vec![0u64; 65536];
            for (v, inside) in r.iter().zip(m) {
                h[*v as usize] += *inside as u64;
            }
            h
        })
        .reduce(|| vec![0u64; 65536], |mut a, b| {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
            a
        })
}

/// Value at quantile `q` of a histogram (nearest-rank).
pub fn quantile(hist: &[u64], q: f64) -> Option<f64> {
    let n: u64 = hist.iter().sum();
    if n == 0 {
        return None;
    }
    let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
    let mut cum = 0;
    for (v, c) in hist.iter().enumerate() {
        cum += c;
        if cum >= rank {
            return Some(v as f64);
        }
    }
    None
}

/// `(center, width)` per DICOM PS3.3 C.11.2.1.2 (linear function): the window `[c − w/2, c + w/2]`
/// covers `[p2, p98]`.
pub fn window(image: &[u16], anatomy: &[bool], width: usize) -> (f64, f64) {
    let h = histogram(image, anatomy, width);
    match (quantile(&h, LOW_PERCENTILE), quantile(&h, HIGH_PERCENTILE)) {
        (Some(lo), Some(hi)) if hi > lo => (0.5 * (lo + hi) + 0.5, hi - lo + 1.0),
        _ => (DEFAULT_CENTER, DEFAULT_WIDTH),
    }
}
