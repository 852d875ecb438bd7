//! `auto_wwwl`: window centre/width from the histogram of the processed anatomy.
//!
//! The window spans the 2nd–98th percentile of the processed image over the anatomy (field minus
//! direct exposure). Percentiles ignore dead pixels; lead markers, which can be several percent of
//! a small field, are removed first as a separate bright cluster (see `top_cluster`), but only in marker-sized
//! pieces: metal implants are anatomy.
//! When there is no anatomy or it is flat (constant or all-zero frames) the documented default
//! window applies: the whole 12-bit output range.

use rayon::prelude::*;

use crate::region::HalfMask;

/// Output range of the processed image (12 bits stored).
pub const OUTPUT_MAX: u16 = 4095;
/// Default window when the anatomy gives none: centre 2048, width 4096.
pub const DEFAULT_CENTER: f64 = 2048.0;
pub const DEFAULT_WIDTH: f64 = 4096.0;
pub const LOW_PERCENTILE: f64 = 0.02;
/// Headroom added on each side of the 2–98 % span, as a fraction of it: the anatomy mask is an
/// estimate (at the skin line, thin tissue within noise of direct exposure goes to direct
/// exposure), and a window that clips the anatomy's darkest 2 % by a few DN is worse than one a
/// few percent wider.
pub const WINDOW_MARGIN: f64 = 0.04;
pub const HIGH_PERCENTILE: f64 = 0.98;

/// Histogram of the display image `image` over `region`: 4096 bins, the 12-bit range (larger
/// values, which the chain never writes, count as 4095). With it, for [`drop_marker_sized`],
/// each `CLUSTER_BLOCK`² block's largest region value + 1 (0 when the block holds no region
/// pixel) over every second row (from the same pass, so the image is read once).
pub fn histogram(image: &[u16], region: &HalfMask, width: usize) -> (Vec<u64>, Vec<u16>) {
    const BINS: usize = OUTPUT_MAX as usize + 1;
    let b = CLUSTER_BLOCK;
    let width = width.max(1);
    let height = image.len() / width;
    let bw = width.div_ceil(b);
    // Whole block rows per parallel chunk: each chunk owns its rows of block maxima.
    let rows = crate::exposure::chunk_rows(height).next_multiple_of(b);
    let mut block_max = vec![0u16; bw * height.div_ceil(b)];
    let hist = image
        .par_chunks(width * rows)
        .zip(block_max.par_chunks_mut(bw * rows / b))
        .enumerate()
        .map(|(c, (r, bmax))| {
            let (mut h, mut buf) = (vec![0u32; BINS], vec![false; width]);
            for (y, rr) in r.chunks(width).enumerate() {
                let (x0, x1) = region.span(c * rows + y);
                if x0 >= x1 {
                    continue;
                }
                let mr = region.row(c * rows + y, &mut buf);
                let brow = &mut bmax[(y / b) * bw..(y / b + 1) * bw];
                let even = y % 2 == 0;
                // The blocks the span reaches; eight mask bytes at a time, as the anatomy is
                // often a fraction of the frame.
                let (b0, b1) = (x0 / b, x1.div_ceil(b));
                for ((rv, mv), top) in rr[b0 * b..].chunks(b).zip(mr[b0 * b..].chunks(b)).zip(brow[b0..b1].iter_mut()) {
                    if mv.len() == 8 && !mv.iter().any(|b| *b) {
                        continue;
                    }
                    for (v, inside) in rv.iter().zip(mv) {
                        h[(*v as usize).min(BINS - 1)] += *inside as u32;
                    }
                    if even {
                        let up = rv.iter().zip(mv).map(|(v, m)| v.saturating_add(1) * u16::from(*m)).max().unwrap_or(0);
                        *top = (*top).max(up);
                    }
                }
            }
            h
        })
        .reduce(
            || vec![0u32; BINS],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        )
        .into_iter()
        .map(u64::from)
        .collect();
    (hist, block_max)
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

/// Lead markers are small, uniform and far brighter than any anatomy: a separate cluster at the
/// top of the histogram. The spatial marker mask removes them first; this catches what it misses.
/// Scanning down from the top, past a dense cluster, the first gap (density below 1 % of the
/// bulk's mean over at least 2 % of the occupied range) with at most `MARKER_MASS` of the pixels
/// above it marks the cluster, which is left out. The scan starts at the top so that a sparse
/// stretch inside the anatomy's own upper tail, below the markers' gap, is never taken for it.
pub const MARKER_MASS: f64 = 0.12;

/// The value from which the top cluster starts, if there is one (see [`MARKER_MASS`]).
fn top_cluster(h: &[u64]) -> Option<usize> {
    let n: u64 = h.iter().sum();
    let (Some(lo), Some(med), Some(hi)) = (quantile(h, 0.001), quantile(h, 0.5), quantile(h, 0.999)) else {
        return None;
    };
    let (lo, med, hi) = (lo as usize, med as usize, hi as usize);
    let range = hi.saturating_sub(lo).max(1);
    let gap_len = (range / 50).max(8);
    let bulk_density = n as f64 / range as f64;
    let sm = |i: usize| -> f64 {
        let a = i.saturating_sub(2);
        let b = (i + 3).min(h.len());
        h[a..b].iter().sum::<u64>() as f64 / (b - a) as f64
    };
    let top = h.iter().rposition(|c| *c > 0)?;
    let (mut run, mut seen_cluster, mut gap_top) = (0usize, false, top);
    for i in (med..=top).rev() {
        if sm(i) < 0.01 * bulk_density {
            if !seen_cluster {
                continue;
            }
            if run == 0 {
                gap_top = i;
            }
            run += 1;
            if run >= gap_len {
                let above: u64 = h[gap_top..].iter().sum();
                return ((above as f64) <= MARKER_MASS * n as f64 && above > 0).then_some(gap_top);
            }
        } else {
            seen_cluster = true;
            run = 0;
        }
    }
    None
}

/// A lead marker is at most this share of the frame's shorter side across (as
/// `foreground::MARKER_MAX_SIZE`, with the same allowance of 1.4 for its diagonal).
pub const MARKER_MAX_SIDE: f64 = crate::foreground::MARKER_MAX_SIZE * 1.4;
/// Block size (pixels) of the grid on which the top cluster's pieces are measured.
const CLUSTER_BLOCK: usize = 8;

/// Metal implants (plates, nails, wires) are as bright as lead markers but part of the patient:
/// the window must hold them when they are more than 2 % of the anatomy. Of the top cluster, only
/// the pieces no larger than a marker are removed from the histogram `h`; an implant is larger.
fn drop_marker_sized(h: &mut [u64], image: &[u16], anatomy: &HalfMask, block_max: &[u16], width: usize, from: usize) {
    let height = image.len() / width.max(1);
    let b = CLUSTER_BLOCK;
    let (bw, bh) = (width.div_ceil(b), height.div_ceil(b));
    let thr = from.min(u16::MAX as usize) as u16;
    let above = |x: usize, y: usize| image[y * width + x] >= thr && anatomy.contains(x, y);
    // Every second row is enough to find pieces at least 2 px tall (markers and implants are tens
    // of pixels); the pixels removed are then counted on every row of the marker-sized pieces.
    let blocks: Vec<bool> = block_max.iter().map(|m| *m > thr).collect();
    debug_assert_eq!(blocks.len(), bw * bh);
    let max_side = (MARKER_MAX_SIDE * width.min(height) as f64 / b as f64).ceil() as usize + 2;
    crate::morph::components8(&blocks, bw, bh, |comp, (x0, x1, y0, y1)| {
        if x1 - x0 >= max_side || y1 - y0 >= max_side {
            return;
        }
        for &i in comp {
            let (bx, by) = (i % bw, i / bw);
            for y in by * b..((by + 1) * b).min(height) {
                for x in bx * b..((bx + 1) * b).min(width) {
                    if above(x, y) {
                        h[image[y * width + x] as usize] -= 1;
                    }
                }
            }
        }
    });
}

/// `(center, width)` per DICOM PS3.3 C.11.2.1.2 (linear function): the window `[c − w/2, c + w/2]`
/// covers `[p2 − m, p98 + m]`, `m = WINDOW_MARGIN·(p98 − p2)` (within 0‥4095).
pub fn window(image: &[u16], anatomy: &HalfMask, width: usize) -> (f64, f64) {
    let (mut h, block_max) = histogram(image, anatomy, width);
    if let Some(from) = top_cluster(&h) {
        drop_marker_sized(&mut h, image, anatomy, &block_max, width, from);
    }
    match (quantile(&h, LOW_PERCENTILE), quantile(&h, HIGH_PERCENTILE)) {
        (Some(lo), Some(hi)) if hi > lo => {
            let m = (WINDOW_MARGIN * (hi - lo)).ceil();
            let (lo, hi) = ((lo - m).max(0.0), (hi + m).min(OUTPUT_MAX as f64));
            (0.5 * (lo + hi) + 0.5, hi - lo + 1.0)
        }
        _ => (DEFAULT_CENTER, DEFAULT_WIDTH),
    }
}
