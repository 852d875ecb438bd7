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

/// Calls `f(pixels, (x0, x1, y0, y1))` for each 8-connected component of `m` (`w`×`h`), in the
/// row-major order of their first pixels, with the component's inclusive bounding box.
pub fn components8(m: &[bool], w: usize, h: usize, mut f: impl FnMut(&[usize], (usize, usize, usize, usize))) {
    let mut seen = vec![false; w * h];
    let mut stack = Vec::new();
    let mut comp = Vec::new();
    for s in 0..w * h {
        if !m[s] || seen[s] {
            continue;
        }
        seen[s] = true;
        stack.push(s);
        comp.clear();
        let (mut x0, mut x1, mut y0, mut y1) = (w, 0, h, 0);
        while let Some(i) = stack.pop() {
            comp.push(i);
            let (x, y) = (i % w, i / w);
            (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
            for ny in y.saturating_sub(1)..(y + 2).min(h) {
                for nx in x.saturating_sub(1)..(x + 2).min(w) {
                    let j = ny * w + nx;
                    if m[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        f(&comp, (x0, x1, y0, y1));
    }
}

/// The principal second moments `(major, minor)` (variances along the axes of the equivalent
/// ellipse) of `n` pixels with sums `m = [Σx, Σy, Σx², Σy², Σxy]`.
pub fn moment_axes(n: f64, m: [f64; 5]) -> (f64, f64) {
    let (mx, my) = (m[0] / n, m[1] / n);
    let (sxx, syy, sxy) = (m[2] / n - mx * mx, m[3] / n - my * my, m[4] / n - mx * my);
    let (mid, half) = (0.5 * (sxx + syy), (0.25 * (sxx - syy).powi(2) + sxy * sxy).sqrt());
    (mid + half, (mid - half).max(0.0))
}

/// How much of its equivalent ellipse (same second moments) a piece of `n` pixels with sums
/// `m = [Σx, Σy, Σx², Σy², Σxy]` fills: a solid shape ≈ 0.95, a cross or a T far less. A uniform
/// ellipse of semi-axes a, b has second moments a²/4, b²/4: area 4π·√(major·minor).
pub fn ellipse_fill(n: f64, m: [f64; 5]) -> f64 {
    let (major, minor) = moment_axes(n, m);
    n / (4.0 * std::f64::consts::PI * (major * minor).sqrt()).max(f64::MIN_POSITIVE)
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

    #[test]
    fn components_are_8_connected_with_their_boxes() {
        // Two pieces: a diagonal (connected only through corners) and a lone pixel.
        let (w, h) = (6, 5);
        let mut m = vec![false; w * h];
        for i in [0, w + 1, 2 * w + 2, 4 * w + 5] {
            m[i] = true;
        }
        let mut found = Vec::new();
        components8(&m, w, h, |px, bbox| {
            let mut px = px.to_vec();
            px.sort_unstable();
            found.push((px, bbox));
        });
        assert_eq!(found, vec![(vec![0, w + 1, 2 * w + 2], (0, 2, 0, 2)), (vec![4 * w + 5], (5, 5, 4, 4))]);
    }
}
