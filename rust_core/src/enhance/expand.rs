//! Bilinear 2× expansion between pyramid levels (a level is the 2×2 box reduction of the one
//! above, so a coarse pixel's centre sits between two fine ones).

use crate::frame::Plane;

/// Bilinear 2× expansion tables: target index → (i0, i1, weight of i1).
pub fn up_table(n_target: usize, n_src: usize) -> Vec<(usize, usize, f32)> {
    (0..n_target)
        .map(|i| {
            let s = ((i as f32 - 0.5) * 0.5).clamp(0.0, (n_src - 1) as f32);
            let i0 = s.floor() as usize;
            let i1 = (i0 + 1).min(n_src - 1);
            (i0, i1, s - i0 as f32)
        })
        .collect()
}

/// `src` expanded 2× along the row into `out` (`out.len()` is `2n` or `2n − 1`): the weights of
/// `up_table` (0 at the first target, then 0.25 / 0.75 in turn, all exact in f32) written without
/// its per-pixel index gather, so the loop vectorises and gives the same values bit for bit.
#[inline(always)]
pub fn expand_row(src: &[f32], out: &mut [f32]) {
    let n = src.len();
    debug_assert!(out.len() == 2 * n || out.len() + 1 == 2 * n);
    out[0] = src[0];
    for (o, p) in out[1..].chunks_exact_mut(2).zip(src.windows(2)) {
        let (a, b) = (p[0], p[1]);
        o[0] = a + (b - a) * 0.25;
        o[1] = a + (b - a) * 0.75;
    }
    if out.len() == 2 * n {
        // Both table indices are the last source pixel: a + (a − a)·0.25 = a for finite values.
        out[2 * n - 1] = src[n - 1];
    }
}

/// One expanded row `y` of `src` at width `out.len()` (height table entry `ty`).
#[inline(always)]
pub fn up_row(src: &Plane, ty: &(usize, usize, f32), tmp: &mut [f32], out: &mut [f32]) {
    let (r0, r1, fy) = (src.row(ty.0), src.row(ty.1), ty.2);
    for ((t, a), b) in tmp.iter_mut().zip(r0).zip(r1) {
        *t = a + (b - a) * fy;
    }
    expand_row(tmp, out);
}

/// `up_row` of the product `src · weight`, without storing the product plane.
#[inline(always)]
pub fn up_row_weighted(src: &Plane, weight: &Plane, ty: &(usize, usize, f32), tmp: &mut [f32], out: &mut [f32]) {
    let (r0, r1, fy) = (src.row(ty.0), src.row(ty.1), ty.2);
    let (w0, w1) = (weight.row(ty.0), weight.row(ty.1));
    for ((((t, a), b), wa), wb) in tmp.iter_mut().zip(r0).zip(r1).zip(w0).zip(w1) {
        let (a, b) = (a * wa, b * wb);
        *t = a + (b - a) * fy;
    }
    expand_row(tmp, out);
}
