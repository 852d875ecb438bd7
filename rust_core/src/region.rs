//! Regions of a frame (the anatomy the window and EI are taken over), read a row at a time.
//!
//! The chain's anatomy is a half-resolution decision cut to the field's rows: holding it at full
//! resolution cost half a frame of peak memory for what a row expansion gives back on demand.

use crate::put::Put;

/// Pixel `(x, y)` is in the region when `x` lies in `spans[y]` and the half-resolution pixel
/// `(x / 2, y / 2)` is set: the nearest-neighbour expansion of `half`, cut to the spans.
pub struct HalfMask {
    pub half: Vec<bool>,
    pub half_width: usize,
    /// One per full-resolution row; `x1 < x0` counts as empty.
    pub spans: Vec<(usize, usize)>,
    pub width: usize,
}

impl HalfMask {
    /// `[x0, x1)`: row `y` holds no region pixel outside it.
    pub fn span(&self, y: usize) -> (usize, usize) {
        let (a, b) = self.spans[y];
        (a.min(self.width), b.max(a).min(self.width))
    }
    /// Row `y`, all of its width, built in `buf` (at least the frame's width): true where the
    /// region holds the pixel.
    pub fn row<'a>(&self, y: usize, buf: &'a mut [bool]) -> &'a [bool] {
        let buf = &mut buf[..self.width];
        expand_row(&self.half[(y / 2) * self.half_width..][..self.half_width], self.span(y), buf);
        buf
    }
    pub fn contains(&self, x: usize, y: usize) -> bool {
        let (a, b) = self.span(y);
        (a..b).contains(&x) && self.half[(y / 2) * self.half_width + x / 2]
    }
}

/// Writes every pixel of a full-resolution row `out`: within `[a, b)` pixel `x` from the
/// half-resolution row's pixel `x / 2`, false outside. `a ≤ b ≤ out.len()`.
#[inline]
pub fn expand_row<P: Put<bool>>(half: &[bool], (a, b): (usize, usize), out: &mut [P]) {
    // Two loops, not one chained iterator: each is then a plain fill.
    for p in &mut out[..a] {
        p.put(false);
    }
    for p in &mut out[b..] {
        p.put(false);
    }
    // Pairs of pixels from one half-resolution pixel, an odd pixel at either end.
    let even = (a + a % 2).min(b);
    if a < even {
        out[a].put(half[a / 2]);
    }
    let pairs = (b - even) / 2;
    for (pair, v) in out[even..even + 2 * pairs].chunks_exact_mut(2).zip(&half[even / 2..]) {
        // Element by element: `fill` on each pair costs a call per pair.
        pair[0].put(*v);
        pair[1].put(*v);
    }
    let end = even + 2 * pairs;
    if end < b {
        out[end].put(half[end / 2]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_half_mask_reads_as_its_expansion_cut_to_the_spans() {
        let (w, h, hw) = (7usize, 5usize, 4usize);
        let half: Vec<bool> = (0..hw * h.div_ceil(2)).map(|i| i % 3 != 1).collect();
        let spans = vec![(0, 7), (2, 5), (3, 3), (6, 2), (1, 6)];
        let m = HalfMask { half: half.clone(), half_width: hw, spans: spans.clone(), width: w };
        let mut buf = vec![true; w];
        for y in 0..h {
            let row = m.row(y, &mut buf).to_vec();
            for x in 0..w {
                let inside = spans[y].0 <= x && x < spans[y].1;
                let want = inside && half[(y / 2) * hw + x / 2];
                assert_eq!(row[x], want, "({x}, {y})");
                assert_eq!(m.contains(x, y), want, "({x}, {y})");
                if !inside {
                    assert!(x < m.span(y).0 || x >= m.span(y).1 || m.span(y).0 == m.span(y).1);
                }
            }
        }
    }
}
