//! Raw-frame checks and the small image containers the stages share.
//!
//! A raw frame is a 2-D `u16` array of at least `MIN_SIDE` pixels per side and at most
//! `MAX_SIDE` per side / `MAX_PIXELS` in total. The pure API takes row-major slices; the Python
//! wrapper makes the one documented copy when NumPy hands it a non-contiguous array.

use rayon::prelude::*;

use crate::error::{CoreError, CoreResult};
use crate::put::par_chunks_new;
use crate::simd;

/// Smallest side accepted: below this the multi-scale and collimation stages have nothing to work on.
pub const MIN_SIDE: usize = 64;
/// Largest side accepted (well above the 4288 px of a 43 cm × 35 cm flat panel).
pub const MAX_SIDE: usize = 16_384;
/// Largest frame accepted (≈ 256 MiB of raw data), so one call cannot exhaust memory.
pub const MAX_PIXELS: usize = 1 << 27;

/// Checks the shape rules; the error message names the rule that was broken.
pub fn check_shape(height: usize, width: usize) -> CoreResult<()> {
    if height == 0 || width == 0 {
        return Err(CoreError::InvalidArgument(format!("raw frame is empty (shape {height}x{width})")));
    }
    if height < MIN_SIDE || width < MIN_SIDE {
        return Err(CoreError::InvalidArgument(format!(
            "raw frame {height}x{width} is too small: each side must be at least {MIN_SIDE} pixels"
        )));
    }
    if height > MAX_SIDE || width > MAX_SIDE || height * width > MAX_PIXELS {
        return Err(CoreError::InvalidArgument(format!(
            "raw frame {height}x{width} is too large: at most {MAX_SIDE} pixels per side and {MAX_PIXELS} pixels in total"
        )));
    }
    Ok(())
}

/// A validated, row-major raw frame borrowed from the caller, and the rows that replace its dead
/// readout lines, if any (`with_patch`): its pixels are read through `row` and `get`.
#[derive(Clone, Copy)]
pub struct Frame<'a> {
    data: &'a [u16],
    pub width: usize,
    pub height: usize,
    patch: Option<&'a RowPatch>,
}

/// Repaired rows of a frame whose only dead readout lines are rows (the common defect): the
/// frame is read through them instead of being copied whole.
pub struct RowPatch {
    /// Index of each frame row's repaired row in `rows`, or `NOT_PATCHED`.
    index: Vec<u32>,
    rows: Vec<u16>,
}

const NOT_PATCHED: u32 = u32::MAX;

/// What `repair_dead_lines` made: repaired rows, or (when columns are dead too) a repaired copy.
pub enum Repair {
    Rows(RowPatch),
    Copy(Vec<u16>),
}

impl<'a> Frame<'a> {
    pub fn new(data: &'a [u16], height: usize, width: usize) -> CoreResult<Self> {
        check_shape(height, width)?;
        if data.len() != height * width {
            return Err(CoreError::InvalidArgument(format!(
                "raw buffer holds {} values, shape {height}x{width} needs {}",
                data.len(),
                height * width
            )));
        }
        Ok(Frame { data, width, height, patch: None })
    }

    /// This frame read with `patch`'s rows in place of its own (same width and height).
    pub fn with_patch(self, patch: &'a RowPatch) -> Frame<'a> {
        debug_assert!(patch.index.len() == self.height && patch.rows.len() % self.width == 0);
        Frame { patch: Some(patch), ..self }
    }

    #[inline]
    pub fn row(&self, y: usize) -> &'a [u16] {
        let w = self.width;
        match self.patch {
            Some(p) if p.index[y] != NOT_PATCHED => {
                let k = p.index[y] as usize;
                &p.rows[k * w..(k + 1) * w]
            }
            _ => &self.data[y * w..(y + 1) * w],
        }
    }

    #[inline]
    pub fn get(&self, x: usize, y: usize) -> u16 {
        self.row(y)[x]
    }
}

/// A row-major `f32` image.
#[derive(Clone, Debug)]
pub struct Plane {
    pub data: Vec<f32>,
    pub width: usize,
    pub height: usize,
}

impl Plane {
    pub fn zeros(width: usize, height: usize) -> Self {
        Plane { data: vec![0.0; width * height], width, height }
    }

    #[inline]
    pub fn at(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.width + x]
    }

    #[inline]
    pub fn row(&self, y: usize) -> &[f32] {
        &self.data[y * self.width..(y + 1) * self.width]
    }

    /// Bilinear sample at `(x, y)`, clamped to the border.
    #[inline]
    pub fn bilinear(&self, x: f64, y: f64) -> f64 {
        let xm = (self.width - 1) as f64;
        let ym = (self.height - 1) as f64;
        let x = x.clamp(0.0, xm);
        let y = y.clamp(0.0, ym);
        let x0 = x.floor() as usize;
        let y0 = y.floor() as usize;
        let x1 = (x0 + 1).min(self.width - 1);
        let y1 = (y0 + 1).min(self.height - 1);
        let fx = x - x0 as f64;
        let fy = y - y0 as f64;
        let a = self.at(x0, y0) as f64 * (1.0 - fx) + self.at(x1, y0) as f64 * fx;
        let b = self.at(x0, y1) as f64 * (1.0 - fx) + self.at(x1, y1) as f64 * fx;
        a * (1.0 - fy) + b * fy
    }

    /// Box average over `factor × factor` blocks (partial blocks at the far edges average what they have).
    pub fn downsample_box(&self, factor: usize) -> Plane {
        let factor = factor.max(1);
        let w2 = self.width.div_ceil(factor);
        let h2 = self.height.div_ceil(factor);
        let mut out = vec![0.0f32; w2 * h2];
        // Sums in f64, each block row by row and left to right: the order (hence the rounding) of
        // a per-pixel accumulation, without its per-pixel index division.
        out.par_chunks_mut(w2).enumerate().for_each_init(
            || vec![0.0f64; w2],
            |acc, (j, orow)| {
                simd::wide(
                    #[inline(always)]
                    || {
                        let y0 = j * factor;
                        let y1 = (y0 + factor).min(self.height);
                        acc.fill(0.0);
                        for y in y0..y1 {
                            let r = self.row(y);
                            // The common factors with a constant block width, so each block's sum
                            // unrolls and the loop over blocks vectorises.
                            match factor {
                                2 => add_blocks::<2>(acc, r),
                                3 => add_blocks::<3>(acc, r),
                                4 => add_blocks::<4>(acc, r),
                                6 => add_blocks::<6>(acc, r),
                                _ => {
                                    for (a, block) in acc.iter_mut().zip(r.chunks(factor)) {
                                        for v in block {
                                            *a += *v as f64;
                                        }
                                    }
                                }
                            }
                        }
                        let rows = (y1 - y0) as f64;
                        for (i, (o, a)) in orow.iter_mut().zip(acc.iter()).enumerate() {
                            let cols = (self.width - i * factor).min(factor) as f64;
                            *o = (a / (rows * cols)) as f32;
                        }
                    },
                )
            },
        );
        Plane { data: out, width: w2, height: h2 }
    }
}

/// `acc[i] += r[F·i] + … + r[F·i + F − 1]`, added one by one in that order, in f64; a partial
/// block at the row's end adds what it has.
#[inline(always)]
fn add_blocks<const F: usize>(acc: &mut [f64], r: &[f32]) {
    let whole = r.chunks_exact(F);
    let rest = whole.remainder();
    for (a, p) in acc.iter_mut().zip(whole) {
        *a = p.iter().fold(*a, |s, v| s + *v as f64);
    }
    if let Some(a) = acc.get_mut(r.len() / F).filter(|_| !rest.is_empty()) {
        *a = rest.iter().fold(*a, |s, v| s + *v as f64);
    }
}

/// `ln(max(v, 1))` for every 16-bit value, indexed by the value itself: a fixed size, so a
/// `u16` index needs no bounds check in the loops that read it per pixel.
pub type LogLut = [f32; 1 << 16];

/// `ln(max(v, 1))` for every 16-bit value: dead (zero) pixels stay finite.
pub fn log_lut() -> Box<LogLut> {
    let mut lut = Box::new([0.0f32; 1 << 16]);
    for (v, l) in lut.iter_mut().enumerate() {
        *l = (v.max(1) as f32).ln();
    }
    lut
}

/// First pyramid level: `ln(raw)` low-passed by the binomial kernel `[1 3 3 1]/8` along each axis
/// and taken at every second pixel, half resolution (rounded up), centred where a 2×2 block's
/// centre is. A 2×2 box mean passes a quarter of a pattern at 0.42 cycles/pixel (stationary grid
/// lines), which then folds to 0.08 cycles/pixel and comes back from the pyramid as moiré; this
/// kernel passes 1.6 % of it (|H| = cos³(πf)). Borders repeat the edge pixel.
pub fn half_log(frame: &Frame<'_>, lut: &LogLut) -> Plane {
    let w2 = frame.width.div_ceil(2);
    let h2 = frame.height.div_ceil(2);
    let (w, h) = (frame.width, frame.height);
    // Rows in bands, so each raw row is read, logged and filtered along x once (output row j
    // reads raw rows 2j−1 … 2j+2, which it shares two by two with its neighbours); only a band's
    // first output row filters all four.
    const BAND: usize = 16;
    let out = par_chunks_new(
        w2 * h2,
        w2 * BAND,
        || (HalfRow::new(w), [vec![0.0f32; w2], vec![0.0f32; w2], vec![0.0f32; w2], vec![0.0f32; w2]]),
        |(row, hs), band, orows| {
            simd::wide(
                #[inline(always)]
                || {
                    let raw_row = |k: isize| frame.row(k.clamp(0, h as isize - 1) as usize);
                    for (jj, orow) in orows.chunks_mut(w2).enumerate() {
                        let j = (band * BAND + jj) as isize;
                        if jj == 0 {
                            for (k, hk) in hs.iter_mut().enumerate() {
                                row.filter(raw_row(2 * j - 1 + k as isize), lut, hk);
                            }
                        } else {
                            hs.rotate_left(2);
                            let [.., h2r, h3r] = hs;
                            row.filter(raw_row(2 * j + 1), lut, h2r);
                            row.filter(raw_row(2 * j + 2), lut, h3r);
                        }
                        let [a, b, c, d] = &*hs;
                        for ((((o, a), b), c), d) in orow.iter_mut().zip(a).zip(b).zip(c).zip(d) {
                            *o = (((a + 3.0 * b) + 3.0 * c) + d) * (1.0 / 64.0);
                        }
                    }
                },
            )
        },
    );
    Plane { data: out, width: w2, height: h2 }
}

/// One raw row's log, filtered along x by [1 3 3 1] at every second column, edges repeated.
/// The log is kept as its even and odd columns of the edge-padded row (`even[k]` = raw column
/// 2k−1, `odd[k]` = raw column 2k), so the filter reads both contiguously and vectorises.
struct HalfRow {
    even: Vec<f32>,
    odd: Vec<f32>,
}

impl HalfRow {
    fn new(w: usize) -> Self {
        let n = w.div_ceil(2) + 1;
        HalfRow { even: vec![0.0f32; n], odd: vec![0.0f32; n] }
    }

    #[inline(always)]
    fn filter(&mut self, row: &[u16], lut: &LogLut, out: &mut [f32]) {
        let (even, odd) = (&mut self.even, &mut self.odd);
        let last = lut[row[row.len() - 1] as usize];
        even[0] = lut[row[0] as usize];
        let pairs = row.len() / 2;
        for ((o, e), p) in odd.iter_mut().zip(even[1..].iter_mut()).zip(row.chunks_exact(2)) {
            *o = lut[p[0] as usize];
            *e = lut[p[1] as usize];
        }
        odd[pairs..].fill(last);
        even[pairs + 1..].fill(last);
        // output i reads raw columns 2i-1 .. 2i+2
        for (i, o) in out.iter_mut().enumerate() {
            *o = even[i] + 3.0 * (odd[i] + even[i + 1]) + odd[i + 1];
        }
    }
}

/// A dead row's replacement: the mean of the good rows either side, rounded down.
fn mean_of_rows(ra: &[u16], rb: &[u16], out: &mut [u16]) {
    for ((o, a), b) in out.iter_mut().zip(ra).zip(rb) {
        *o = ((*a as u32 + *b as u32) / 2) as u16;
    }
}

/// Smallest even reduction factor that brings the longest side to at most `target` pixels.
pub fn lowres_factor(width: usize, height: usize, target: usize) -> usize {
    let m = width.max(height);
    let f = m.div_ceil(target.max(1)).max(2);
    f + (f % 2)
}

/// Rows/columns of which at least half the pixels read 0 or 65535 are dead readout lines, each
/// replaced by the mean of its nearest good neighbours. Returns the repaired rows when only rows
/// are dead (read through `Frame::with_patch`: no copy of the frame), a repaired copy of the
/// frame when columns are dead too, or `None` when nothing is dead. A frame where more than a
/// tenth of the lines qualify is left alone: that is a blank or saturated frame, not a defect.
pub fn repair_dead_lines(frame: &Frame<'_>) -> Option<Repair> {
    let (w, h) = (frame.width, frame.height);
    // 0 and 65535 are the two values that wrap to 0 and 1 when one is added.
    let is_bad = |v: u16| v.wrapping_add(1) <= 1;
    let (row_bad, col_bad) = (0..h)
        .into_par_iter()
        .fold(
            || (Vec::new(), vec![0u32; w]),
            |(mut rows, mut cols), y| {
                // One counter width (u32) for both sums, so the loop vectorises.
                let n = simd::wide(
                    #[inline(always)]
                    || {
                        let mut n = 0u32;
                        for (c, v) in cols.iter_mut().zip(frame.row(y)) {
                            let b = is_bad(*v) as u32;
                            *c += b;
                            n += b;
                        }
                        n
                    },
                );
                rows.push((y, n as usize));
                (rows, cols)
            },
        )
        .reduce(
            || (Vec::new(), vec![0u32; w]),
            |(mut ra, mut ca), (rb, cb)| {
                ra.extend(rb);
                for (a, b) in ca.iter_mut().zip(cb) {
                    *a += b;
                }
                (ra, ca)
            },
        );
    let mut dead_rows = vec![false; h];
    for (y, n) in row_bad {
        dead_rows[y] = 2 * n >= w;
    }
    let dead_cols: Vec<bool> = col_bad.iter().map(|&n| 2 * n as usize >= h).collect();
    let (nr, nc) = (dead_rows.iter().filter(|d| **d).count(), dead_cols.iter().filter(|d| **d).count());
    if nr + nc == 0 || nr * 10 > h || nc * 10 > w {
        return None;
    }
    // Nearest good index on each side (or the other side only, at the borders).
    let neighbours = |dead: &[bool]| -> Vec<(usize, usize)> {
        let n = dead.len();
        (0..n)
            .map(|i| {
                let lo = (0..i).rev().find(|&j| !dead[j]);
                let hi = (i + 1..n).find(|&j| !dead[j]);
                match (lo, hi) {
                    (Some(a), Some(b)) => (a, b),
                    (Some(a), None) => (a, a),
                    (None, Some(b)) => (b, b),
                    (None, None) => (i, i),
                }
            })
            .collect()
    };
    let cn = neighbours(&dead_cols);
    let rn = neighbours(&dead_rows);
    let dead_col_list: Vec<usize> = (0..w).filter(|&x| dead_cols[x]).collect();
    if dead_col_list.is_empty() {
        let mut index = vec![NOT_PATCHED; h];
        let mut rows = Vec::with_capacity(nr * w);
        for y in (0..h).filter(|&y| dead_rows[y]) {
            index[y] = (rows.len() / w) as u32;
            let (a, b) = rn[y];
            rows.resize(rows.len() + w, 0);
            let k = rows.len() - w;
            mean_of_rows(frame.row(a), frame.row(b), &mut rows[k..]);
        }
        return Some(Repair::Rows(RowPatch { index, rows }));
    }
    // The copy is made row by row in the repair pass: both threads share it and its page faults.
    let out = par_chunks_new(
        w * h,
        w,
        || (),
        |_, y, row| {
            if dead_rows[y] {
                let (a, b) = rn[y];
                mean_of_rows(frame.row(a), frame.row(b), row);
            } else {
                row.copy_from_slice(frame.row(y));
            }
            for &x in &dead_col_list {
                let (a, b) = cn[x];
                row[x] = ((row[a] as u32 + row[b] as u32) / 2) as u16;
            }
        },
    );
    Some(Repair::Copy(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_rows_are_read_through_a_patch_and_dead_columns_repaired_in_a_copy() {
        let (w, h) = (70, 66);
        let base: Vec<u16> = (0..w * h).map(|i| (1000 + (i % w) * 7 + (i / w) * 13) as u16).collect();
        // Rows 3 and 4 dead (neighbours 2 and 5), and the last row (only neighbour above).
        let mut raw = base.clone();
        for y in [3, 4, h - 1] {
            raw[y * w..(y + 1) * w].fill(0);
        }
        let frame = Frame::new(&raw, h, w).expect("frame");
        let Some(Repair::Rows(patch)) = repair_dead_lines(&frame) else { panic!("dead rows give a row patch") };
        let read = frame.with_patch(&patch);
        for y in 0..h {
            let want: Vec<u16> = match y {
                3 | 4 => (0..w).map(|x| ((base[2 * w + x] as u32 + base[5 * w + x] as u32) / 2) as u16).collect(),
                y if y == h - 1 => base[(h - 2) * w..(h - 1) * w].to_vec(),
                y => base[y * w..(y + 1) * w].to_vec(),
            };
            assert_eq!(read.row(y), &want[..], "row {y}");
            assert_eq!(read.get(7, y), want[7], "pixel (7, {y})");
        }
        // A dead column as well: a repaired copy, the column the mean of its neighbours' repaired values.
        for y in 0..h {
            raw[y * w + 10] = 65535;
        }
        let frame = Frame::new(&raw, h, w).expect("frame");
        let Some(Repair::Copy(copy)) = repair_dead_lines(&frame) else { panic!("a dead column gives a copy") };
        let read = Frame::new(&copy, h, w).expect("copy");
        assert_eq!(read.row(3)[0], ((base[2 * w] as u32 + base[5 * w] as u32) / 2) as u16);
        for y in [0, 3, 30] {
            let r = read.row(y);
            assert_eq!(r[10], ((r[9] as u32 + r[11] as u32) / 2) as u16, "row {y}");
        }
        // Nothing dead: nothing to repair.
        assert!(repair_dead_lines(&Frame::new(&base, h, w).expect("frame")).is_none());
    }

    #[test]
    fn box_reduction_adds_each_block_in_pixel_order() {
        // Against the plain per-pixel accumulation (row by row, left to right, in f64), bit for
        // bit, for the factors with an unrolled block sum and one without, on widths and heights
        // that leave partial blocks.
        let mut seed = 99u64;
        for (w, h) in [(13, 7), (64, 64), (100, 37)] {
            let data: Vec<f32> = (0..w * h)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (seed >> 40) as f32 * 1e-3 - 3.0
                })
                .collect();
            let plane = Plane { data, width: w, height: h };
            for factor in 1..=7 {
                let got = plane.downsample_box(factor);
                let (w2, h2) = (w.div_ceil(factor), h.div_ceil(factor));
                assert_eq!((got.width, got.height), (w2, h2));
                for j in 0..h2 {
                    for i in 0..w2 {
                        let (mut acc, mut n) = (0.0f64, 0usize);
                        for y in j * factor..((j + 1) * factor).min(h) {
                            for x in i * factor..((i + 1) * factor).min(w) {
                                acc += plane.at(x, y) as f64;
                                n += 1;
                            }
                        }
                        let want = (acc / n as f64) as f32;
                        assert_eq!(got.at(i, j).to_bits(), want.to_bits(), "{w}×{h} factor {factor} block ({i}, {j})");
                    }
                }
            }
        }
    }
}
