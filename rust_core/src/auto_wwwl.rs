//! `auto_wwwl`: window centre/width from the histogram of the processed anatomy.
//!
//! The window spans the 2nd–98th percentile of the processed image over the anatomy (field minus
//! direct exposure). Percentiles ignore dead pixels; lead markers, which can be several percent of
//! a small field, are removed first as a separate bright cluster (see `top_cluster`), but only in marker-sized
//! pieces: metal implants are anatomy.
//! When there is no anatomy or it is flat (constant or all-zero frames) the documented default
//! window applies: the whole 12-bit output range.

use rayon::prelude::*;

use crate::foreground::marker_shaped;
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
/// values, which the chain never writes, count as 4095). With it, for [`drop_marker_pieces`],
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
/// bulk's mean over at least 2 % of the occupied range) or valley ([`VALLEY_DEPTH`]) with at least
/// `MIN_CLUSTER_MASS` and at most `MARKER_MASS` of the pixels above it marks the cluster, whose
/// marker-like pieces are left out. The scan starts at the top so that a sparse stretch inside the
/// anatomy's own upper tail, below the markers' gap, is never taken for it.
pub const MARKER_MASS: f64 = 0.12;
/// A cluster above a gap holding less than this share of the pixels (hot pixels, a speck of
/// metal) moves the 98th percentile by too little to matter; the scan goes on below it, where a
/// marker's cluster may still lie.
pub const MIN_CLUSTER_MASS: f64 = 0.002;
/// A cluster with no gap below it stands above a valley of at most this share of its peak
/// density (histogram smoothed over 2 % of the range).
pub const VALLEY_DEPTH: f64 = 0.25;

/// The top cluster: the value it starts from, and the least mean value a piece of it must have.
struct Cluster {
    from: usize,
    /// `None` after a gap: the cluster stands apart from the tissue. After a valley the tissue's
    /// tail runs on above `from`, thinning out, so a piece's mean must be at least this: halfway
    /// from the valley to the mode, where a marker is a plateau.
    piece_mean_min: Option<f64>,
}

/// The top cluster, if there is one (see [`MARKER_MASS`]).
fn top_cluster(h: &[u64]) -> Option<Cluster> {
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
    // Density over a wider window for the valley test, from prefix sums.
    let kw = (range / 100).max(2);
    let mut cum = vec![0u64; h.len() + 1];
    for (i, c) in h.iter().enumerate() {
        cum[i + 1] = cum[i] + c;
    }
    let wide = |i: usize| -> f64 {
        let (a, b) = (i.saturating_sub(kw), (i + kw + 1).min(h.len()));
        (cum[b] - cum[a]) as f64 / (b - a) as f64
    };
    let top = h.iter().rposition(|c| *c > 0)?;
    let (mut run, mut seen_cluster, mut gap_top) = (0usize, false, top);
    let (mut peak, mut peak_at, mut low, mut low_at) = (0f64, top, f64::INFINITY, top);
    // `Some(true)`: the cluster above `from` is the one; `Some(false)`: too small, scan on.
    let judge = |from: usize| -> Option<bool> {
        let above = (cum[h.len()] - cum[from]) as f64;
        if above < MIN_CLUSTER_MASS * n as f64 {
            return Some(false);
        }
        (above <= MARKER_MASS * n as f64).then_some(true)
    };
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
                match judge(gap_top) {
                    // A few hot pixels at the top are not the cluster: look further down.
                    Some(false) => (seen_cluster, run, peak, low) = (false, 0, 0.0, f64::INFINITY),
                    Some(true) => return Some(Cluster { from: gap_top, piece_mean_min: None }),
                    None => return None,
                }
                continue;
            }
        } else {
            seen_cluster = true;
            run = 0;
        }
        if !seen_cluster {
            continue;
        }
        // The anatomy's upper tail may run on under the markers' values, leaving no gap: the
        // cluster is then a mode of its own above a valley (`VALLEY_DEPTH` of its peak density or
        // less), below which the density rises again.
        let d = wide(i);
        if d > peak {
            (peak, peak_at, low) = (d, i, f64::INFINITY);
        } else if d < low {
            (low, low_at) = (d, i);
        } else if low <= VALLEY_DEPTH * peak && d * VALLEY_DEPTH >= low {
            match judge(low_at) {
                Some(false) => (peak, peak_at, low) = (d, i, f64::INFINITY),
                Some(true) => {
                    return Some(Cluster { from: low_at, piece_mean_min: Some(0.5 * (low_at + peak_at) as f64) })
                }
                None => return None,
            }
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
/// the pieces that look like a marker are removed from the histogram `h`: of a marker's size
/// (`foreground::MARKER_MIN_SIZE` … `MARKER_MAX_SIDE`), compact and solid
/// ([`foreground::marker_shaped`](crate::foreground::marker_shaped)). An implant is larger or longer.
/// With `lead_level` (the markers found spatially, see [`marker_level`]) a piece must also reach
/// within [`MARKER_LEVEL_REACH`] of it.
fn drop_marker_pieces(
    h: &mut [u64],
    image: &[u16],
    anatomy: &HalfMask,
    block_max: &[u16],
    width: usize,
    cluster: &Cluster,
    lead_level: Option<f64>,
) {
    let height = image.len() / width.max(1);
    let b = CLUSTER_BLOCK;
    let (bw, bh) = (width.div_ceil(b), height.div_ceil(b));
    let thr = cluster.from.min(u16::MAX as usize) as u16;
    let above = |x: usize, y: usize| image[y * width + x] >= thr && anatomy.contains(x, y);
    // Every second row is enough to find pieces at least 2 px tall (markers and implants are tens
    // of pixels); the pixels removed are then counted on every row of the marker-sized pieces.
    let blocks: Vec<bool> = block_max.iter().map(|m| *m > thr).collect();
    debug_assert_eq!(blocks.len(), bw * bh);
    let max_side = (MARKER_MAX_SIDE * width.min(height) as f64 / b as f64).ceil() as usize + 2;
    // Specks of the tissue's own upper tail are smaller than any marker.
    let min_side = (crate::foreground::MARKER_MIN_SIZE * width.min(height) as f64 / b as f64).floor() as usize;
    // Markers are placed inside the field (as in `foreground::markers`): a bright piece that
    // reaches within two blocks of the field's edge goes on behind the blades, dense tissue the
    // field cuts (a paediatric field inside the body, development frame: 2.4 % of the anatomy
    // dropped, the 98th percentile 21 % of the range too low).
    let e = 2 * b;
    let at_field_edge = |x: usize, y: usize| -> bool {
        [y.saturating_sub(e), y, (y + e).min(height - 1)].iter().any(|&r| {
            let (a, z) = anatomy.span(r);
            x < a + e || x + e >= z
        })
    };
    crate::morph::components8(&blocks, bw, bh, |comp, (x0, x1, y0, y1)| {
        if x1 - x0 >= max_side || y1 - y0 >= max_side || x1 - x0 + 1 < min_side || y1 - y0 + 1 < min_side {
            return;
        }
        let each_above = |f: &mut dyn FnMut(usize, usize, u16)| {
            for &i in comp {
                let (bx, by) = (i % bw, i / bw);
                for y in by * b..((by + 1) * b).min(height) {
                    for x in bx * b..((bx + 1) * b).min(width) {
                        if above(x, y) {
                            f(x, y, image[y * width + x]);
                        }
                    }
                }
            }
        };
        let (mut sum, mut n, mut cut) = (0u64, 0u64, false);
        // Moments about the piece's first block corner, so that the sums stay small.
        let (ox, oy) = ((comp[0] % bw) * b, (comp[0] / bw) * b);
        let mut m = [0f64; 5];
        each_above(&mut |x, y, v| {
            (sum, n) = (sum + u64::from(v), n + 1);
            cut |= at_field_edge(x, y);
            let (dx, dy) = (x as f64 - ox as f64, y as f64 - oy as f64);
            for (a, t) in m.iter_mut().zip([dx, dy, dx * dx, dy * dy, dx * dy]) {
                *a += t;
            }
        });
        if n == 0
            || cut
            || !marker_shaped(n as f64, m)
            || cluster.piece_mean_min.is_some_and(|m| (sum as f64) < m * n as f64)
            || lead_level.is_some_and(|lead| {
                let mut values = Vec::with_capacity(n as usize);
                each_above(&mut |_, _, v| values.push(v));
                let half = values.len() / 2;
                let median = *values.select_nth_unstable(half).1 as f64;
                median < lead - MARKER_LEVEL_REACH * (lead - cluster.from as f64).max(0.0)
            })
        {
            return;
        }
        each_above(&mut |_, _, v| h[v as usize] -= 1);
    });
}

/// The display level of the lead markers the spatial detection found ([`foreground::markers`](crate::foreground::markers)):
/// the median of `image` over the reduced blocks of `markers` (mask, reduced width, factor) with
/// the mask's growth by one block taken off. `None` when it found none.
pub fn marker_level(image: &[u16], width: usize, (mask, mw, mf): (&[bool], usize, usize)) -> Option<f64> {
    let (width, mw, mf) = (width.max(1), mw.max(1), mf.max(1));
    let (height, mh) = (image.len() / width, mask.len() / mw);
    let mut h = vec![0u64; OUTPUT_MAX as usize + 1];
    for by in 1..mh.saturating_sub(1) {
        for bx in 1..mw.saturating_sub(1) {
            if !(by - 1..=by + 1).all(|y| mask[y * mw + bx - 1..=y * mw + bx + 1].iter().all(|m| *m)) {
                continue;
            }
            for y in by * mf..((by + 1) * mf).min(height) {
                for x in bx * mf..((bx + 1) * mf).min(width) {
                    h[image[y * width + x].min(OUTPUT_MAX) as usize] += 1;
                }
            }
        }
    }
    quantile(&h, 0.5)
}

/// A piece of the top cluster is lead only when its median reaches within this share of the
/// cluster's depth (from its lower edge to the found markers' level) of the markers the spatial
/// detection found: all markers of a frame are the same lead. Bone where two bones cross is as
/// compact and as bright as the top cluster, but darker than the lead (development frames: the
/// crossing's median 0.40 and 0.65 of that depth below the markers' level, and the window clipped
/// the anatomy's 98th percentile).
pub const MARKER_LEVEL_REACH: f64 = 0.25;

/// `(center, width)` per DICOM PS3.3 C.11.2.1.2 (linear function): the window `[c − w/2, c + w/2]`
/// covers `[p2 − m, p98 + m]`, `m = WINDOW_MARGIN·(p98 − p2)` (within 0‥4095). `marker_level`:
/// see [`marker_level`].
pub fn window(image: &[u16], anatomy: &HalfMask, width: usize, marker_level: Option<f64>) -> (f64, f64) {
    let (mut h, block_max) = histogram(image, anatomy, width);
    if let Some(cluster) = top_cluster(&h) {
        drop_marker_pieces(&mut h, image, anatomy, &block_max, width, &cluster, marker_level);
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

#[cfg(test)]
mod tests {
    use super::*;

    const W: usize = 1024;
    /// The anatomy: a 200×200 square at (100, 100).
    const A0: usize = 100;
    const A1: usize = 300;

    fn anatomy() -> HalfMask {
        let hw = W / 2;
        let half = (0..hw * W / 2)
            .map(|i| (A0 / 2..A1 / 2).contains(&(i % hw)) && (A0 / 2..A1 / 2).contains(&(i / hw)))
            .collect();
        let spans = (0..W).map(|y| if (A0..A1).contains(&y) { (A0, A1) } else { (0, 0) }).collect();
        HalfMask { half, half_width: hw, spans, width: W }
    }

    struct Lcg(u64);
    impl Lcg {
        fn unit(&mut self) -> f64 {
            self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Tissue between 1200 and 2000, with `tail` of it thinning out up to 3300.
    fn tissue(tail: f64) -> Vec<u16> {
        let mut r = Lcg(7);
        let mut img = vec![0u16; W * W];
        for y in A0..A1 {
            for x in A0..A1 {
                let u = r.unit();
                img[y * W + x] =
                    if r.unit() < tail { 2000.0 + 1300.0 * u * u } else { 1200.0 + 800.0 * u }.round() as u16;
            }
        }
        img
    }

    /// Values 3150–3450 (a lead marker's or an implant's) where `inside(x, y)`.
    fn paint(img: &mut [u16], inside: impl Fn(f64, f64) -> bool) {
        let mut r = Lcg(11);
        for y in A0..A1 {
            for x in A0..A1 {
                if inside(x as f64, y as f64) {
                    img[y * W + x] = (3150.0 + 300.0 * r.unit()).round() as u16;
                }
            }
        }
    }

    fn marker(x: f64, y: f64) -> bool {
        (150.0..198.0).contains(&x) && (150.0..198.0).contains(&y)
    }

    /// Three bars 60 × 8 px turned by 45° (implants), apart, each within a marker's size.
    fn bars(x: f64, y: f64) -> bool {
        [(140.0, 150.0), (220.0, 150.0), (180.0, 250.0)].iter().any(|&(cx, cy)| {
            let (u, v) = ((x - cx + y - cy) / 2f64.sqrt(), (y - cy - x + cx) / 2f64.sqrt());
            u.abs() <= 30.0 && v.abs() <= 4.0
        })
    }

    fn window_top(img: &[u16]) -> f64 {
        window_top_with(img, None)
    }

    /// The window's top with the spatially found markers at `lead` (see [`marker_level`]).
    fn window_top_with(img: &[u16], lead: Option<f64>) -> f64 {
        let (c, w) = window(img, &anatomy(), W, lead);
        c - 0.5 + 0.5 * (w - 1.0)
    }

    /// The tissue with `piece` painted at a marker's values, and the 98th percentile of it all,
    /// which the piece sets (it is more than 2 % of the anatomy).
    fn tissue_with(piece: impl Fn(f64, f64) -> bool) -> (Vec<u16>, f64) {
        let mut img = tissue(0.03);
        paint(&mut img, piece);
        let all_p98 = p98(&img, |_, _| true);
        assert!(all_p98 >= 3150.0, "the piece is more than 2 % of the anatomy");
        (img, all_p98)
    }

    fn p98(img: &[u16], keep: impl Fn(f64, f64) -> bool) -> f64 {
        let mut h = vec![0u64; 4096];
        for y in A0..A1 {
            for x in A0..A1 {
                if keep(x as f64, y as f64) {
                    h[img[y * W + x] as usize] += 1;
                }
            }
        }
        quantile(&h, HIGH_PERCENTILE).unwrap()
    }

    #[test]
    fn a_marker_over_the_tissues_upper_tail_is_left_out_of_the_window() {
        let mut img = tissue(0.03);
        paint(&mut img, marker);
        let tissue_p98 = p98(&img, |x, y| !marker(x, y));
        let top = window_top(&img);
        assert!(top >= tissue_p98 && top < 3150.0, "window top {top}, tissue p98 {tissue_p98}");
    }

    #[test]
    fn implants_as_bright_as_a_marker_stay_in_the_window() {
        let (img, all_p98) = tissue_with(bars);
        assert!(window_top(&img) >= all_p98);
    }

    #[test]
    fn a_marker_sized_piece_the_field_cuts_stays_in_the_window() {
        // Dense tissue running on behind the blades: the same block as `marker`, at the edge.
        let at_edge = |x: f64, y: f64| (150.0..198.0).contains(&x) && (A0 as f64 + 4.0..A0 as f64 + 52.0).contains(&y);
        let (img, all_p98) = tissue_with(at_edge);
        assert!(window_top(&img) >= all_p98);
    }

    #[test]
    fn a_bright_piece_darker_than_the_markers_found_stays_in_the_window() {
        // `marker`'s block at 3150–3450 (bone where two bones cross), with lead markers found
        // elsewhere at 4095: not lead. At the found markers' own level, it would be one.
        let (img, all_p98) = tissue_with(marker);
        let top = window_top_with(&img, Some(4095.0));
        assert!(top >= all_p98, "window top {top}");
        let top = window_top_with(&img, Some(3300.0));
        assert!(top < 3150.0, "window top {top}");
    }

    #[test]
    fn the_marker_level_is_read_inside_the_grown_mask() {
        // A 64² frame on 8 × 8 reduced blocks of 8 px: the marker on blocks 2–4, grown to 1–5;
        // the grown ring at the tissue's 1000, the marker 3000.
        let (mw, mf) = (8usize, 8usize);
        let mask: Vec<bool> =
            (0..mw * mw).map(|i| (1..=5).contains(&(i % mw)) && (1..=5).contains(&(i / mw))).collect();
        let img: Vec<u16> = (0..64 * 64)
            .map(|i| if (16..40).contains(&(i % 64)) && (16..40).contains(&(i / 64)) { 3000 } else { 1000 })
            .collect();
        assert_eq!(marker_level(&img, 64, (&mask, mw, mf)), Some(3000.0));
        assert_eq!(marker_level(&img, 64, (&[false; 64], mw, mf)), None);
    }

    #[test]
    fn hot_pixels_at_the_top_do_not_hide_a_marker_below_them() {
        let mut img = tissue(0.0);
        paint(&mut img, marker);
        for k in 0..5 {
            img[(A0 + 3) * W + A0 + 40 * k] = 4095;
        }
        let top = window_top(&img);
        assert!(top < 2100.0, "window top {top}: the marker counted");
    }
}
