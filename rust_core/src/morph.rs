//! Binary morphology on small masks (the reduced and half-resolution images).

use rayon::prelude::*;

/// Binary dilation with a (2r+1)² square: each row ORed with its shifted copies, then each
/// output row with its 2r+1 neighbours. Whole-row boolean ORs vectorise, and rows run in
/// parallel; O(n·r), for the small radii the chain uses.
pub fn dilate(m: &[bool], w: usize, h: usize, r: usize) -> Vec<bool> {
    if w == 0 {
        return Vec::new();
    }
    let mut across = m.to_vec();
    across.par_chunks_mut(w).zip(m.par_chunks(w)).for_each(|(out, row)| {
        for d in 1..=r.min(w - 1) {
            for (o, v) in out[d..].iter_mut().zip(&row[..w - d]) {
                *o |= *v;
            }
            for (o, v) in out[..w - d].iter_mut().zip(&row[d..]) {
                *o |= *v;
            }
        }
    });
    let mut out = vec![false; w * h];
    out.par_chunks_mut(w).enumerate().for_each(|(y, orow)| {
        for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
            for (o, v) in orow.iter_mut().zip(&across[yy * w..(yy + 1) * w]) {
                *o |= *v;
            }
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Square dilation by its definition, pixel by pixel.
    fn reference(m: &[bool], w: usize, h: usize, r: usize) -> Vec<bool> {
        (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as isize, (i / w) as isize);
                let r = r as isize;
                (-r..=r).any(|dy| {
                    (-r..=r).any(|dx| {
                        let (xx, yy) = (x + dx, y + dy);
                        xx >= 0 && yy >= 0 && (xx as usize) < w && (yy as usize) < h && m[yy as usize * w + xx as usize]
                    })
                })
            })
            .collect()
    }

    #[test]
    fn dilation_matches_its_definition() {
        let (w, h) = (37, 23);
        // A scatter of points, one at each border and corner.
        let mut m = vec![false; w * h];
        for i in [0, w - 1, (h - 1) * w, w * h - 1, 5 * w + 9, 11 * w + 30, 20 * w + 2, 12 * w + 12] {
            m[i] = true;
        }
        for r in 0..4 {
            assert_eq!(dilate(&m, w, h, r), reference(&m, w, h, r), "r = {r}");
        }
        assert_eq!(dilate(&m, 1, w * h, 2), reference(&m, 1, w * h, 2), "one column");
    }
}
